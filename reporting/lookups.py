"""The dashboards' person picker (liaison_crm/lookups.py)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from liaison_crm.lookups import Lookup, search_people

# The people a dashboard can be narrowed to: those whose figures it shows.
PERSON_ROLES = (User.Role.MSL, User.Role.CLINICAL_LIAISON)
NAME_ORDER = ("last_name", "first_name", "id")


def dashboard_people(user) -> QuerySet:
    """Active MSLs and clinical liaisons on the teams `user` may report on (every team for
    administrators), with their team for the label."""
    people = User.objects.filter(role__in=PERSON_ROLES, is_active=True, team__isnull=False).select_related("team")
    scope = user.scope_team_ids
    return people if scope is None else people.filter(team__in=scope)


def person_label(user) -> str:
    return f"{user.get_full_name() or user.username} ({user.team.name})"


DASHBOARD_PEOPLE = Lookup(
    "reporting:lookup_people",
    queryset=lambda request: dashboard_people(request.user),
    search=search_people,
    order_by=NAME_ORDER,
    label=person_label,
    # MSLs and liaisons see their own figures only: the person filter is not theirs.
    allowed=lambda user: user.is_manager or user.is_admin_role,
)
