from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url

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
