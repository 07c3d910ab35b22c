"""Changes a user makes to their own account settings."""

from __future__ import annotations

from django.db import transaction

from .models import NotificationPreferences, User


@transaction.atomic
def set_notification_preferences(*, user: User, choices: dict[str, bool]) -> NotificationPreferences:
    """Store `user`'s choice, per kind, of in-app only (False) or email too (True); kinds not
    named keep their value (the default, email too, for a user who never chose)."""
    unknown = sorted(set(choices) - set(NotificationPreferences.KINDS))
    if unknown:
        raise ValueError(f"Unknown notification kinds: {', '.join(unknown)}")
    preferences, _ = NotificationPreferences.objects.select_for_update().get_or_create(user=user)
    for kind, email in choices.items():
        setattr(preferences, kind, bool(email))
    preferences.full_clean()
    preferences.save()
    user.notification_preferences = preferences  # what this user object reads from now on
    return preferences
