"""Pickers of the follow-ups page (liaison_crm/lookups.py)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from liaison_crm.lookups import Lookup, search_people

from . import services

# Today's order of the people a follow-up can be handed to: by first name, as they are addressed.
NAME_ORDER = ("first_name", "last_name", "username", "id")


def assignee_label(user) -> str:
    return user.get_full_name() or user.username


def assignees(user) -> QuerySet:
    """Whom `user` may hand a follow-up to (outreach.services.assignable_users), names only."""
    return services.assignable_users(user).select_related(None).only(*User.LABEL_FIELDS)


# The reassign select of a follow-up row, the quick add's owner and the managers' person filter.
ASSIGNEES = Lookup(
    "outreach:lookup_assignees",
    queryset=lambda request: assignees(request.user),
    search=search_people,
    order_by=NAME_ORDER,
    label=assignee_label,
)
