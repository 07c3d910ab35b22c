from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from . import services
from .forms import LoginForm, NotificationPreferencesForm, StyledPasswordChangeForm
from .models import NotificationPreferences, User

ROLE_HOME = {
    User.Role.MSL: "physicians:list",
    User.Role.CLINICAL_LIAISON: "patients:worklist",
    User.Role.MANAGER: "reporting:dashboard",
    User.Role.ADMIN: "reporting:dashboard",
}


def home(request: HttpRequest) -> HttpResponse:
    """`/` sends each role to where its work is."""
    return redirect(ROLE_HOME.get(request.user.role, "outreach:follow_ups"))


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = StyledPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


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
