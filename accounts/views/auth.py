"""Signing in and passwords, through Django's own views.

The password is checked by Django's LoginView (django-axes counts the failures); django-allauth
then carries the sign-in on: the second-factor step for a user who has one, then the session.
Password reset and invitations are Django's PasswordResetView and PasswordResetConfirmView, the
reset rate-limited per address and per client (django-ratelimit).
"""

from __future__ import annotations

from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django_ratelimit.core import is_ratelimited

from .. import oidc, services
from ..forms import LoginForm, StyledPasswordChangeForm, StyledPasswordResetForm, StyledSetPasswordForm
from ..models import SecurityEvent, User
from ..security import client_ip, record
from ..tokens import invitation_token_generator

ROLE_HOME = {
    User.Role.MSL: "physicians:list",
    User.Role.CLINICAL_LIAISON: "patients:worklist",
    User.Role.MANAGER: "reporting:dashboard",
    User.Role.ADMIN: "reporting:dashboard",
}


def home(request: HttpRequest) -> HttpResponse:
    """`/` sends each role to where its work is; a user with no role or team yet waits for one."""
    user = request.user
    if user.role not in ROLE_HOME or user.scope_team_ids == frozenset():
        return render(request, "accounts/waiting_for_access.html", {"title": "Waiting for access"})
    return redirect(ROLE_HOME[user.role])


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        name = oidc.configured_name()
        if name:
            context["sso"] = {"name": name, "provider_id": settings.OIDC_PROVIDER_ID}
        return context

    def form_valid(self, form):
        """The password was right: allauth asks for the second factor if the user has one (the
        session is not signed in until then), and signs in."""
        return perform_login(self.request, form.get_user(), redirect_url=self.get_success_url())


class LogoutView(auth_views.LogoutView):
    """Signing out of a session opened by single sign-on signs out at the identity provider too
    (OpenID Connect RP-Initiated Logout), which then sends the browser back to the login page."""

    def post(self, request, *args, **kwargs):
        by_sso = request.session.get(oidc.SESSION_KEY, False)
        response = super().post(request, *args, **kwargs)
        url = oidc.end_session_url(request) if by_sso else None
        return redirect(url) if url else response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        user, key = self.request.user, self.request.session.session_key
        ended = services.end_sessions(user, keep=key)
        response = super().form_valid(form)  # keeps this session signed in, under a new key
        services.session_key_changed(self.request, old_key=key)
        record(SecurityEvent.Kind.PASSWORD_CHANGED, request=self.request, user=user)
        note = f" {ended} other session{'s were' if ended != 1 else ' was'} signed out." if ended else ""
        messages.success(self.request, "Your password was changed." + note)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer whether or not the address has an account (Django's view sends mail only
    to active users with a usable password, and redirects to "done" either way). Requests are
    rate-limited per address and per client alike (django-ratelimit, in the cache): a refusal
    says nothing about the address either."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    form_class = StyledPasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        limits = (
            (email.strip().lower(), settings.PASSWORD_RESET_RATE_PER_ADDRESS),
            (client_ip(self.request) or "", settings.PASSWORD_RESET_RATE_PER_CLIENT),
        )
        # Both counters move on every request, so neither can be probed around the other.
        limited = [
            is_ratelimited(
                self.request, group=f"password_reset:{n}", key=lambda g, r, k=key: k, rate=rate, increment=True
            )
            for n, (key, rate) in enumerate(limits)
        ]
        if any(limited):
            return rate_limited(self.request)
        record(
            SecurityEvent.Kind.PASSWORD_RESET_REQUESTED,
            request=self.request,
            user=User.objects.filter(email__iexact=email, is_active=True).first(),
            detail=email,
        )
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """An expired or used link shows the refusal in the template (`validlink` false)."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = StyledSetPasswordForm
    success_url = reverse_lazy("password_reset_complete")
    event = SecurityEvent.Kind.PASSWORD_RESET

    def form_valid(self, form):
        response = super().form_valid(form)
        services.end_sessions(form.user)
        record(self.event, request=self.request, user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class InvitationAcceptView(PasswordResetConfirmView):
    """An invited user's one-time link: they choose their password, then sign in."""

    template_name = "accounts/invitation_accept.html"
    token_generator = invitation_token_generator
    reset_url_token = "set-password"
    success_url = reverse_lazy("login")
    event = SecurityEvent.Kind.INVITATION_ACCEPTED

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Sign in with your username and the new password.")
        return response


def rate_limited(request: HttpRequest) -> HttpResponse:
    """The answer to a reset request over its limit: the same for every address."""
    return render(request, "accounts/rate_limited.html", {"title": "Too many requests"}, status=429)
