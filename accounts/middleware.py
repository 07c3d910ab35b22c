from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import urlencode

from . import security
from .services import FIELD_ROLES

# Requests that a page makes by itself (the notification bell's poll) are not the user being
# active: they must not keep an abandoned session alive.
BACKGROUND_HEADER = "HTTP_X_BACKGROUND_POLL"
SESSION_KEY = "_last_activity"
# The last activity is written at most this often: a session write on every page was a database
# UPDATE per request. A user may be signed out up to this much earlier than the full timeout.
TOUCH_SECONDS = 60


class IdleTimeoutMiddleware:
    """Log the user out after SESSION_IDLE_TIMEOUT seconds without a request of their own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last = request.session.get(SESSION_KEY)
            if last is not None and now - last > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                if request.htmx:
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
                    return response
                messages.info(request, "You were signed out after a period of inactivity.")
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?next={request.path}")
            if last is None or (now - last >= TOUCH_SECONDS and not request.META.get(BACKGROUND_HEADER)):
                request.session[SESSION_KEY] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """A user whose role is in MFA_REQUIRED_ROLES reaches no page until this session passed a
    second factor: one without an authenticator is sent to enrolment (the QR code and the secret
    as text), one with an authenticator but a session that never used it (signed in before the
    requirement, or by an administrator's hand) to confirm a code. Sign-out and the second-factor
    pages themselves stay open. A session that passed costs nothing: a flag in the session."""

    OPEN = frozenset(
        {
            "logout",
            "account_logout",
            "mfa_activate_totp",
            "mfa_view_recovery_codes",
            "mfa_download_recovery_codes",
            "mfa_reauthenticate",
            "mfa_reauthenticate_webauthn",
            "mfa_authenticate",
            "healthz",
        }
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not security.second_factor_required(user) or security.second_factor_passed(request):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in self.OPEN:
            return None
        target = "mfa_reauthenticate" if security.has_second_factor(user) else "mfa_activate_totp"
        url = resolve_url(target)
        if request.htmx:
            response = HttpResponse(status=401)
            response["HX-Redirect"] = url
            return response
        if request.method == "GET":
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        return redirect(url)


class AccessAssignedMiddleware:
    """An MSL or clinical liaison with no team yet (a user created by single sign-on whose claims
    gave none) reaches only the "waiting for access" page and sign-out until an administrator
    or a manager assigns one. Managers without teams see `/` say the same (accounts.views.home);
    checking their teams here would cost a query on every request."""

    OPEN = frozenset({"home", "logout", "account_logout", "healthz"}) | SecondFactorMiddleware.OPEN

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.team_id or user.role not in FIELD_ROLES or user.is_superuser:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in self.OPEN:
            return None
        if request.htmx:
            response = HttpResponse(status=403)
            response["HX-Redirect"] = resolve_url("home")
            return response
        return redirect("home")
