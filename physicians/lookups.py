"""Pickers of the medical-affairs side (liaison_crm/lookups.py): physicians, institutions,
products and trial sites. Physicians and institutions are also the clinical liaisons' referral
sources; products and sites are for medical affairs only."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from liaison_crm.lookups import Lookup, name_prefix_q

from .models import Institution, Physician, Product, TrialSite


def _id_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None


def physician_label(p: Physician) -> str:
    where = f" · {p.institution.name}, {p.institution.city}" if p.institution_id else ""
    return f"{p.last_name}, {p.first_name}{f', {p.credentials}' if p.credentials else ''}{where}"


def physicians_at(request: HttpRequest) -> QuerySet:
    """Physicians the user may see; `?institution=<id>` keeps those of one institution (a trial
    site's investigator works there)."""
    qs = Physician.objects.visible_to(request.user).select_related("institution")
    institution = _id_param(request, "institution")
    return qs.filter(institution_id=institution) if institution else qs


def search_physicians(qs: QuerySet, q: str) -> QuerySet:
    """By NPI when the text is digits, otherwise by the beginning of the first or last name."""
    return qs.filter(npi__startswith=q) if q.isdigit() else qs.filter(name_prefix_q(q))


def sites_for(request: HttpRequest) -> QuerySet:
    """Trial sites the user may see; `?physician=<id>` keeps those a visit to them can be about."""
    qs = TrialSite.objects.visible_to(request.user).select_related("trial", "institution")
    physician_id = _id_param(request, "physician")
    if physician_id is None:
        return qs
    physician = Physician.objects.visible_to(request.user).filter(pk=physician_id).first()
    return qs.concerning(physician) if physician else qs.none()


PHYSICIANS = Lookup(
    "physicians:lookup_physicians",
    queryset=physicians_at,
    search=search_physicians,
    order_by=("last_name", "first_name", "id"),
    label=physician_label,
)
INSTITUTIONS = Lookup(
    "physicians:lookup_institutions",
    queryset=lambda request: Institution.objects.visible_to(request.user),
    search=lambda qs, q: qs.filter(Q(name__istartswith=q) | Q(city__istartswith=q)),
    order_by=("name", "city", "id"),
    label=lambda i: f"{i.name}, {i.city}",
)
PRODUCTS = Lookup(
    "physicians:lookup_products",
    queryset=lambda request: Product.objects.visible_to(request.user),
    search=lambda qs, q: qs.filter(Q(name__icontains=q) | Q(generic_name__icontains=q)),
    order_by=("name", "id"),
    allowed=lambda user: user.sees_medical_affairs,
)
TRIAL_SITES = Lookup(
    "physicians:lookup_sites",
    queryset=sites_for,
    search=lambda qs, q: qs.filter(Q(trial__protocol_number__istartswith=q) | Q(institution__name__istartswith=q)),
    order_by=("trial__protocol_number", "institution__name", "id"),
    allowed=lambda user: user.sees_medical_affairs,
)
