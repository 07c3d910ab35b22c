"""Pickers of the patients side (liaison_crm/lookups.py)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.lookups import NAME_ORDER
from accounts.models import User
from liaison_crm.lookups import Lookup, search_people

AUDITED_ROLES = (User.Role.CLINICAL_LIAISON, User.Role.MANAGER, User.Role.ADMIN)


def audit_people(user) -> QuerySet:
    """Whose actions the audit log can be filtered by: the liaisons, managers and administrators
    of the user's teams (members or managers of them), active or not, since the log outlives
    accounts; an administrator sees every one."""
    qs = User.objects.filter(role__in=AUDITED_ROLES).only(*User.LABEL_FIELDS)
    scope = user.scope_team_ids
    if scope is None:
        return qs
    return qs.filter(Q(team__in=scope) | Q(managed_teams__in=scope)).distinct()


# The audit log's "user" filter: for those who may read the log (managers and administrators).
AUDIT_PEOPLE = Lookup(
    "patients:lookup_audit_people",
    queryset=lambda request: audit_people(request.user),
    search=search_people,
    order_by=NAME_ORDER,
    allowed=lambda user: user.is_manager or user.is_admin_role,
)
