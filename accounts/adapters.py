"""django-allauth adapters: nobody signs up on their own, and a first enrolment of a second factor
right after the password does not ask for the password again."""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from .security import SECOND_FACTOR_SESSION_KEY, has_second_factor


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Users are invited by an administrator or their manager (accounts.views.users).
        return False

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        # "Successfully signed in as ..." on every sign-in, and its sign-out twin, say nothing.
        if message_template in ("account/messages/logged_in.txt", "account/messages/logged_out.txt"):
            return
        super().add_message(request, level, message_template, message_context, extra_tags, message)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Changing a second factor asks for the password or a code again, unless this session
        passed its second factor in the last few minutes (ACCOUNT_REAUTHENTICATION_TIMEOUT: the
        recovery codes shown right after enrolment). Enrolling the first one does not ask: the
        session has just given the password, and there is nothing stronger to protect yet."""
        request, user = self.request, getattr(self.request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            passed = request.session.get(SECOND_FACTOR_SESSION_KEY)
            if passed and time.time() - passed < account_settings.REAUTHENTICATION_TIMEOUT:
                return False
            if not has_second_factor(user):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)
