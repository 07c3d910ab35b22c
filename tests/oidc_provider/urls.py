from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path

from . import validator


def control(request):
    validator.MODE["mode"] = request.GET.get("mode", "")
    return HttpResponse(validator.MODE["mode"] or "normal")


urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    path("control/", control),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
