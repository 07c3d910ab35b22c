from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import urlencode

from . import security
from .services import FIELD_ROLES

# Requests that a page makes by itself (the notification bell's poll) are not the user being
# active: they must not keep an abandoned session alive.
BACKGROUND_HEADER = "HTTP_X_BACKGROUND_POLL"
SESSION_KEY = "_last_activity"
API_PREFIX = "/api/"
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
                if request.path.startswith(API_PREFIX):
                    return JsonResponse({"detail": "The session ended after a period of inactivity."}, status=401)
                if request.htmx:
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
                    return response
                messages.info(request, "You were signed out after a period of inactivity.")
                return redirect(f"{resolve_url(settings.LOGIN_URL)}?next={request.path}")
            if last is None or (now - last >= TOUCH_SECONDS and not request.META.get(BACKGROUND_HEADER)):
                request.session[SESSION_KEY] = now
        return self.get_response(request)


class GateMiddleware:
    """Holds a signed-in user at one page (and the pages in OPEN, sign-out among them) while
    `holds(request)` says so: a page is redirected there, an htmx request told to go (HX-Redirect)."""

    OPEN: frozenset[str] = frozenset({"logout", "account_logout", "healthz"})
    HTMX_STATUS = 403
    KEEPS_NEXT = True  # the page asked for, to come back to when released
    API_REASON = ""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def holds(self, request: HttpRequest) -> bool:
        raise NotImplementedError

    def target(self, request: HttpRequest) -> str:
        raise NotImplementedError

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated or not self.holds(request):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in self.OPEN:
            return None
        url = resolve_url(self.target(request))
        if request.path.startswith(API_PREFIX):
            # The API (with the browser session) answers, not redirects: its scripts read JSON.
            return JsonResponse({"detail": self.API_REASON, "next": url}, status=403)
        if request.htmx:
            response = HttpResponse(status=self.HTMX_STATUS)
            response["HX-Redirect"] = url
            return response
        if self.KEEPS_NEXT and request.method == "GET":
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        return redirect(url)


class SecondFactorMiddleware(GateMiddleware):
    """A user whose role is in MFA_REQUIRED_ROLES reaches no page until this session passed a
    second factor: one without an authenticator is sent to enrolment (the QR code and the secret
    as text), one with an authenticator but a session that never used it (signed in before the
    requirement, or by an administrator's hand) to confirm a code. Sign-out and the second-factor
    pages themselves stay open. A session that passed costs nothing: a flag in the session."""

    OPEN = GateMiddleware.OPEN | {
        "mfa_activate_totp",
        "mfa_view_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_reauthenticate",
        "mfa_reauthenticate_webauthn",
        "mfa_authenticate",
    }
    HTMX_STATUS = 401
    API_REASON = "This session has not passed the second factor yet."

    def holds(self, request: HttpRequest) -> bool:
        return security.second_factor_required(request.user) and not security.second_factor_passed(request)

    def target(self, request: HttpRequest) -> str:
        return "mfa_reauthenticate" if security.has_second_factor(request.user) else "mfa_activate_totp"


class AccessAssignedMiddleware(GateMiddleware):
    """An MSL or clinical liaison with no team yet (a user created by single sign-on whose claims
    gave none) reaches only the "waiting for access" page and sign-out until an administrator
    or a manager assigns one. Managers without teams see `/` say the same (accounts.views.home);
    checking their teams here would cost a query on every request."""

    OPEN = SecondFactorMiddleware.OPEN | {"home"}
    KEEPS_NEXT = False
    API_REASON = "Your account has no team yet: an administrator or a manager assigns one."

    def holds(self, request: HttpRequest) -> bool:
        user = request.user
        return not user.team_id and user.role in FIELD_ROLES and not user.is_superuser

    def target(self, request: HttpRequest) -> str:
        return "home"
