"""Read-only aggregates behind the dashboards. One query per function, whatever the data size.

Each selector takes a `ReportScope` (see filters.py) and returns plain, picklable data (dicts,
lists, numbers, dates) so widgets can cache it. The scope already encodes the user's role: a
side the user may not see has no selector called for it at all (widgets check `side`).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator

from django.db.models import Avg, Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from accounts.models import Team, User
from outreach.models import FollowUp, FollowUpStatus
from patients import conf as patients_conf
from patients.choices import OPEN_STAGES, ConsentStatus, DeclineReason, DischargeDisposition, Priority, Stage
from patients.models import Case
from physicians import conf as physicians_conf
from physicians.choices import Channel, InquiryStatus, InsightStatus, KolTier, SiteStatus, Theme
from physicians.models import (
    ClinicalTrial,
    Insight,
    Interaction,
    MedicalInquiry,
    Physician,
    PhysicianTeamContact,
    TrainingSession,
    TrialSite,
)
from research.choices import ScreenFailureReason
from research.models import Participation

from .expressions import DaysBetween, Median
from .filters import ReportScope


def _in_teams(qs: QuerySet, team_ids: frozenset[int] | None, field: str = "team") -> QuerySet:
    return qs if team_ids is None else qs.filter(**{f"{field}__in": team_ids})


def _msl_side(qs: QuerySet, scope: ReportScope, person: str) -> QuerySet:
    """`qs` on the MSL teams in scope, and the chosen MSL's only (`person`: the field naming them)."""
    qs = _in_teams(qs, scope.msl_team_ids)
    return qs.filter(**{person: scope.msl_person_id}) if scope.msl_person_id else qs


def _period(field: str, scope: ReportScope) -> Q:
    return Q(**{f"{field}__gte": scope.start, f"{field}__lt": scope.end})


def _round(value, digits: int = 1):
    return None if value is None else round(float(value), digits)


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _name(first: str | None, last: str | None, username: str | None = None) -> str:
    return f"{first or ''} {last or ''}".strip() or (username or "—")


# --- MSL side -----------------------------------------------------------------------------------


def msl_interactions(scope: ReportScope) -> QuerySet:
    return _msl_side(Interaction.objects.filter(_period("occurred_at", scope)), scope, "msl_id")


def interactions_by_week(scope: ReportScope) -> dict:
    """Interactions per ISO week (Monday) and channel: {weeks: [...], channels: {channel: [n per week]}}."""
    rows = (
        msl_interactions(scope)
        .annotate(week=TruncWeek("occurred_at"))
        .values("week", "channel")
        .annotate(n=Count("id"))
        .order_by("week", "channel")
    )
    counts: dict[tuple[dt.date, str], int] = {}
    for row in rows:
        week = row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]
        counts[(week, row["channel"])] = row["n"]
    # Every week of the period, also the empty ones, so the chart's time axis is honest.
    first = scope.date_from - dt.timedelta(days=scope.date_from.weekday())
    weeks = []
    while first <= scope.date_to:
        weeks.append(first)
        first += dt.timedelta(days=7)
    channels = {
        label: [counts.get((w, value), 0) for w in weeks]
        for value, label in Channel.choices
        if any(counts.get((w, value), 0) for w in weeks)
    }
    return {"weeks": weeks, "channels": channels, "total": sum(counts.values())}


def interactions_per_msl(scope: ReportScope) -> list[dict]:
    # Grouped by the MSL's id alone (names as Max of one value each), and tier-1 visits counted
    # against the set of tier-1 physicians, not a join of every visit to its physician: PostgreSQL
    # hashed the whole physician table for that join (35 -> 16 ms for a year, bench/results.md).
    tier1 = Physician.objects.filter(kol_tier=KolTier.TIER_1).values("id")
    rows = (
        msl_interactions(scope)
        .values("msl_id")
        .annotate(
            first_name=Max("msl__first_name"),
            last_name=Max("msl__last_name"),
            username=Max("msl__username"),
            # Counted on occurred_at (never null), not the id: the covering index answers alone.
            total=Count("*"),
            physicians=Count("physician", distinct=True),
            in_person=Count("occurred_at", filter=Q(channel=Channel.IN_PERSON)),
            tier1=Count("occurred_at", filter=Q(physician_id__in=tier1)),
        )
        .order_by("-total", "last_name", "msl_id")
    )
    return [
        {
            "msl_id": r["msl_id"],
            "name": _name(r["first_name"], r["last_name"], r["username"]),
            "total": r["total"],
            "physicians": r["physicians"],
            "in_person": r["in_person"],
            "tier1": r["tier1"],
        }
        for r in rows
    ]


def _kol_base(scope: ReportScope, cadence: dict[int, float]) -> QuerySet:
    qs = Physician.objects.filter(is_active=True, kol_tier__in=list(cadence))
    if scope.msl_person_id:
        return qs.filter(owner_id=scope.msl_person_id)
    return _in_teams(qs, scope.msl_team_ids, "owner__team")


def _reached_q(now: dt.datetime, scope: ReportScope, cadence: dict[int, float]) -> Q:
    """Reached within the tier's cadence by the MSL teams in scope: the last contact the physician
    list and profile show the same viewer (PhysicianTeamContact; every team's for administrators)."""
    q = Q(pk__in=[])
    for tier, days in cadence.items():
        since = now - dt.timedelta(days=days)
        if scope.msl_team_ids is None:
            q |= Q(kol_tier=tier, last_interaction_at__gte=since)
        else:
            contacted = PhysicianTeamContact.objects.filter(
                team_id__in=scope.msl_team_ids, last_interaction_at__gte=since
            ).values("physician_id")
            q |= Q(kol_tier=tier, pk__in=contacted)
    return q


def kol_coverage(scope: ReportScope) -> list[dict]:
    """Per tier: KOLs owned in scope, how many were reached within the tier's cadence (as of now)."""
    now = timezone.now()
    # The kol_cadence rule's days per tier (cached: no query of its own).
    cadence = physicians_conf.kol_cadence_days()
    rows = (
        _kol_base(scope, cadence)
        .values("kol_tier")
        .annotate(total=Count("id"), reached=Count("id", filter=_reached_q(now, scope, cadence)))
        .order_by("kol_tier")
    )
    by_tier = {r["kol_tier"]: r for r in rows}
    out = []
    for tier, days in sorted(cadence.items()):
        r = by_tier.get(tier, {"total": 0, "reached": 0})
        out.append(
            {
                "tier": tier,
                "cadence_days": days,
                "total": r["total"],
                "reached": r["reached"],
                "not_reached": r["total"] - r["reached"],
                "share": _share(r["reached"], r["total"]),
            }
        )
    return out


def kols_not_reached(scope: ReportScope, *, limit: int | None = None) -> Iterator[dict]:
    """KOLs not reached within their tier's cadence, the longest-silent first."""
    cadence = physicians_conf.kol_cadence_days()
    qs = (
        _kol_base(scope, cadence)
        .with_last_contact(scope.msl_team_ids)
        .exclude(_reached_q(timezone.now(), scope, cadence))
        .order_by(F("last_contact_at").asc(nulls_first=True), "last_name", "id")
        # Tuples, not three model instances a row: the CSV export has every such KOL.
        .values_list(
            "id",
            "first_name",
            "last_name",
            "credentials",
            "kol_tier",
            "institution__name",
            "owner__first_name",
            "owner__last_name",
            "last_contact_at",
        )
    )
    if limit:
        qs = qs[:limit]
    for pk, first, last, credentials, tier, institution, o_first, o_last, last_at in (
        qs.iterator(chunk_size=2000) if limit is None else qs
    ):
        name = f"Dr. {first} {last}"  # as Physician.display_name
        yield {
            "physician_id": pk,
            "name": f"{name}, {credentials}" if credentials else name,
            "tier": tier,
            "cadence_days": cadence.get(tier),
            "institution": institution or "",
            "owner": f"{o_first or ''} {o_last or ''}".strip(),
            "last_interaction_at": last_at,
        }


def _insights(scope: ReportScope) -> QuerySet:
    return _msl_side(Insight.objects.filter(_period("captured_at", scope)), scope, "captured_by_id")


def insights_by_theme_product(scope: ReportScope) -> dict:
    rows = (
        _insights(scope)
        .values("theme", "product_id", "product__name")
        .annotate(n=Count("id"))
        .order_by("theme", "product__name")
    )
    themes = dict(Theme.choices)
    table = [
        {
            "theme": r["theme"],
            "theme_label": themes.get(r["theme"], r["theme"]),
            "product_id": r["product_id"],
            "product": r["product__name"] or "No product",
            "count": r["n"],
        }
        for r in rows
    ]
    return {"rows": table, "total": sum(r["count"] for r in table)}


def insight_status(scope: ReportScope) -> dict:
    """Insights captured in the period by status, and the median days from capture to review."""
    agg = _insights(scope).aggregate(
        total=Count("id"),
        **{s: Count("id", filter=Q(status=s)) for s in InsightStatus.values},
        median_days_to_review=Median(
            DaysBetween("captured_at", "review_started_at"), filter=Q(review_started_at__isnull=False)
        ),
    )
    return {
        "total": agg["total"],
        "by_status": [{"status": s, "label": label, "count": agg[s]} for s, label in InsightStatus.choices],
        "median_days_to_review": _round(agg["median_days_to_review"]),
    }


def newest_insights(scope: ReportScope, *, limit: int | None = 5) -> list[dict]:
    qs = _insights(scope).select_related("physician", "product", "captured_by").order_by("-captured_at", "-id")[:limit]
    return [
        {
            "id": i.pk,
            "captured_at": i.captured_at,
            "theme": i.get_theme_display(),
            "status": i.get_status_display(),
            "product": i.product.name if i.product else "",
            "physician": i.physician.display_name,
            "physician_id": i.physician_id,
            "captured_by": i.captured_by.get_full_name(),
            "text": i.text[:160],
        }
        for i in qs
    ]


def inquiry_stats(scope: ReportScope) -> dict:
    """Open and overdue now; received, median turnaround and share within service level for the period.

    "Within service level" means answered by the inquiry's `due_at` (set from its priority).
    """
    now = timezone.now()
    qs = _msl_side(MedicalInquiry.objects.all(), scope, "owner_id")
    period = _period("received_at", scope)
    answered = period & Q(answered_at__isnull=False)
    agg = qs.aggregate(
        open=Count("id", filter=Q(status=InquiryStatus.OPEN)),
        overdue=Count("id", filter=Q(status=InquiryStatus.OPEN, due_at__lt=now)),
        received=Count("id", filter=period),
        answered=Count("id", filter=answered),
        within_sla=Count("id", filter=answered & Q(answered_at__lte=F("due_at"))),
        median_days=Median(DaysBetween("received_at", "answered_at"), filter=answered),
    )
    return {
        "open": agg["open"],
        "overdue": agg["overdue"],
        "received": agg["received"],
        "answered": agg["answered"],
        "within_sla": agg["within_sla"],
        "within_sla_share": _share(agg["within_sla"], agg["answered"]),
        "median_turnaround_days": _round(agg["median_days"]),
    }


def training_stats(scope: ReportScope) -> dict:
    sessions = TrainingSession.objects.filter(held_on__gte=scope.date_from, held_on__lte=scope.date_to)
    qs = _msl_side(sessions, scope, "trainer_id")
    scored = Q(attendees__attended=True, attendees__score_before__isnull=False, attendees__score_after__isnull=False)
    agg = qs.aggregate(
        sessions=Count("id", distinct=True),
        attendees_n=Count("attendees", filter=Q(attendees__attended=True)),
        avg_improvement=Avg(F("attendees__score_after") - F("attendees__score_before"), filter=scored),
    )
    return {
        "sessions": agg["sessions"],
        "attendees": agg["attendees_n"],
        "avg_improvement": _round(agg["avg_improvement"]),
    }


def trial_sites_by_status(scope: ReportScope) -> list[dict]:
    """Trial sites are shared reference data (not a team's records): every MSL-side viewer sees all."""
    counts = dict(TrialSite.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [{"status": s, "label": label, "count": counts.get(s, 0)} for s, label in SiteStatus.choices]


def trial_enrolment(scope: ReportScope, *, limit: int | None = None) -> list[dict]:
    qs = (
        ClinicalTrial.objects.annotate(
            sites_n=Count("sites"),
            target=Coalesce(Sum("sites__enrolment_target"), Value(0), output_field=IntegerField()),
            # Counted from the participations enrolled (research app), never typed: a subquery,
            # since a second join would multiply the sites' sums.
            actual=Coalesce(
                Subquery(
                    Participation.objects.filter(trial=OuterRef("pk"), enrolled_on__isnull=False)
                    .order_by()
                    .values("trial")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                Value(0),
                output_field=IntegerField(),
            ),
        )
        .select_related("product")
        .order_by("protocol_number")
    )
    if limit:
        qs = qs[:limit]
    return [
        {
            "id": t.pk,
            "protocol_number": t.protocol_number,
            "title": t.title,
            "product": t.product.name,
            "sites": t.sites_n,
            "target": t.target,
            "actual": t.actual,
            "share": _share(t.actual, t.target),
        }
        for t in qs
    ]


# --- Clinical side ------------------------------------------------------------------------------


def cases(scope: ReportScope) -> QuerySet:
    qs = _in_teams(Case.objects.all(), scope.cl_team_ids)
    if scope.cl_person_id:
        qs = qs.filter(assigned_liaison_id=scope.cl_person_id)
    return qs


FUNNEL_STEPS = (
    ("referred", "Referred", None),
    ("evaluated", "Evaluated", ("evaluated_at", "accepted_at", "admitted_at", "discharged_at")),
    ("accepted", "Accepted", ("accepted_at", "admitted_at", "discharged_at")),
    ("admitted", "Admitted", ("admitted_at", "discharged_at")),
    ("discharged", "Discharged", ("discharged_at",)),
)


def _reached(fields: tuple[str, ...]) -> Q:
    # A case reached a step if it has that step's stamp or a later one (robust to skipped stamps).
    q = Q(pk__in=[])
    for f in fields:
        q |= Q(**{f"{f}__isnull": False})
    return q


def _evaluation_windows(now: dt.datetime, windows: dict[str, float]) -> tuple[Q, Q]:
    """(window closed, evaluated within window), each case by its own priority's window from the
    referral_not_evaluated rule: the same hours that open its follow-up."""
    closed = Q(pk__in=[])
    in_window = Q(pk__in=[])
    for priority, hours in windows.items():
        span = dt.timedelta(hours=float(hours))
        closed |= Q(priority=priority, referral_received_at__lte=now - span)
        in_window |= Q(priority=priority, evaluated_at__lte=F("referral_received_at") + span)
    return closed, in_window


def referral_funnel(scope: ReportScope) -> dict:
    """Cases referred in the period: how far they got, timings, and the evaluation window share.

    "Evaluated within window" counts only cases whose window has already closed: a case received
    an hour ago with a 48 h window is neither in nor out yet, even if evaluated already (counting
    those would favour the newest cases).
    """
    windows = patients_conf.evaluation_window_hours()
    closed, in_window = _evaluation_windows(timezone.now(), windows)
    agg = (
        cases(scope)
        .filter(_period("referral_received_at", scope))
        .aggregate(
            referred=Count("id"),
            **{key: Count("id", filter=_reached(fields)) for key, _label, fields in FUNNEL_STEPS if fields},
            declined=Count("id", filter=Q(stage=Stage.DECLINED)),
            cancelled=Count("id", filter=Q(stage=Stage.CANCELLED)),
            window_closed=Count("id", filter=closed),
            evaluated_in_window=Count("id", filter=closed & in_window),
            median_days_to_evaluation=Median(
                DaysBetween("referral_received_at", "evaluated_at"), filter=Q(evaluated_at__isnull=False)
            ),
            median_days_to_admission=Median(
                DaysBetween("referral_received_at", "admitted_at"), filter=Q(admitted_at__isnull=False)
            ),
        )
    )
    steps = []
    previous = None
    for key, label, _fields in FUNNEL_STEPS:
        n = agg[key]
        steps.append(
            {"key": key, "label": label, "count": n, "conversion": None if previous is None else _share(n, previous)}
        )
        previous = n
    return {
        "steps": steps,
        "referred": agg["referred"],
        "declined": agg["declined"],
        "cancelled": agg["cancelled"],
        "evaluated_in_window": agg["evaluated_in_window"],
        "window_closed": agg["window_closed"],
        "evaluated_in_window_share": _share(agg["evaluated_in_window"], agg["window_closed"]),
        "urgent_window_hours": windows[Priority.URGENT],
        "standard_window_hours": windows[Priority.STANDARD],
        "median_days_to_evaluation": _round(agg["median_days_to_evaluation"]),
        "median_days_to_admission": _round(agg["median_days_to_admission"]),
    }


def declines_by_reason(scope: ReportScope) -> list[dict]:
    counts = dict(
        cases(scope)
        .filter(_period("referral_received_at", scope), stage=Stage.DECLINED)
        .values_list("decline_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        {"reason": value, "label": label, "count": counts.get(value, 0)}
        for value, label in DeclineReason.choices
        if counts.get(value)
    ]


def discharges(scope: ReportScope) -> dict:
    """Cases discharged in the period: dispositions and average length of stay (days)."""
    rows = (
        cases(scope)
        .filter(_period("discharged_at", scope))
        .values("discharge_disposition")
        .annotate(
            n=Count("id"),
            los_sum=Sum(DaysBetween("admitted_at", "discharged_at"), filter=Q(admitted_at__isnull=False)),
            los_n=Count("id", filter=Q(admitted_at__isnull=False)),
        )
        .order_by()
    )
    labels = dict(DischargeDisposition.choices)
    total = los_sum = los_n = 0
    dispositions = []
    for r in rows:
        total += r["n"]
        los_sum += r["los_sum"] or 0
        los_n += r["los_n"]
        dispositions.append(
            {
                "disposition": r["discharge_disposition"],
                "label": labels.get(r["discharge_disposition"], "Not recorded"),
                "count": r["n"],
            }
        )
    dispositions.sort(key=lambda d: (-d["count"], d["label"]))
    return {
        "total": total,
        "dispositions": dispositions,
        "avg_length_of_stay_days": _round(los_sum / los_n) if los_n else None,
    }


def caseload(scope: ReportScope) -> dict:
    """Open cases now, per liaison and stage, with pending consents and communication gaps."""
    gap_days = patients_conf.communication_gap_days()  # the worklist's `gap` filter uses the same
    gap_before = timezone.now() - dt.timedelta(days=gap_days)
    gap = Q(last_communication_at__isnull=True) | Q(last_communication_at__lt=gap_before)
    rows = (
        cases(scope)
        .filter(stage__in=OPEN_STAGES)
        .values(
            "assigned_liaison_id",
            "assigned_liaison__first_name",
            "assigned_liaison__last_name",
            "assigned_liaison__username",
        )
        .annotate(
            total=Count("id", distinct=True),
            **{s: Count("id", filter=Q(stage=s), distinct=True) for s in OPEN_STAGES},
            gaps=Count("id", filter=gap, distinct=True),
            consents_pending=Count("consents", filter=Q(consents__status=ConsentStatus.PENDING)),
        )
        .order_by("-total", "assigned_liaison__last_name")
    )
    liaisons = [
        {
            "liaison_id": r["assigned_liaison_id"],
            "name": _name(
                r["assigned_liaison__first_name"], r["assigned_liaison__last_name"], r["assigned_liaison__username"]
            )
            if r["assigned_liaison_id"]
            else "Unassigned",
            "total": r["total"],
            "stages": [r[s] for s in OPEN_STAGES],
            "gaps": r["gaps"],
            "consents_pending": r["consents_pending"],
        }
        for r in rows
    ]
    return {
        "stages": [{"key": s, "label": Stage(s).label} for s in OPEN_STAGES],
        "liaisons": liaisons,
        "total": sum(x["total"] for x in liaisons),
        "gaps": sum(x["gaps"] for x in liaisons),
        "consents_pending": sum(x["consents_pending"] for x in liaisons),
        "gap_days": gap_days,
    }


def _referral_counts(scope: ReportScope, group: str) -> QuerySet:
    return (
        cases(scope)
        .filter(_period("referral_received_at", scope), **{f"{group}__isnull": False})
        .values(group)
        .annotate(referrals=Count("id"), admissions=Count("id", filter=_reached(("admitted_at", "discharged_at"))))
        .order_by("-referrals", "-admissions", group)
    )


def top_referring_physicians(scope: ReportScope, *, limit: int | None = None) -> list[dict]:
    qs = _referral_counts(scope, "referral_physician").values(
        "referral_physician",
        "referral_physician__first_name",
        "referral_physician__last_name",
        "referral_physician__credentials",
        "referral_physician__institution__name",
        "referrals",
        "admissions",
    )
    if limit:
        qs = qs[:limit]
    return [
        {
            "physician_id": r["referral_physician"],
            "name": f"Dr. {r['referral_physician__first_name']} {r['referral_physician__last_name']}",
            "institution": r["referral_physician__institution__name"] or "",
            "referrals": r["referrals"],
            "admissions": r["admissions"],
        }
        for r in qs
    ]


def top_referring_institutions(scope: ReportScope, *, limit: int | None = None) -> list[dict]:
    qs = _referral_counts(scope, "referral_institution").values(
        "referral_institution", "referral_institution__name", "referral_institution__city", "referrals", "admissions"
    )
    if limit:
        qs = qs[:limit]
    return [
        {
            "institution_id": r["referral_institution"],
            "name": r["referral_institution__name"],
            "city": r["referral_institution__city"],
            "referrals": r["referrals"],
            "admissions": r["admissions"],
        }
        for r in qs
    ]


# --- Joined: where the two sides meet -----------------------------------------------------------


# Most referrals first, then most admissions; physicians level on both by their record's age.
REFERRER_ORDER = ("-referrals", "-admissions", "referral_physician")


def referrers_engagement(scope: ReportScope, *, limit: int | None = None) -> Iterator[dict]:
    """Physicians who referred patients in the period, with their MSL engagement in the same period.

    One GROUP BY over the period's cases (clinical teams in scope) gives referrals and admissions;
    a second query counts the MSL interactions (MSL teams in scope) per referring physician, so
    neither side's rows multiply the other's counts. (As a correlated subquery in the first query,
    PostgreSQL grouped by it and so ran it once per case, not once per physician: 5,557 times for
    a year's overview, a third of that query.)
    """
    ref = "referral_physician__"
    referred = cases(scope).filter(_period("referral_received_at", scope), referral_physician__isnull=False)
    physician_fields = (
        f"{ref}first_name",
        f"{ref}last_name",
        f"{ref}credentials",
        f"{ref}kol_tier",
        f"{ref}last_interaction_at",
        f"{ref}owner",
        f"{ref}owner__first_name",
        f"{ref}owner__last_name",
        f"{ref}institution__name",
    )
    counted = {"referrals": Count("id"), "admissions": Count("id", filter=_reached(("admitted_at", "discharged_at")))}
    interactions = msl_interactions(scope).order_by().values_list("physician")
    if limit:
        rows = _top_referrers(referred, counted, physician_fields, limit)
        interactions = interactions.filter(physician__in=[r["referral_physician"] for r in rows])
    else:
        # Every referrer, for the CSV: one GROUP BY with the physician's columns, streamed.
        rows = (
            referred.values("referral_physician", *physician_fields)
            .annotate(**counted)
            .order_by(*REFERRER_ORDER)
            .iterator(chunk_size=2000)
        )
        interactions = interactions.filter(physician__in=referred.values("referral_physician"))
    # COUNT(*), not of the id: answered from the (physician, date, team) index alone.
    counts = dict(interactions.annotate(n=Count("*")))
    tiers = dict(KolTier.choices)
    for r in rows:
        name = f"Dr. {r[f'{ref}first_name']} {r[f'{ref}last_name']}"
        yield {
            "physician_id": r["referral_physician"],
            "name": f"{name}, {r[f'{ref}credentials']}" if r[f"{ref}credentials"] else name,
            "institution": r[f"{ref}institution__name"] or "",
            "tier": r[f"{ref}kol_tier"],
            "tier_label": tiers.get(r[f"{ref}kol_tier"], ""),
            "owner": _name(r[f"{ref}owner__first_name"], r[f"{ref}owner__last_name"]) if r[f"{ref}owner"] else "",
            "owner_id": r[f"{ref}owner"],
            "referrals": r["referrals"],
            "admissions": r["admissions"],
            "interactions": counts.get(r["referral_physician"], 0),
            "last_interaction_at": r[f"{ref}last_interaction_at"],
        }


def _top_referrers(referred: QuerySet, counted: dict, physician_fields: tuple[str, ...], limit: int) -> list[dict]:
    """The first `limit` referrers in the table's order, counted per physician id alone (a year's
    cases grouped by the joined physician columns hashed the whole physician table: 35 ms), then
    named by a query of their own."""
    top = list(referred.values("referral_physician").annotate(**counted).order_by(*REFERRER_ORDER)[:limit])
    if not top:
        return []
    # The same keys as the CSV's query, so both kinds of row read alike.
    fields = [field.removeprefix("referral_physician__") for field in physician_fields]
    names = {
        p.pop("id"): p
        for p in Physician.objects.filter(pk__in=[r["referral_physician"] for r in top]).values("id", *fields)
    }
    return [
        {**r, **{f"referral_physician__{key}": value for key, value in names[r["referral_physician"]].items()}}
        for r in top
    ]


def silent_kol_institutions(scope: ReportScope, *, limit: int | None = None) -> Iterator[dict]:
    """Tier-1 KOLs (owned in the MSL scope) whose institution referred nothing in the period."""
    referring = cases(scope).filter(_period("referral_received_at", scope), referral_institution__isnull=False)
    qs = (
        _kol_base(scope, physicians_conf.kol_cadence_days())
        .with_last_contact(scope.msl_team_ids)
        .filter(kol_tier=KolTier.TIER_1, institution__isnull=False)
        .exclude(institution__in=referring.values("referral_institution_id"))
        .select_related("owner", "institution")
        .order_by("institution__name", "last_name", "id")
    )
    if limit:
        qs = qs[:limit]
    for p in qs.iterator(chunk_size=2000) if limit is None else qs:
        yield {
            "physician_id": p.pk,
            "name": p.display_name,
            "institution": p.institution.name,
            "institution_id": p.institution_id,
            "owner": p.owner.get_full_name() if p.owner else "",
            "last_interaction_at": p.last_contact_at,
        }


def follow_ups_per_person(scope: ReportScope) -> list[dict]:
    """Open follow-ups now, per owner across both sides: open, overdue and escalated."""
    now = timezone.now()
    qs = _in_teams(FollowUp.objects.filter(status=FollowUpStatus.OPEN), scope.followup_team_ids)
    people = [p for p in (scope.msl_person_id, scope.cl_person_id) if p]
    if people:
        qs = qs.filter(owner_id__in=people)
    # Counted per owner and team ids alone from the partial index, then the few dozen owners and
    # teams named by a query of their own: joining every open follow-up to its owner and team
    # before grouping was most of this query (51 -> 23 ms for a manager, bench/results.md).
    counts = list(
        qs.values("owner_id", "team_id")
        .annotate(
            # Counted on due_at (never null), not the id: the partial index answers alone.
            open=Count("*"),
            overdue=Count("due_at", filter=Q(due_at__lt=now)),
            escalated=Count("due_at", filter=Q(escalated_at__isnull=False)),
        )
        .order_by()
    )
    owners = {
        u["id"]: u
        for u in User.objects.filter(pk__in={r["owner_id"] for r in counts}).values(
            "id", "first_name", "last_name", "username", "role"
        )
    }
    teams = dict(Team.objects.filter(pk__in={r["team_id"] for r in counts}).values_list("id", "name"))
    rows = sorted(
        ({**r, **{k: v for k, v in owners[r["owner_id"]].items() if k != "id"}} for r in counts),
        key=lambda r: (-r["overdue"], -r["open"], r["last_name"], r["owner_id"]),
    )
    for r in rows:
        r["team_name"] = teams.get(r["team_id"], "")
    roles = dict(User.Role.choices)
    return [
        {
            "owner_id": r["owner_id"],
            "name": _name(r["first_name"], r["last_name"], r["username"]),
            "role": roles.get(r["role"], r["role"]),
            "team": r["team_name"] or "",
            "open": r["open"],
            "overdue": r["overdue"],
            "escalated": r["escalated"],
        }
        for r in rows
    ]


# --- Trials: where the two sides meet (issue 17) ------------------------------------------------
#
# Counts of the clinical side's participation records (never a row of them) per trial and site,
# next to the medical-affairs side's visits to the sites' investigators.


def participations(scope: ReportScope) -> QuerySet:
    """Participations of the cases in scope (the clinical teams, the chosen liaison)."""
    qs = _in_teams(Participation.objects.all(), scope.cl_team_ids, field="case__team")
    if scope.cl_person_id:
        qs = qs.filter(case__assigned_liaison_id=scope.cl_person_id)
    return qs


RECRUITMENT_STEPS = (
    ("screened", "Screened"),
    ("eligible", "Eligible"),
    ("consented", "Consented"),
    ("enrolled", "Enrolled"),
)


def recruitment_funnel(scope: ReportScope, *, limit: int | None = None) -> list[dict]:
    """Per trial and site, of the screenings started in the period: how many were screened, found
    eligible, consented and enrolled (each step reached, whatever came after), and how many
    failed screening. One GROUP BY."""
    rows = (
        participations(scope)
        .filter(_period("screened_at", scope))
        .values("site", "trial", "trial__protocol_number", "site__institution__name")
        .annotate(
            screened=Count("id"),
            eligible=Count("id", filter=Q(concluded_at__isnull=False, failure_reason="")),
            consented=Count("id", filter=Q(consented_at__isnull=False)),
            enrolled=Count("id", filter=Q(enrolled_on__isnull=False)),
            screen_failures=Count("id", filter=~Q(failure_reason="")),
        )
        .order_by("trial__protocol_number", "site__institution__name", "site")
    )
    if limit:
        rows = rows[:limit]
    return [
        {
            "site_id": r["site"],
            "trial_id": r["trial"],
            "protocol_number": r["trial__protocol_number"],
            "site": r["site__institution__name"],
            **{key: r[key] for key, _label in RECRUITMENT_STEPS},
            "screen_failures": r["screen_failures"],
            "enrolled_share": _share(r["enrolled"], r["screened"]),
        }
        for r in rows
    ]


def screening_outcomes(scope: ReportScope) -> dict:
    """Screen failures concluded in the period by coded reason, and the median days from the start
    of screening to enrolment of the participants enrolled in the period."""
    counts = dict(
        participations(scope)
        .filter(_period("concluded_at", scope))
        .exclude(failure_reason="")
        .values_list("failure_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    enrolled = (
        participations(scope)
        .filter(enrolled_on__gte=scope.date_from, enrolled_on__lte=scope.date_to)
        .values_list("screened_at__date", "enrolled_on")  # the screening's day where the users are
    )
    days = [(on - day).days for day, on in enrolled]
    return {
        "reasons": [
            {"reason": value, "label": label, "count": counts.get(value, 0)}
            for value, label in ScreenFailureReason.choices
        ],
        "median_days_to_enrolment": _round(statistics.median(days)) if days else None,
        "enrolled": len(days),
    }


def site_engagement(scope: ReportScope, *, limit: int | None = None) -> list[dict]:
    """For each trial site with a principal investigator: the MSL interactions with that PI in the
    period (the MSL teams in scope) next to the site's screenings and enrolments in the period
    (the clinical teams in scope). Three queries: the sites, the visits per PI, the site counts."""
    sites = (
        TrialSite.objects.filter(principal_investigator__isnull=False)
        .select_related("trial", "institution", "principal_investigator")
        .order_by("trial__protocol_number", "institution__name", "pk")
    )
    if limit:
        sites = sites[:limit]
    sites = list(sites)
    pis = {s.principal_investigator_id for s in sites}
    visits = dict(
        msl_interactions(scope).filter(physician__in=pis).order_by().values_list("physician").annotate(n=Count("*"))
    )
    counted = {
        r["site"]: r
        for r in participations(scope)
        .filter(site__in=[s.pk for s in sites])
        .values("site")
        .annotate(
            screened=Count("id", filter=_period("screened_at", scope)),
            enrolled=Count("id", filter=Q(enrolled_on__gte=scope.date_from, enrolled_on__lte=scope.date_to)),
        )
        .order_by()
    }
    return [
        {
            "site_id": s.pk,
            "protocol_number": s.trial.protocol_number,
            "site": s.institution.name,
            "status": s.get_status_display(),
            "physician_id": s.principal_investigator_id,
            "name": s.principal_investigator.display_name,
            "interactions": visits.get(s.principal_investigator_id, 0),
            "screened": counted.get(s.pk, {}).get("screened", 0),
            "enrolled": counted.get(s.pk, {}).get("enrolled", 0),
        }
        for s in sites
    ]
