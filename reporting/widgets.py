"""The dashboards' widgets: a registry of small classes, each with its selector call, its table
(shown, or as the chart's accessible fallback, and exported as CSV), an optional chart and stats.

A widget's data is cached per filter set and scope (`ReportScope.cache_key`); links are added
after the cache, so they always carry the current request's filters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.cache import cache

from . import conf, selectors
from .filters import ReportScope
from .links import list_url

MSL, CLINICAL, JOINED = "msl", "clinical", "joined"


# Not frozen: a frozen dataclass sets each field through object.__setattr__, and an export
# builds a Cell for every value of every row.
@dataclass(slots=True)
class Cell:
    value: Any
    url: str | None = None
    bar: int | None = None  # the maximum of a <meter> drawn next to the value
    num: bool = False
    flag: str = ""  # a short warning badge next to the value

    @property
    def is_date(self) -> bool:
        """A date or a timestamp: the table writes it with |date (a timestamp's day where the
        user is)."""
        return isinstance(self.value, dt.date)


@dataclass(frozen=True)
class Stat:
    label: str
    value: Any
    url: str | None = None
    suffix: str = ""


def n(value, url=None, bar=None) -> Cell:
    return Cell(value, url, bar, num=True)


def _period(scope: ReportScope) -> dict[str, str]:
    return {"date_from": scope.date_from.isoformat(), "date_to": scope.date_to.isoformat()}


def _team(scope: ReportScope, side: str) -> dict[str, str]:
    """The `team` parameter for a list on `side`, when the filter picked a team of that side."""
    ids = scope.msl_team_ids if side == MSL else scope.cl_team_ids
    if scope.team_id and ids == frozenset({scope.team_id}):
        return {"team": str(scope.team_id)}
    if scope.personal and ids and len(ids) == 1:
        return {"team": str(next(iter(ids)))}
    return {}


def _msl_list(name: str, scope: ReportScope, **params) -> str:
    """A medical-affairs list of the period, on the MSL team the filter picked."""
    return list_url(name, **_period(scope), **_team(scope, MSL), **params)


def _physician(r: dict, key: str = "name") -> Cell:
    """A physician's name, linking to their page."""
    return Cell(r[key], list_url("physicians:detail", pk=r["physician_id"]))


class Widget:
    key: ClassVar[str]
    title: ClassVar[str]
    side: ClassVar[str]
    description: ClassVar[str] = ""
    width: ClassVar[str] = "col-lg-6"
    columns: ClassVar[list[str]] = []
    # Rows on the page; the CSV export has them all. A widget with a limit passes it to its selector.
    limit: ClassVar[int | None] = None
    # The reporting.selectors function that computes the widget's data from the scope.
    selector: ClassVar[Callable[..., Any]]

    # -- data
    def fetch(self, scope: ReportScope, *, limit: int | None) -> Any:
        if type(self).limit is None:
            return self.selector(scope)
        return self.selector(scope, limit=limit)

    def data(self, scope: ReportScope) -> Any:
        key = scope.cache_key(self.key)
        value = cache.get(key)
        if value is None:
            value = self.fetch(scope, limit=self.limit)
            if isinstance(value, Iterator):
                value = list(value)
            cache.set(key, value, conf.CACHE_SECONDS)
        return value

    @property
    def is_joined(self) -> bool:
        return self.side == JOINED

    def visible_to(self, scope: ReportScope) -> bool:
        return {MSL: scope.show_msl, CLINICAL: scope.show_clinical, JOINED: scope.show_joined}[self.side]

    # -- presentation
    def rows(self, data: Any, scope: ReportScope) -> Iterable[list[Cell]]:
        raise NotImplementedError

    def chart(self, data: Any, scope: ReportScope) -> dict | None:
        return None

    def stats(self, data: Any, scope: ReportScope) -> list[Stat]:
        return []

    def more_url(self, scope: ReportScope) -> str | None:
        return None

    def export_rows(self, scope: ReportScope) -> Iterable[list[Cell]]:
        """Every row for the CSV (no page limit), computed fresh with the same filters."""
        return self.rows(self.fetch(scope, limit=None), scope)

    def render_context(self, scope: ReportScope, *, table: bool = False) -> dict:
        """What a widget's card shows. A chart's table of figures is not built on the dashboard
        (it loads when its "Table of these figures" opens: `table=True`, views.widget_table):
        the MSL dashboard's charts alone had 1,600 table cells."""
        data = self.data(scope)
        chart = self.chart(data, scope)
        rows = list(self.rows(data, scope)) if table or chart is None else None
        return {
            "widget": self,
            "data": data,
            "rows": rows,
            "chart": chart,
            "chart_id": f"chart-data-{self.key}",
            # Something to show: the table's rows, or the chart's bars.
            "has_data": bool(rows) if rows is not None else bool(chart["labels"]),
            "stats": self.stats(data, scope),
            "more_url": self.more_url(scope),
            "truncated": rows is not None and self.limit is not None and len(rows) >= self.limit,
        }


REGISTRY: dict[str, Widget] = {}


def register(cls: type[Widget]) -> type[Widget]:
    REGISTRY[cls.key] = cls()
    return cls


def bar_chart(labels, datasets, *, stacked=False, horizontal=False, kind="bar", percent=False) -> dict:
    return {
        "type": kind,
        "labels": [str(x) for x in labels],
        "datasets": [{"label": str(lbl), "data": list(values)} for lbl, values in datasets],
        "stacked": stacked,
        "horizontal": horizontal,
        "percent": percent,
    }


class CountsByLabel(Widget):
    """A table of {label, count} rows, each count linking to its list, and their one-series chart."""

    series: ClassVar[str]  # the chart's name for the counts
    chart_kind: ClassVar[str] = "bar"

    def counted(self, data) -> list[dict]:
        return data

    def count_url(self, scope: ReportScope, row: dict) -> str:
        raise NotImplementedError

    def rows(self, data, scope):
        for r in self.counted(data):
            yield [Cell(r["label"]), n(r["count"], self.count_url(scope, r))]

    def chart(self, data, scope):
        rows = self.counted(data)
        if not rows:
            return None
        return bar_chart([r["label"] for r in rows], [(self.series, [r["count"] for r in rows])], kind=self.chart_kind)


# --- MSL side -----------------------------------------------------------------------------------


@register
class InteractionsByWeek(Widget):
    key = "interactions_by_week"
    title = "Interactions per week by channel"
    side = MSL
    width = "col-12"
    columns = ["Week of", "Channel", "Interactions"]
    selector = staticmethod(selectors.interactions_by_week)

    def _url(self, scope, week: dt.date, channel: str | None = None) -> str:
        params = {"date_from": week.isoformat(), "date_to": (week + dt.timedelta(days=6)).isoformat()}
        return list_url(
            "physicians:interactions", **params, **_team(scope, MSL), msl=scope.msl_person_id, channel=channel
        )

    def rows(self, data, scope):
        from physicians.choices import Channel

        values = {label: value for value, label in Channel.choices}
        for i, week in enumerate(data["weeks"]):
            for label, counts in data["channels"].items():
                if counts[i]:
                    yield [Cell(week), Cell(label), n(counts[i], self._url(scope, week, values[label]))]

    def chart(self, data, scope):
        labels = [w.strftime("%d %b") for w in data["weeks"]]
        return bar_chart(labels, data["channels"].items(), stacked=True)

    def stats(self, data, scope):
        url = _msl_list("physicians:interactions", scope, msl=scope.msl_person_id)
        return [Stat("Interactions in the period", data["total"], url)]


@register
class InteractionsPerMsl(Widget):
    key = "interactions_per_msl"
    title = "Interactions per MSL"
    side = MSL
    columns = ["MSL", "Interactions", "Physicians reached", "In person", "With tier-1 KOLs"]
    selector = staticmethod(selectors.interactions_per_msl)

    def rows(self, data, scope):
        top = max((r["total"] for r in data), default=0)
        for r in data:
            url = _msl_list("physicians:interactions", scope, msl=r["msl_id"])
            yield [
                Cell(r["name"]),
                n(r["total"], url, bar=top),
                n(r["physicians"], url),
                n(
                    r["in_person"],
                    list_url("physicians:interactions", **_period(scope), msl=r["msl_id"], channel="in_person"),
                ),
                n(r["tier1"], list_url("physicians:interactions", **_period(scope), msl=r["msl_id"], tier=1)),
            ]


@register
class KolCoverage(Widget):
    key = "kol_coverage"
    title = "KOL coverage by tier"
    side = MSL
    description = "Share of active KOLs reached within their tier's cadence, as of today."
    columns = ["Tier", "Cadence (days)", "KOLs", "Reached", "Not reached", "Coverage %"]
    selector = staticmethod(selectors.kol_coverage)

    def _url(self, scope, tier, **params):
        # The physicians list has an owner filter but no team filter; a person narrows by owner.
        scope_param = "team" if scope.msl_person_id is None else None
        return list_url("physicians:list", tier=tier, owner=scope.msl_person_id, scope=scope_param, **params)

    def rows(self, data, scope):
        for r in data:
            tier, days = r["tier"], r["cadence_days"]
            yield [
                Cell(f"Tier {tier}"),
                n(days),
                n(r["total"], self._url(scope, tier)),
                n(r["reached"], self._url(scope, tier, contacted_within_days=days)),
                n(r["not_reached"], self._url(scope, tier, not_contacted_days=days)),
                n(r["share"]),
            ]

    def chart(self, data, scope):
        return bar_chart(
            [f"Tier {r['tier']}" for r in data],
            [("Reached within cadence (%)", [r["share"] or 0 for r in data])],
            percent=True,
        )


@register
class KolsNotReached(Widget):
    key = "kols_not_reached"
    title = "KOLs not reached within cadence"
    side = MSL
    width = "col-12"
    limit = conf.TOP_ROWS
    columns = ["Physician", "Tier", "Cadence (days)", "Institution", "Owning MSL", "Last contact"]
    selector = staticmethod(selectors.kols_not_reached)

    def rows(self, data, scope):
        for r in data:
            yield [
                _physician(r),
                n(r["tier"]),
                n(r["cadence_days"]),
                Cell(r["institution"]),
                Cell(r["owner"]),
                Cell(r["last_interaction_at"]),
            ]


@register
class InsightsByThemeProduct(Widget):
    key = "insights_by_theme"
    title = "Insights by theme and product"
    side = MSL
    columns = ["Theme", "Product", "Insights"]
    selector = staticmethod(selectors.insights_by_theme_product)

    def rows(self, data, scope):
        for r in data["rows"]:
            url = _msl_list(
                "physicians:insights",
                scope,
                theme=r["theme"],
                product=r["product_id"],
                captured_by=scope.msl_person_id,
            )
            yield [Cell(r["theme_label"]), Cell(r["product"]), n(r["count"], url)]

    def chart(self, data, scope):
        themes = list(dict.fromkeys(r["theme_label"] for r in data["rows"]))
        products = list(dict.fromkeys(r["product"] for r in data["rows"]))
        counts = {(r["theme_label"], r["product"]): r["count"] for r in data["rows"]}
        return bar_chart(
            themes, [(p, [counts.get((t, p), 0) for t in themes]) for p in products], stacked=True, horizontal=True
        )


@register
class InsightStatusWidget(CountsByLabel):
    key = "insight_status"
    title = "Insights by status"
    side = MSL
    columns = ["Status", "Insights"]
    selector = staticmethod(selectors.insight_status)
    series = "Insights"
    chart_kind = "doughnut"

    def counted(self, data):
        return data["by_status"]

    def count_url(self, scope, row):
        return _msl_list("physicians:insights", scope, status=row["status"], captured_by=scope.msl_person_id)

    def stats(self, data, scope):
        return [
            Stat("Captured", data["total"], _msl_list("physicians:insights", scope, captured_by=scope.msl_person_id)),
            Stat("Median days to review", data["median_days_to_review"]),
        ]


@register
class NewestInsights(Widget):
    key = "newest_insights"
    title = "Newest insights"
    side = MSL
    width = "col-12"
    limit = 5
    columns = ["Captured", "Theme", "Product", "Physician", "Captured by", "Status", "Insight"]
    selector = staticmethod(selectors.newest_insights)

    def rows(self, data, scope):
        for r in data:
            yield [
                Cell(r["captured_at"]),
                Cell(r["theme"]),
                Cell(r["product"]),
                _physician(r, "physician"),
                Cell(r["captured_by"]),
                Cell(r["status"]),
                Cell(r["text"]),
            ]

    def more_url(self, scope):
        return _msl_list("physicians:insights", scope, captured_by=scope.msl_person_id)


@register
class Inquiries(Widget):
    key = "inquiries"
    title = "Medical information requests"
    side = MSL
    columns = ["Measure", "Value"]
    selector = staticmethod(selectors.inquiry_stats)

    def _url(self, scope, **params):
        return list_url("physicians:inquiries", **_team(scope, MSL), owner=scope.msl_person_id, **params)

    def stats(self, data, scope):
        return [
            Stat("Open", data["open"], self._url(scope, status="open")),
            Stat("Overdue", data["overdue"], self._url(scope, status="open", overdue=1)),
            Stat("Median turnaround", data["median_turnaround_days"], suffix=" days"),
            Stat("Answered within service level", data["within_sla_share"], suffix=" %"),
        ]

    def rows(self, data, scope):
        period = _period(scope)
        yield [Cell("Open now"), n(data["open"], self._url(scope, status="open"))]
        yield [Cell("Overdue now"), n(data["overdue"], self._url(scope, status="open", overdue=1))]
        yield [Cell("Received in the period"), n(data["received"], self._url(scope, **period))]
        yield [Cell("Answered (of those received)"), n(data["answered"], self._url(scope, **period, answered=1))]
        yield [
            Cell("Answered within service level"),
            n(data["within_sla"], self._url(scope, **period, answered="in_sla")),
        ]
        yield [Cell("Within service level (%)"), n(data["within_sla_share"])]
        yield [Cell("Median turnaround (days)"), n(data["median_turnaround_days"])]


@register
class Training(Widget):
    key = "training"
    title = "Sales-team training"
    side = MSL
    columns = ["Measure", "Value"]
    selector = staticmethod(selectors.training_stats)

    def stats(self, data, scope):
        url = _msl_list("physicians:trainings", scope)
        return [
            Stat("Sessions", data["sessions"], url),
            Stat("Attendees", data["attendees"], url),
            Stat("Average score improvement", data["avg_improvement"], suffix=" pts"),
        ]

    def rows(self, data, scope):
        url = _msl_list("physicians:trainings", scope)
        yield [Cell("Sessions"), n(data["sessions"], url)]
        yield [Cell("Attendees"), n(data["attendees"], url)]  # each session lists its attendees
        yield [Cell("Average score improvement (points)"), n(data["avg_improvement"])]


@register
class TrialSites(CountsByLabel):
    key = "trial_sites"
    title = "Trial sites by status"
    side = MSL
    columns = ["Status", "Sites"]
    selector = staticmethod(selectors.trial_sites_by_status)
    series = "Sites"

    def count_url(self, scope, row):
        return list_url("physicians:sites", status=row["status"])


@register
class TrialEnrolment(Widget):
    key = "trial_enrolment"
    title = "Enrolment against target per trial"
    side = MSL
    width = "col-12"
    limit = conf.TOP_ROWS
    columns = ["Protocol", "Trial", "Product", "Sites", "Target", "Enrolled", "Of target %"]
    selector = staticmethod(selectors.trial_enrolment)

    def rows(self, data, scope):
        for r in data:
            yield [
                Cell(r["protocol_number"]),
                Cell(r["title"]),
                Cell(r["product"]),
                n(r["sites"], list_url("physicians:sites", trial=r["id"])),
                n(r["target"]),
                n(r["actual"], bar=r["target"] or None),
                n(r["share"]),
            ]


# --- Clinical side ------------------------------------------------------------------------------


def _discharged(scope: ReportScope) -> dict[str, str]:
    """The worklist's cases discharged in the period (whenever they were referred)."""
    return {
        "stage": "discharged",
        "discharged_from": scope.date_from.isoformat(),
        "discharged_to": scope.date_to.isoformat(),
    }


def _cl(scope: ReportScope, **params) -> str:
    return list_url("patients:worklist", **_team(scope, CLINICAL), liaison=scope.cl_person_id, **params)


def _referrals(scope: ReportScope, r: dict, **source) -> list[Cell]:
    """A referral source's referrals and admissions in the period, each linking to those cases."""
    cases = {**_period(scope), **source}
    return [n(r["referrals"], _cl(scope, **cases)), n(r["admissions"], _cl(scope, **cases, stage="admitted"))]


@register
class ReferralFunnel(Widget):
    key = "referral_funnel"
    title = "Referral funnel"
    side = CLINICAL
    description = (
        "Cases referred in the period and how far they have come. Evaluated within window counts "
        "the cases whose window (by priority, from the service-level rule) has closed."
    )
    columns = ["Step", "Cases", "Conversion from previous step %"]
    selector = staticmethod(selectors.referral_funnel)

    def rows(self, data, scope):
        for step in data["steps"]:
            # The cohort's cases that got at least this far, whatever their stage now.
            reached = None if step["key"] == "referred" else step["key"]
            yield [
                Cell(step["label"]),
                n(step["count"], _cl(scope, **_period(scope), stage="all", reached=reached)),
                n(step["conversion"]),
            ]
        yield [Cell("Declined"), n(data["declined"], _cl(scope, **_period(scope), stage="declined")), n(None)]

    def chart(self, data, scope):
        labels = [
            s["label"] if s["conversion"] is None else f"{s['label']} ({s['conversion']:g}%)" for s in data["steps"]
        ]
        return bar_chart(labels, [("Cases", [s["count"] for s in data["steps"]])])

    def stats(self, data, scope):
        return [
            Stat("Referrals", data["referred"], _cl(scope, **_period(scope), stage="all")),
            Stat("Median days to evaluation", data["median_days_to_evaluation"]),
            Stat("Median days to admission", data["median_days_to_admission"]),
            Stat(
                f"Evaluated within window ({data['urgent_window_hours']:g} h urgent, "
                f"{data['standard_window_hours']:g} h standard)",
                data["evaluated_in_window_share"],
                suffix=" %",
            ),
        ]


@register
class Declines(CountsByLabel):
    key = "declines"
    title = "Declines by reason"
    side = CLINICAL
    columns = ["Reason", "Cases"]
    selector = staticmethod(selectors.declines_by_reason)
    series = "Declines"
    chart_kind = "doughnut"

    def count_url(self, scope, row):
        return _cl(scope, **_period(scope), stage="declined", decline_reason=row["reason"])


@register
class Discharges(CountsByLabel):
    key = "discharges"
    title = "Discharges"
    side = CLINICAL
    description = "Cases discharged in the period."
    columns = ["Disposition", "Cases"]
    selector = staticmethod(selectors.discharges)
    series = "Discharges"
    chart_kind = "doughnut"

    def counted(self, data):
        return data["dispositions"]

    def count_url(self, scope, row):
        return _cl(scope, **_discharged(scope), discharge_disposition=row["disposition"])

    def stats(self, data, scope):
        return [
            Stat("Discharged", data["total"], _cl(scope, **_discharged(scope))),
            Stat("Average length of stay", data["avg_length_of_stay_days"], suffix=" days"),
        ]


@register
class Caseload(Widget):
    key = "caseload"
    title = "Caseload per liaison"
    side = CLINICAL
    width = "col-12"
    description = "Open cases now, by stage."
    selector = staticmethod(selectors.caseload)

    @property
    def columns(self):
        from patients.choices import OPEN_STAGES, Stage

        return [
            "Liaison",
            *[Stage(s).label for s in OPEN_STAGES],
            "Open cases",
            "Consents pending",
            "Communication gaps",
        ]

    def rows(self, data, scope):
        top = max((r["total"] for r in data["liaisons"]), default=0)
        for r in data["liaisons"]:
            liaison = r["liaison_id"] or None

            def url(liaison=liaison, **params):
                return list_url("patients:worklist", **_team(scope, CLINICAL), liaison=liaison, **params)

            yield [
                Cell(r["name"]),
                *[n(count, url(stage=stage["key"])) for count, stage in zip(r["stages"], data["stages"], strict=True)],
                n(r["total"], url(), bar=top),
                n(r["consents_pending"], url(consent="pending")),
                n(r["gaps"], url(gap="true")),
            ]

    def stats(self, data, scope):
        return [
            Stat("Open cases", data["total"], _cl(scope)),
            Stat("Consents pending", data["consents_pending"], _cl(scope, consent="pending")),
            Stat(f"No contact for {data['gap_days']:g}+ days", data["gaps"], _cl(scope, gap="true")),
        ]


@register
class TopReferringPhysicians(Widget):
    key = "top_referring_physicians"
    title = "Top referring physicians"
    side = CLINICAL
    limit = 10
    columns = ["Physician", "Institution", "Referrals", "Admissions"]
    selector = staticmethod(selectors.top_referring_physicians)

    def rows(self, data, scope):
        for r in data:
            yield [
                _physician(r),
                Cell(r["institution"]),
                *_referrals(scope, r, referral_physician=r["physician_id"]),
            ]


@register
class TopReferringInstitutions(Widget):
    key = "top_referring_institutions"
    title = "Top referring institutions"
    side = CLINICAL
    limit = 10
    columns = ["Institution", "City", "Referrals", "Admissions"]
    selector = staticmethod(selectors.top_referring_institutions)

    def rows(self, data, scope):
        for r in data:
            yield [Cell(r["name"]), Cell(r["city"]), *_referrals(scope, r, referral_institution=r["institution_id"])]


# --- Joined -------------------------------------------------------------------------------------


@register
class ReferrersEngagement(Widget):
    key = "referrers_engagement"
    title = "Referring physicians and their MSL engagement"
    side = JOINED
    width = "col-12"
    limit = conf.TOP_ROWS
    description = (
        "Each physician who referred patients in the period: referrals and admissions next to the "
        "MSL interactions in the same period, the last MSL contact, KOL tier and owning MSL."
    )
    columns = [
        "Physician",
        "Institution",
        "Tier",
        "Owning MSL",
        "Referrals",
        "Admissions",
        "MSL interactions",
        "Last MSL contact",
    ]
    selector = staticmethod(selectors.referrers_engagement)

    def rows(self, data, scope):
        for r in data:
            yield [
                _physician(r),
                Cell(r["institution"]),
                Cell(r["tier_label"]),
                Cell(r["owner"]),
                *_referrals(scope, r, referral_physician=r["physician_id"]),
                Cell(
                    r["interactions"],
                    _msl_list("physicians:interactions", scope, physician=r["physician_id"]),
                    num=True,
                    flag="" if r["interactions"] else "No MSL contact",
                ),
                Cell(r["last_interaction_at"]),
            ]


@register
class SilentKolInstitutions(Widget):
    key = "silent_kols"
    title = "Tier-1 KOLs at institutions that referred nothing"
    side = JOINED
    limit = conf.TOP_ROWS
    columns = ["Physician", "Institution", "Owning MSL", "Last MSL contact"]
    selector = staticmethod(selectors.silent_kol_institutions)

    def rows(self, data, scope):
        for r in data:
            yield [
                _physician(r),
                Cell(r["institution"], list_url("physicians:list", institution=r["institution_id"], tier=1)),
                Cell(r["owner"]),
                Cell(r["last_interaction_at"]),
            ]


@register
class FollowUps(Widget):
    key = "follow_ups"
    title = "Follow-ups across both teams"
    side = JOINED
    description = "Open follow-ups now, per person."
    columns = ["Person", "Role", "Team", "Open", "Overdue", "Escalated"]
    selector = staticmethod(selectors.follow_ups_per_person)

    def rows(self, data, scope):
        for r in data:
            owner = r["owner_id"]
            yield [
                Cell(r["name"]),
                Cell(r["role"]),
                Cell(r["team"]),
                n(r["open"], list_url("outreach:follow_ups", owner=owner)),
                n(r["overdue"], list_url("outreach:follow_ups", owner=owner, state="overdue")),
                n(r["escalated"], list_url("outreach:follow_ups", owner=owner, state="escalated")),
            ]


# --- Trials: recruitment counted from the clinical side, next to the MSLs' visits ---------------


def _site(r: dict) -> Cell:
    return Cell(f"{r['protocol_number']} · {r['site']}", list_url("physicians:site_detail", pk=r["site_id"]))


@register
class RecruitmentFunnel(Widget):
    key = "recruitment_funnel"
    title = "Trial recruitment per site"
    side = JOINED
    width = "col-12"
    description = "Of the screenings started in the period: each step reached."
    limit = conf.TOP_ROWS
    columns = ["Trial site", *[label for _key, label in selectors.RECRUITMENT_STEPS], "Screen failures", "Enrolled %"]
    selector = staticmethod(selectors.recruitment_funnel)

    def rows(self, data, scope):
        for r in data:
            top = r["screened"] or None
            yield [
                _site(r),
                *[n(r[key], bar=top) for key, _label in selectors.RECRUITMENT_STEPS],
                n(r["screen_failures"]),
                n(r["enrolled_share"]),
            ]


@register
class ScreeningOutcomes(CountsByLabel):
    key = "screening_outcomes"
    title = "Screen failures by reason"
    side = JOINED
    series = "Screen failures"
    columns = ["Reason", "Screen failures"]
    selector = staticmethod(selectors.screening_outcomes)

    def counted(self, data):
        return data["reasons"]

    def rows(self, data, scope):
        for r in self.counted(data):
            yield [Cell(r["label"]), n(r["count"])]

    def stats(self, data, scope):
        median = data["median_days_to_enrolment"]
        return [
            Stat("Median days from screening to enrolment", "—" if median is None else median),
            Stat("Enrolled in the period", data["enrolled"]),
        ]


@register
class SiteEngagement(Widget):
    key = "site_engagement"
    title = "Trial sites: MSL visits to the investigator next to screenings and enrolments"
    side = JOINED
    width = "col-12"
    limit = conf.TOP_ROWS
    columns = ["Trial site", "Status", "Principal investigator", "MSL interactions", "Screened", "Enrolled"]
    selector = staticmethod(selectors.site_engagement)

    def rows(self, data, scope):
        for r in data:
            yield [
                _site(r),
                Cell(r["status"]),
                _physician(r),
                n(r["interactions"], _msl_list("physicians:interactions", scope, physician=r["physician_id"])),
                n(r["screened"]),
                n(r["enrolled"]),
            ]


PAGES: dict[str, list[str]] = {
    # The joined widgets first, under one heading (templates/reporting/dashboard.html), then each side's.
    "overview": [
        "referrers_engagement",
        "silent_kols",
        "follow_ups",
        "referral_funnel",
        "kol_coverage",
        "interactions_per_msl",
        "inquiries",
        "caseload",
    ],
    "msl": [
        "interactions_by_week",
        "interactions_per_msl",
        "kol_coverage",
        "kols_not_reached",
        "insights_by_theme",
        "insight_status",
        "newest_insights",
        "inquiries",
        "training",
        "trial_enrolment",
        "trial_sites",
    ],
    "clinical": [
        "referral_funnel",
        "declines",
        "discharges",
        "caseload",
        "top_referring_physicians",
        "top_referring_institutions",
    ],
    # Trials, where the two sides meet (issue 17): counts of the clinical side's records next to
    # the MSLs' visits. A page of its own: on the overview, their tables took it past its budget.
    "trials": [
        "recruitment_funnel",
        "screening_outcomes",
        "site_engagement",
    ],
}
