from django.contrib.auth import views as auth_views
from django.urls import path

from . import lookups, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("notifications/", views.notification_settings, name="notification_settings"),
    path("lookups/msls/", lookups.MSLS.as_view(), name="lookup_msls"),
    path("lookups/all-msls/", lookups.ALL_MSLS.as_view(), name="lookup_all_msls"),
    path("lookups/liaisons/", lookups.LIAISONS.as_view(), name="lookup_liaisons"),
]
