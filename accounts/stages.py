"""The second-factor step of allauth's sign-in, skipped when the identity provider asserted a second
factor for this very sign-in (`amr` of its ID token)."""

from __future__ import annotations

from allauth.mfa.stages import AuthenticateStage

from .oidc import asserted_second_factor


class SecondFactorStage(AuthenticateStage):
    def _should_handle(self, request) -> bool:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        if sociallogin is not None and asserted_second_factor(sociallogin):
            return False
        return super()._should_handle(request)
