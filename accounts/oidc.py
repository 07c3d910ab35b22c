"""Single sign-on with OpenID Connect, on django-allauth's openid_connect provider.

allauth finds the provider by discovery, runs the authorization code flow with PKCE and checks
the ID token's issuer, audience and expiry. It skips the token's signature when the token came
straight from the token endpoint over TLS, as OpenID Connect Core allows; a security office asks
for the signature to be checked all the same, so the login and callback views here are allauth's
with an adapter that always checks it against the provider's published keys (jwks_uri).

What the provider asserts about the user (claims) is read here for accounts.adapters.
"""

from __future__ import annotations

import logging

import requests
from allauth.socialaccount.models import SocialApp, SocialLogin
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import urlencode

from .models import Team


class SignatureCheckingAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app: SocialApp, id_token: str) -> dict:
        self.did_fetch_access_token = False  # check the signature even over TLS (module docstring)
        return super()._decode_id_token(app, id_token)


@login_not_required
def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        return OAuth2LoginView.adapter_view(SignatureCheckingAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404("Single sign-on is not configured.") from None


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        return OAuth2CallbackView.adapter_view(SignatureCheckingAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404("Single sign-on is not configured.") from None


SESSION_KEY = "_signed_in_by_sso"
log = logging.getLogger(__name__)


def configured_app() -> dict | None:
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS") or []
    return apps[0] if apps else None


def end_session_url(request: HttpRequest) -> str | None:
    """Where to sign out at the provider too (RP-Initiated Logout: its end_session_endpoint, from
    discovery, cached for an hour), coming back to the login page; None if it has none."""
    app = configured_app()
    if app is None:
        return None
    discovery = f"{app['settings']['server_url']}/.well-known/openid-configuration"
    endpoint = cache.get(f"oidc:end_session:{discovery}")
    if endpoint is None:
        try:
            response = requests.get(discovery, timeout=5)
            response.raise_for_status()
            endpoint = response.json().get("end_session_endpoint") or ""
        except (requests.RequestException, ValueError):
            log.warning("OpenID Connect discovery failed at %s: signed out here only", discovery)
            return None
        cache.set(f"oidc:end_session:{discovery}", endpoint, 3600)
    if not endpoint:
        return None
    back = request.build_absolute_uri(reverse("login"))
    return f"{endpoint}?{urlencode({'client_id': app['client_id'], 'post_logout_redirect_uri': back})}"


def configured_name() -> str | None:
    """The provider's name for "Sign in with <name>", or None when single sign-on is off."""
    app = configured_app()
    return app["name"] if app else None


def claims(sociallogin: SocialLogin) -> dict:
    """The ID token's claims, with the userinfo endpoint's answer over them."""
    data = sociallogin.account.extra_data or {}
    return {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}


def id_token_claims(sociallogin: SocialLogin) -> dict:
    return (sociallogin.account.extra_data or {}).get("id_token") or {}


def email_verified(values: dict) -> bool:
    verified = values.get("email_verified")
    if isinstance(verified, str):
        return verified.lower() == "true"
    return verified is True


def asserted_second_factor(sociallogin: SocialLogin) -> bool:
    """The provider says the user gave a second factor: `amr` of the ID token contains "mfa"."""
    amr = id_token_claims(sociallogin).get("amr") or []
    return "mfa" in (amr if isinstance(amr, list) else [amr])


def mapped_role_and_team(values: dict) -> tuple[str, Team | None] | None:
    """(role, team) of the first value of OIDC_ROLE_CLAIM that OIDC_ROLE_MAP knows; the team is
    None when the map names none, or one that does not exist."""
    if not settings.OIDC_ROLE_CLAIM:
        return None
    raw = values.get(settings.OIDC_ROLE_CLAIM)
    for value in raw if isinstance(raw, list) else [raw]:
        mapping = settings.OIDC_ROLE_MAP.get(str(value)) if value is not None else None
        if mapping:
            return mapping["role"], Team.objects.filter(name=mapping.get("team", "")).first()
    return None
