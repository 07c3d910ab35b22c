"""The authentication backend: Django's ModelBackend, with the signed-in user's team.

Every page reads `request.user.team` (the top bar shows it; scopes and permissions follow it),
so the session's user is loaded with its team in the same query instead of a second one.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class TeamModelBackend(ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("team").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
