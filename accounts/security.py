"""The security log, and the second-factor requirement of MFA_REQUIRED_ROLES.

Sign-in events come from the signals of Django (signed in, out, failed), django-axes (locked
out) and django-allauth (second factors, sessions); `record()` writes one SecurityEvent each.
The receivers are connected in AccountsConfig.ready().
"""

from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

from .models import SecurityEvent, User

Kind = SecurityEvent.Kind

# Set in a session that passed a second factor (at sign-in, at enrolment, or asserted by the
# identity provider), as [user id, time]: SecondFactorMiddleware lets it through without a query.
# The user id binds it to whom it was given for: a flag left in a session whose sign-in never
# finished counts for nobody else.
SECOND_FACTOR_SESSION_KEY = "_second_factor"


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as django-axes sees it (AXES_IPWARE_PROXY_COUNT), so the log and the
    lockout name the same address."""
    if request is None:
        return None
    return get_client_ip_address(request) or None


def record(
    kind: str,
    *,
    request: HttpRequest | None = None,
    user: User | None = None,
    username: str = "",
    actor: User | None = None,
    detail: str = "",
) -> SecurityEvent:
    agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    return SecurityEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        username=(username or (user.username if user is not None else ""))[:150],
        actor=actor,
        ip=client_ip(request),
        user_agent=agent[:300],
        detail=detail[:500],
    )


# --- the second-factor requirement ------------------------------------------------------------


def second_factor_required(user: User) -> bool:
    return user.is_authenticated and user.role in settings.MFA_REQUIRED_ROLES


# What counts as a second factor: an authenticator app or a security key (recovery codes only
# back them up).
SECOND_FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_second_factor(user: User) -> bool:
    return is_mfa_enabled(user, SECOND_FACTOR_TYPES)


def mark_second_factor_passed(request: HttpRequest, user: User) -> None:
    request.session[SECOND_FACTOR_SESSION_KEY] = [user.pk, time.time()]


def second_factor_passed_at(request: HttpRequest, user: User) -> float | None:
    """When this session passed `user`'s second factor, or None."""
    value = request.session.get(SECOND_FACTOR_SESSION_KEY)
    if isinstance(value, list) and len(value) == 2 and value[0] == user.pk:
        return value[1]
    return None


def second_factor_passed(request: HttpRequest) -> bool:
    return second_factor_passed_at(request, request.user) is not None


# --- receivers ------------------------------------------------------------------------------------


def on_signed_in(sender, request, user, **kwargs) -> None:
    sso = getattr(request, "signed_in_by_sso", False)
    record(Kind.SSO_SIGNED_IN if sso else Kind.SIGNED_IN, request=request, user=user)


def on_signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(Kind.SIGNED_OUT, request=request, user=user)


def on_sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    if credentials.get("second_factor"):
        return  # recorded as SECOND_FACTOR_FAILED by on_second_factor_failed
    username = credentials.get("username", "")
    record(Kind.SIGN_IN_FAILED, request=request, username=username, user=User.objects.filter(username=username).first())


def on_locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    username = username or ""
    record(Kind.LOCKED_OUT, request=request, username=username, user=User.objects.filter(username=username).first())


def on_second_factor_failed(sender, request, user, authenticator=None, **kwargs) -> None:
    """A wrong code counts towards the lockout as a wrong password does (django-axes)."""
    record(Kind.SECOND_FACTOR_FAILED, request=request, user=user)
    user_login_failed.send(
        sender=__name__, credentials={"username": user.username, "second_factor": True}, request=request
    )


def on_second_factor_used(sender, request, user, authenticator=None, **kwargs) -> None:
    mark_second_factor_passed(request, user)


def on_allauth_signed_in(sender, request, user, sociallogin=None, **kwargs) -> None:
    """A single sign-on whose provider asserted a second factor (`amr`) counts as one here."""
    from . import oidc

    if sociallogin is None:
        return
    request.session[oidc.SESSION_KEY] = True  # sign-out signs out at the provider too
    if oidc.asserted_second_factor(sociallogin):
        mark_second_factor_passed(request, user)


LABELS = {
    Authenticator.Type.TOTP: "authenticator app",
    Authenticator.Type.WEBAUTHN: "security key or passkey",
    Authenticator.Type.RECOVERY_CODES: "recovery codes",
}


def on_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type != Authenticator.Type.RECOVERY_CODES:
        record(Kind.SECOND_FACTOR_ENROLLED, request=request, user=user, detail=LABELS[authenticator.type])


def on_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    record(Kind.SECOND_FACTOR_REMOVED, request=request, user=user, detail=LABELS.get(authenticator.type, ""))


def on_authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        record(Kind.RECOVERY_CODES_RENEWED, request=request, user=user)
