"""Follow-up actions. Views, tasks and other apps' services call these; rules live here."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from .models import FollowUp


@transaction.atomic
def create_follow_up(
    *,
    owner,
    title: str,
    due_at: datetime,
    notes: str = "",
    created_by=None,
    physician=None,
    interaction=None,
    inquiry=None,
    case=None,
    rule: str = "",
    rule_key: str = "",
) -> FollowUp:
    """Open a follow-up for `owner`, concerning at most one record."""
    concerns = [x for x in (physician, interaction, inquiry, case) if x is not None]
    if len(concerns) > 1:
        raise ValidationError("A follow-up concerns at most one record.")
    follow_up = FollowUp(
        owner=owner,
        team_id=owner.team_id,
        title=title,
        notes=notes,
        due_at=due_at,
        created_by=created_by,
        physician=physician,
        interaction=interaction,
        inquiry=inquiry,
        case=case,
        rule=rule,
        rule_key=rule_key,
    )
    follow_up.full_clean(validate_constraints=False)
    follow_up.save()
    return follow_up


def notify(*, user, title: str, body: str = "", url: str = "", kind: str = "info", follow_up=None):
    """An in-app notification for `user` (the bell in the top bar)."""
    from .models import Notification

    return Notification.objects.create(
        user=user, title=title[:200], body=body, url=url[:300], kind=kind, follow_up=follow_up
    )
