from allauth.account.views import reauthenticate
from django.urls import include, path

from . import lookups, oidc, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitation/<uidb64>/<token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("notifications/", views.notification_settings, name="notification_settings"),
    path("sessions/", views.sessions, name="usersessions_list"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path("users/", views.users, name="users"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path(
        "users/<int:pk>/<str:action>/",
        views.user_action,
        name="user_action",
    ),
    path("security-log/", views.security_log, name="security_log"),
    path("security-log/export.csv", views.security_log_export, name="security_log_export"),
    # The second factor: django-allauth's mfa pages (enrolment, the code at sign-in, recovery codes).
    path("2fa/totp/activate/", views.EnrolAuthenticatorView.as_view(), name="mfa_activate_totp"),
    path("2fa/", include("allauth.mfa.urls")),
    # Single sign-on (accounts.oidc): allauth's OpenID Connect views, the ID token's signature checked.
    path("oidc/<str:provider_id>/login/", oidc.login, name="openid_connect_login"),
    path("oidc/<str:provider_id>/login/callback/", oidc.callback, name="openid_connect_callback"),
    path("social/", include("allauth.socialaccount.urls")),
    path("lookups/msls/", lookups.MSLS.as_view(), name="lookup_msls"),
    path("lookups/all-msls/", lookups.ALL_MSLS.as_view(), name="lookup_all_msls"),
    path("lookups/liaisons/", lookups.LIAISONS.as_view(), name="lookup_liaisons"),
]

# The names allauth's pages and flows reverse, on this project's own views.
urlpatterns += [
    path("login/", views.LoginView.as_view(), name="account_login"),
    path("logout/", views.LogoutView.as_view(), name="account_logout"),
    path("password/", views.PasswordChangeView.as_view(), name="account_change_password"),
    path("password/reset/", views.PasswordResetView.as_view(), name="account_reset_password"),
    path("reauthenticate/", reauthenticate, name="account_reauthenticate"),
]
