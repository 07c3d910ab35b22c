"""Pickers of people (liaison_crm/lookups.py): each list a person field or filter chooses from."""

from __future__ import annotations

from django.db.models import QuerySet

from liaison_crm.lookups import Lookup, search_people

from .models import User

NAME_ORDER = ("last_name", "first_name", "id")


def people_in_scope(user, role: str) -> QuerySet:
    """Active users of `role` on the teams `user` may see (every team for administrators)."""
    qs = User.objects.filter(role=role, is_active=True).only(*User.LABEL_FIELDS)
    scope = user.scope_team_ids
    return qs if scope is None else qs.filter(team_id__in=scope)


def active_msls() -> QuerySet:
    """Every active MSL: physicians are shared reference data, and any MSL may own one."""
    return User.objects.filter(role=User.Role.MSL, is_active=True).only(*User.LABEL_FIELDS)


# MSLs of the user's teams: who logged, captured, owns or trained, on the medical-affairs lists.
MSLS = Lookup(
    "lookup_msls",
    queryset=lambda request: people_in_scope(request.user, User.Role.MSL),
    search=search_people,
    order_by=NAME_ORDER,
    allowed=lambda user: user.sees_medical_affairs,
)
# Any active MSL: the owner of a physician.
ALL_MSLS = Lookup(
    "lookup_all_msls",
    queryset=lambda request: active_msls(),
    search=search_people,
    order_by=NAME_ORDER,
)
# Clinical liaisons of the user's teams: a case's liaison, the worklist's liaison filter.
LIAISONS = Lookup(
    "lookup_liaisons",
    queryset=lambda request: people_in_scope(request.user, User.Role.CLINICAL_LIAISON),
    search=search_people,
    order_by=NAME_ORDER,
    allowed=lambda user: user.sees_phi,
)
