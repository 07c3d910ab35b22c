"""Account pages. One module a subject: signing in and passwords (auth), what a user sets for
themselves (profile), the administration of users (users), the security log (security_log)."""

from .api_tokens import api_token_revoke, api_tokens
from .auth import (
    InvitationAcceptView,
    LoginView,
    LogoutView,
    PasswordChangeView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
    home,
    rate_limited,
)
from .profile import EnrolAuthenticatorView, notification_settings, session_end, sessions
from .security_log import security_log, security_log_export
from .users import user_action, user_detail, user_invite, users

__all__ = [
    "EnrolAuthenticatorView",
    "InvitationAcceptView",
    "LoginView",
    "LogoutView",
    "PasswordChangeView",
    "PasswordResetCompleteView",
    "PasswordResetConfirmView",
    "PasswordResetDoneView",
    "PasswordResetView",
    "api_token_revoke",
    "api_tokens",
    "home",
    "notification_settings",
    "rate_limited",
    "security_log",
    "security_log_export",
    "session_end",
    "sessions",
    "user_action",
    "user_detail",
    "user_invite",
    "users",
]
