"""Reads shared by views (and the CSV export). Each starts from `visible_to(user)`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict

from accounts.models import Team, User
from outreach.models import FollowUp

from . import conf
from .filters import PhysicianFilter
from .models import ContactConsent, Insight, Interaction, MedicalInquiry, Physician, TrialSite

SCOPES = ("mine", "team", "all")
PHYSICIAN_SORTS = ("last_name", "kol_tier", "last_interaction_at")
# `?sort=last_interaction_at` (the URL every bookmark has) orders by the viewer's last contact.
PHYSICIAN_SORT_COLUMNS = {"last_interaction_at": "last_contact_at"}


def contact_team_ids(user) -> frozenset[int] | None:
    """The teams whose last contact `user` sees: the teams whose interactions their timeline
    shows. None means every team's (Physician.last_interaction_at): an administrator, or a
    manager who leads every medical-affairs team. Nobody's for those who see no interactions.

    A manager who leads some of the teams sees the latest among those teams. An MSL costs no
    query (their own team); a manager one, for the medical-affairs teams.
    """
    if not user.is_authenticated or not user.sees_medical_affairs:
        return frozenset()
    scope = user.scope_team_ids
    if scope is None or not scope:
        return scope
    if user.is_msl:
        return scope
    msl_teams = set(Team.objects.filter(kind=Team.Kind.MEDICAL_AFFAIRS).values_list("id", flat=True))
    return None if msl_teams <= scope else frozenset(scope & msl_teams)


def apply_sort(
    qs: QuerySet, sort: str | None, allowed: tuple[str, ...], default: str, columns: dict[str, str] | None = None
) -> tuple[QuerySet, str]:
    """Order by a whitelisted `?sort=` (with `-`), with the id as tie-breaker so pages are stable.
    `columns` maps a sort name to the field or annotation it orders by, where they differ."""
    if not sort or sort.lstrip("-") not in allowed:
        sort = default
    name, descending = sort.lstrip("-"), sort.startswith("-")
    name = (columns or {}).get(name, name)
    tie = "-id" if descending else "id"
    if name in qs.query.annotations or qs.model._meta.get_field(name).null:
        # "Never" (NULL) counts as the oldest: last when the newest come first, first when the
        # oldest do. PostgreSQL's default put the never-contacted first in "most recent first",
        # and sorted all of them by id on every page (80 ms once 25,000 had no contact yet).
        key = F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_first=True)
        return qs.order_by(key, tie), sort
    return qs.order_by(f"-{name}" if descending else name, tie), sort


def default_scope(user) -> str:
    return "mine" if user.is_msl else "all"


def physician_scope(user, params: QueryDict) -> str:
    scope = params.get("scope") or default_scope(user)
    return scope if scope in SCOPES else default_scope(user)


def scope_physicians(qs: QuerySet, user, scope: str) -> QuerySet:
    """The list's `?scope=`: "mine" (owned by the user), "team" (owned by their teams' MSLs), "all"."""
    if scope == "mine":
        return qs.filter(owner=user)
    if scope == "team":
        teams = user.scope_team_ids
        if teams is not None:
            return qs.filter(owner__team_id__in=teams)
    return qs


def physicians_for(user, params: QueryDict, request=None) -> tuple[QuerySet, PhysicianFilter, str, str]:
    """The physician list as filtered, scoped and sorted: (queryset, filterset, scope, sort).
    Each row has `last_contact_at`, the viewer's teams' last contact (contact_team_ids)."""
    qs = Physician.objects.visible_to(user).with_last_contact(contact_team_ids(user))
    qs = qs.select_related("institution", "owner")
    scope = physician_scope(user, params)
    qs = scope_physicians(qs, user, scope)
    filterset = PhysicianFilter(params, queryset=qs, request=request)
    qs, sort = apply_sort(filterset.qs, params.get("sort"), PHYSICIAN_SORTS, "last_name", PHYSICIAN_SORT_COLUMNS)
    return qs, filterset, scope, sort


@dataclass
class TimelineEntry:
    kind: str  # interaction | insight | inquiry | trial
    when: dt.datetime
    obj: Any


def _count(model, user, physician_ref) -> Subquery:
    rows = (
        model.objects.visible_to(user)
        .filter(physician=physician_ref)
        .order_by()
        .values("physician")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def physician_for_profile(user, pk: int) -> Physician:
    """The physician with the counts this user may see, in one query (404 via DoesNotExist)."""
    qs = Physician.objects.visible_to(user).select_related("institution", "owner", "owner__team")
    if user.sees_medical_affairs:
        ref = OuterRef("pk")
        # The last contact of the teams whose interactions the timeline below shows.
        qs = qs.with_last_contact(contact_team_ids(user)).annotate(
            n_interactions=_count(Interaction, user, ref),
            n_insights=_count(Insight, user, ref),
            n_inquiries=_count(MedicalInquiry, user, ref),
            n_open_inquiries=Coalesce(
                Subquery(
                    MedicalInquiry.objects.visible_to(user)
                    .filter(physician=ref, status="open")
                    .order_by()
                    .values("physician")
                    .annotate(n=Count("id"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            ),
        )
    qs = qs.prefetch_related(
        Prefetch("consents", queryset=ContactConsent.objects.order_by("channel")), "therapeutic_areas"
    )
    return qs.get(pk=pk)


CONSENT_HISTORY_ROWS = 20


def consent_history(consents: list[ContactConsent]) -> list[dict]:
    """Who changed which channel's consent, when, from what to what: the django-auditlog entries
    of the physician's consents (one query; none when there are none), newest first."""
    by_pk = {c.pk: c for c in consents}
    if not by_pk:
        return []
    entries = (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(ContactConsent), object_id__in=by_pk)
        .select_related("actor", "content_type")
        .defer(*User.unshown("actor"))
        .order_by("-timestamp", "-id")[:CONSENT_HISTORY_ROWS]
    )
    rows = []
    for entry in entries:
        consent = by_pk[entry.object_id]
        changes = [
            # auditlog writes a value that was not set (before a create) as "None".
            (label, None if old == "None" else old, new)
            for label, (old, new) in entry.changes_display_dict.items()
            if label != ContactConsent._meta.get_field("channel").verbose_name
        ]
        rows.append(
            {"at": entry.timestamp, "by": entry.actor, "channel": consent.get_channel_display(), "changes": changes}
        )
    return rows


def next_contact(user, physician: Physician) -> FollowUp | None:
    """The earliest open follow-up concerning the physician (directly, or via a visit or an inquiry)."""
    return (
        FollowUp.objects.visible_to(user)
        .open()
        .filter(
            Q(physician_id=physician.pk)
            | Q(interaction__physician_id=physician.pk)
            | Q(inquiry__physician_id=physician.pk)
        )
        .select_related("owner")
        .order_by("due_at", "id")
        .first()
    )


def timeline(user, physician: Physician) -> list[TimelineEntry]:
    """Interactions, insights, inquiries and trial roles, newest first (the latest N of each)."""
    limit = conf.timeline_limit()
    entries: list[TimelineEntry] = []
    if user.sees_medical_affairs:
        interactions = (
            Interaction.objects.visible_to(user)
            .filter(physician=physician)
            .select_related("msl")
            .prefetch_related("products")
            .order_by("-occurred_at", "-id")[:limit]
        )
        entries += [TimelineEntry("interaction", i.occurred_at, i) for i in interactions]
        insights = (
            Insight.objects.visible_to(user)
            .filter(physician=physician)
            .select_related("product", "captured_by")
            .order_by("-captured_at", "-id")[:limit]
        )
        entries += [TimelineEntry("insight", i.captured_at, i) for i in insights]
        inquiries = (
            MedicalInquiry.objects.visible_to(user)
            .filter(physician=physician)
            .select_related("product", "owner")
            .order_by("-received_at", "-id")[:limit]
        )
        entries += [TimelineEntry("inquiry", i.received_at, i) for i in inquiries]
        sites = (
            TrialSite.objects.visible_to(user)
            .filter(principal_investigator=physician)
            .select_related("trial", "institution")
            .order_by("-status_changed_at")[:limit]
        )
        entries += [TimelineEntry("trial", s.status_changed_at, s) for s in sites]
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


# --- trial sites: enrolment counted from the clinical side's records ----------------------------
#
# A site's enrolment and screen failures are counted from its participations (the research app's
# rows, reached through the reverse relation `participations` by field name): how many, never
# which. No page of this side reads a participation's row, so no name, MRN, participant id or
# date of birth can reach it.

SITE_PERIODS = (("30d", "Last 30 days", 30), ("90d", "Last 90 days", 90), ("365d", "Last 12 months", 365))


def _site_figures(prefix: str, since: dt.date | None) -> dict[str, Count]:
    """Count() expressions over `prefix` (participations, or its path from the model counted):
    screened (screening started), concluded (eligible or screen failure), screen failures and
    enrolled (enrolment date), each since `since` (all time when None)."""
    p = f"{prefix}__" if prefix else ""

    def since_q(field: str) -> Q:
        if since is None:
            return Q(**{f"{p}{field}__isnull": False})
        return Q(**{f"{p}{field}__date__gte" if field.endswith("_at") else f"{p}{field}__gte": since})

    target = prefix or "pk"
    return {
        "screened": Count(target, filter=since_q("screened_at")),
        "concluded": Count(target, filter=since_q("concluded_at")),
        "screen_failures": Count(target, filter=since_q("concluded_at") & ~Q(**{f"{p}failure_reason": ""})),
        "enrolled": Count(target, filter=since_q("enrolled_on")),
    }


def with_enrolment(qs: QuerySet[TrialSite]) -> QuerySet[TrialSite]:
    """Each site with its all-time `screened`, `concluded`, `screen_failures` and `enrolled`, in
    the sites' own query."""
    return qs.annotate(**_site_figures("participations", None))


FIGURES = ("screened", "concluded", "screen_failures", "enrolled")


def add_enrolment(sites: list[TrialSite]) -> list[TrialSite]:
    """with_enrolment's figures set on a page of sites: one GROUP BY of the page's rows, not of
    every site the list's filter matched (the list's count and order need none of them)."""
    rows = (
        TrialSite.objects.filter(pk__in=[s.pk for s in sites])
        .order_by()
        .values("pk")
        .annotate(**_site_figures("participations", None))
    )
    figures = {r["pk"]: r for r in rows}
    for site in sites:
        for name in FIGURES:
            setattr(site, name, figures.get(site.pk, {}).get(name, 0))
    return sites


def site_enrolment_by_period(site: TrialSite, today: dt.date) -> list[dict]:
    """The site's figures for each period of SITE_PERIODS and all time, in one query."""
    periods = [(key, label, today - dt.timedelta(days=days)) for key, label, days in SITE_PERIODS]
    periods.append(("all", "All time", None))
    aggregates = {}
    for key, _label, since in periods:
        aggregates.update({f"{key}__{name}": expr for name, expr in _site_figures("", since).items()})
    row = site.participations.aggregate(**aggregates)
    out = []
    for key, label, _since in periods:
        figures = {name: row[f"{key}__{name}"] for name in FIGURES}
        out.append({"key": key, "label": label, **figures})
    return out
