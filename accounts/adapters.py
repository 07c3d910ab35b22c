"""django-allauth adapters: nobody signs up on their own; a first enrolment of a second factor
right after the password does not ask for the password again; single sign-on's rules."""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render

from . import oidc, services
from .models import SecurityEvent, User
from .security import has_second_factor, record, second_factor_passed_at


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Users are invited by an administrator or their manager (accounts.views.users).
        return False

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        # "Successfully signed in as ..." on every sign-in, and its sign-out twin, say nothing.
        if message_template in ("account/messages/logged_in.txt", "account/messages/logged_out.txt"):
            return
        super().add_message(request, level, message_template, message_context, extra_tags, message)

    def get_login_stages(self) -> list[str]:
        stages = super().get_login_stages()
        return [
            "accounts.stages.SecondFactorStage" if s == "allauth.mfa.stages.AuthenticateStage" else s for s in stages
        ]

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Changing a second factor asks for the password or a code again, unless this session
        passed its second factor in the last few minutes (ACCOUNT_REAUTHENTICATION_TIMEOUT: the
        recovery codes shown right after enrolment). Enrolling the first one does not ask: the
        session has just given the password, and there is nothing stronger to protect yet."""
        request, user = self.request, getattr(self.request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            passed = second_factor_passed_at(request, user)
            if passed and time.time() - passed < account_settings.REAUTHENTICATION_TIMEOUT:
                return False
            if not has_second_factor(user):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)


def refuse(request: HttpRequest, reason: str, *, username: str = "", user=None, status: int = 403):
    """Stop a single sign-on with a page that says why; nobody is signed in."""
    record(SecurityEvent.Kind.SSO_REFUSED, request=request, user=user, username=username, detail=reason)
    return ImmediateHttpResponse(
        render(
            request, "accounts/sso_refused.html", {"title": "Single sign-on refused", "reason": reason}, status=status
        )
    )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on (accounts.oidc): a user is matched by the provider's verified email, created
    only with OIDC_CREATE_USERS, given role and team from OIDC_ROLE_CLAIM; a second factor the
    provider asserts (`amr`) counts as this session's."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:
        return settings.OIDC_CREATE_USERS

    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        values = oidc.claims(sociallogin)
        email = (values.get("email") or "").strip()
        if not email or not oidc.email_verified(values):
            raise refuse(request, "The identity provider did not confirm your email address.", username=email)
        if sociallogin.is_existing:
            user = sociallogin.user
        else:
            user = User.objects.filter(email__iexact=email).order_by("-is_active", "pk").first()
            if user is None and not settings.OIDC_CREATE_USERS:
                raise refuse(
                    request,
                    f"There is no Liaison CRM account for {email}. Ask an administrator to invite you.",
                    username=email,
                )
            if user is not None:
                sociallogin.connect(request, user)
        if user is not None and not user.is_active:
            raise refuse(request, "Your account is deactivated.", user=user)
        mapped = oidc.mapped_role_and_team(values)
        if user is not None and user.pk and mapped:
            services.assign_from_identity_provider(user=user, role=mapped[0], team=mapped[1])
        request.signed_in_by_sso = True  # accounts.security.on_signed_in logs it as such

    def populate_user(self, request: HttpRequest, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        values = oidc.claims(sociallogin)
        user.username = user.username or values.get("preferred_username") or ""
        # Until the claim or an admin says otherwise: an MSL with no team, who waits for access.
        user.role, user.team = oidc.mapped_role_and_team(values) or (User.Role.MSL, None)
        return user

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        detail = str(exception) if exception else str(error or "unknown error")
        raise refuse(request, f"The sign-in could not be verified ({detail}).", status=400)
