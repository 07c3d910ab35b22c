"""What a signed-in user sets for themselves: notification settings, and their sessions."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

from allauth.mfa.totp.views import ActivateTOTPView
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..forms import NotificationPreferencesForm
from ..middleware import SESSION_KEY as LAST_ACTIVITY
from ..models import NotificationPreferences, SecurityEvent
from ..security import mark_second_factor_passed, record

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own choice, per kind of notification, of in-app only or email too.
    There is no user in the URL or the form: nobody can reach another person's settings."""
    user = request.user
    current = NotificationPreferences.objects.filter(user=user).first() or NotificationPreferences(user=user)
    form = NotificationPreferencesForm(request.POST or None, instance=current, user=user)
    if request.method == "POST":
        if form.is_valid():
            services.set_notification_preferences(user=user, choices=form.cleaned_data)
            messages.success(request, "Your notification settings were saved.")
            return redirect("notification_settings")
        status = 422
    else:
        status = 200
    return render(
        request,
        "accounts/notification_settings.html",
        {"title": "Notification settings", "form": form, "has_email": bool(user.email)},
        status=status,
    )


def session_rows(user) -> list[dict]:
    """The user's live sessions, newest first, each with its browser, address, sign-in and last
    activity (the idle-timeout stamp in the session itself; allauth's own tracking would write a
    row on every request). Sessions that ended or whose password changed are purged on the way."""
    rows = []
    for session in UserSession.objects.purge_and_list(user):
        data = SessionStore(session.session_key).load()
        last = data.get(LAST_ACTIVITY)
        rows.append(
            {
                "session": session,
                "last_activity": dt.datetime.fromtimestamp(last, tz=dt.UTC) if last else session.created_at,
            }
        )
    return sorted(rows, key=lambda row: row["last_activity"], reverse=True)


@require_http_methods(["GET"])
def sessions(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/sessions.html",
        {"title": "Your sessions", "rows": session_rows(request.user), "current": request.session.session_key},
    )


@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Sign out one of the user's own sessions (another user's id is a 404), or, with pk 0, all
    of them but this one."""
    if pk == 0:
        ended = services.end_sessions(request.user, keep=request.session.session_key)
        messages.success(request, f"{ended} other session{'s' if ended != 1 else ''} signed out.")
    else:
        session = UserSession.objects.filter(user=request.user, pk=pk).first()
        if session is None:
            raise Http404("No such session of yours.")
        if session.session_key == request.session.session_key:
            logout(request)
            return redirect("login")
        session.end()
        messages.success(request, "That session was signed out.")
    record(SecurityEvent.Kind.SESSION_ENDED, request=request, user=request.user, detail="by the user")
    return redirect("usersessions_list")


class EnrolAuthenticatorView(ActivateTOTPView):
    """allauth's enrolment page; the session counts as having passed its second factor as soon
    as the app is on (allauth's own signal for it waits for the commit, after the session is
    written in a test's transaction)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        mark_second_factor_passed(self.request, self.request.user)
        return response
