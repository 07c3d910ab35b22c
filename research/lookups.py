"""The screening's site picker (liaison_crm/lookups.py): the sites open for screening now."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from liaison_crm.lookups import Lookup
from physicians.models import TrialSite


def open_sites(request) -> QuerySet[TrialSite]:
    return TrialSite.objects.visible_to(request.user).open_for_screening().select_related("trial", "institution")


def _search(qs: QuerySet[TrialSite], q: str) -> QuerySet[TrialSite]:
    """By protocol or NCT number, trial title or institution name."""
    return qs.filter(
        Q(trial__protocol_number__istartswith=q)
        | Q(trial__nct_number__istartswith=q)
        | Q(trial__title__icontains=q)
        | Q(institution__name__icontains=q)
    )


OPEN_SITES = Lookup(
    "research:lookup_open_sites",
    queryset=open_sites,
    search=_search,
    order_by=("trial__protocol_number", "institution__name", "pk"),
    label=lambda site: f"{site.trial.protocol_number} · {site.institution.name}",
    allowed=lambda user: user.sees_phi,
)
