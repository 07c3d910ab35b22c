"""Read-side queries of the follow-ups page, the bell and the calendar feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from . import services
from .models import FollowUp, FollowUpStatus, Notification

STATES = ("overdue", "today", "week", "later", "done")
STATE_LABELS = {
    "overdue": "Overdue",
    "today": "Today",
    "week": "This week",
    "later": "Later",
    "done": "Done",
    "escalated": "Escalated",
}


@dataclass
class Bounds:
    now: datetime
    tomorrow: datetime
    week_end: datetime


def bounds(now: datetime | None = None) -> Bounds:
    now = now or timezone.now()
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return Bounds(now=now, tomorrow=start + timedelta(days=1), week_end=start + timedelta(days=7))


def in_state(qs: QuerySet, state: str, b: Bounds) -> QuerySet:
    open_ = qs.filter(status=FollowUpStatus.OPEN)
    if state == "overdue":
        return open_.filter(due_at__lt=b.now).order_by("due_at", "id")
    if state == "today":
        return open_.filter(due_at__gte=b.now, due_at__lt=b.tomorrow).order_by("due_at", "id")
    if state == "week":
        return open_.filter(due_at__gte=b.tomorrow, due_at__lt=b.week_end).order_by("due_at", "id")
    if state == "later":
        return open_.filter(due_at__gte=b.week_end).order_by("due_at", "id")
    if state == "done":
        return qs.filter(status=FollowUpStatus.DONE).order_by("-completed_at", "-id")
    if state == "escalated":
        return open_.filter(escalated_at__isnull=False).order_by("due_at", "id")
    raise ValueError(state)


def follow_ups_for(user, *, q: str = "", owner_id: int | None = None, team_id: int | None = None) -> QuerySet:
    qs = FollowUp.objects.visible_to(user).select_related("owner", "physician")
    return narrow(qs, q=q, owner_id=owner_id, team_id=team_id)


def narrow(qs: QuerySet, *, q: str = "", owner_id: int | None = None, team_id: int | None = None) -> QuerySet:
    """The follow-ups list's search and its person and team filters (the page and the API)."""
    if q:
        qs = qs.filter(title__icontains=q)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if team_id:
        qs = qs.filter(team_id=team_id)
    return qs


def unread_count(user, cap: int = 100) -> int:
    """One query on the partial index, bounded: the bell shows '99+' past the cap."""
    return Notification.objects.filter(user=user, read_at__isnull=True)[:cap].count()


def can_reassign(user) -> bool:
    """Whether `user` has anyone to hand a follow-up to besides one person (one query, two ids
    at most): the rows' Reassign menus are drawn only then."""
    return len(services.assignable_users(user).values_list("pk", flat=True)[:2]) > 1


def can_filter_people(user) -> bool:
    """Whether the follow-up list may be narrowed to a person or a team (the list's and the API's)."""
    return user.is_manager or user.is_admin_role
