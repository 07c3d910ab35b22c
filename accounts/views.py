from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy

from .forms import LoginForm, StyledPasswordChangeForm
from .models import User

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
