"""The dashboards' filter form (GET, bookmarkable) and the scope it resolves to.

`resolve_scope(user, params)` turns the querystring into a `ReportScope`: the date range, and for
each side (MSL, clinical) the teams and person the figures may come from. The user's role decides
what can be seen at all; the filters only ever narrow that. A `team` or `person` outside the
user's scope is refused with a 404 (never data).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.http import Http404
from django.utils import timezone

from accounts.models import Team, User
from liaison_crm.dates import day_start
from liaison_crm.widgets import LookupSelect
from outreach import rules as service_levels

from . import conf
from .lookups import DASHBOARD_PEOPLE, dashboard_people

RANGE_CHOICES = [
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("365d", "Last 365 days"),
    ("quarter", "This quarter"),
    ("custom", "Custom"),
]
RANGE_DAYS = {"30d": 30, "90d": 90, "365d": 365}


@dataclass(frozen=True)
class ReportScope:
    """What one dashboard request may show. `None` team ids mean every team (administrators)."""

    date_from: dt.date
    date_to: dt.date
    range_key: str
    show_msl: bool
    show_clinical: bool
    msl_team_ids: frozenset[int] | None = frozenset()
    cl_team_ids: frozenset[int] | None = frozenset()
    msl_person_id: int | None = None
    cl_person_id: int | None = None
    personal: bool = False
    team_id: int | None = None
    person_id: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def show_joined(self) -> bool:
        return self.show_msl and self.show_clinical and not self.personal

    @property
    def start(self) -> dt.datetime:
        return day_start(self.date_from)

    @property
    def end(self) -> dt.datetime:
        """Exclusive end: midnight after `date_to`."""
        return day_start(self.date_to + dt.timedelta(days=1))

    @property
    def followup_team_ids(self) -> frozenset[int] | None:
        if self.msl_team_ids is None or self.cl_team_ids is None:
            return None
        return self.msl_team_ids | self.cl_team_ids

    def cache_key(self, widget_key: str) -> str:
        """Everything that changes a widget's numbers: the range, the teams and people in scope."""

        def ids(value):
            return "all" if value is None else ",".join(map(str, sorted(value)))

        parts = (
            widget_key,
            self.date_from.isoformat(),
            self.date_to.isoformat(),
            int(self.show_msl),
            int(self.show_clinical),
            int(self.personal),
            ids(self.msl_team_ids),
            ids(self.cl_team_ids),
            self.msl_person_id,
            self.cl_person_id,
            timezone.localdate().isoformat(),  # "overdue" and "within cadence" move with the day
            # The service levels the figures and labels were computed with: an edited rule is
            # never answered from a figure cached with its old parameters.
            service_levels.fingerprint(),
        )
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        return f"reporting:{widget_key}:{digest}"

    def querystring_params(self) -> dict[str, str]:
        """The filters as URL parameters (drill-down and CSV links repeat them)."""
        params = {"range": self.range_key}
        if self.range_key == "custom":
            params.update(date_from=self.date_from.isoformat(), date_to=self.date_to.isoformat())
        if self.team_id:
            params["team"] = str(self.team_id)
        if self.person_id:
            params["person"] = str(self.person_id)
        return params


def preset_dates(range_key: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if range_key == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        return dt.date(today.year, first_month, 1), today
    days = RANGE_DAYS.get(range_key, RANGE_DAYS.get(conf.DEFAULT_RANGE, 90))
    return today - dt.timedelta(days=days - 1), today


class DashboardFilterForm(forms.Form):
    range = forms.ChoiceField(
        choices=RANGE_CHOICES, required=False, label="Period", widget=forms.Select(attrs={"data-range-select": ""})
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="All my teams")
    # A picker: an administrator's people run to hundreds (reporting.lookups.DASHBOARD_PEOPLE).
    person = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Everyone", widget=LookupSelect(DASHBOARD_PEOPLE)
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        scope = user.scope_team_ids
        teams = Team.objects.all() if scope is None else Team.objects.filter(id__in=scope)
        self.fields["team"].queryset = teams.order_by("name")
        self.fields["person"].queryset = dashboard_people(user)
        self.fields["person"].label_from_instance = DASHBOARD_PEOPLE.label
        self.helper = self._helper(people=user.is_manager or user.is_admin_role)

    @staticmethod
    def _helper(*, people: bool) -> FormHelper:
        """The filter bar's grid. The template writes the <form> and its Apply button; the custom
        dates show only for a custom period (static/js/reporting.js). MSLs and liaisons see their
        own figures: no team or person to choose (the fields still refuse another team's ids)."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        # The page says what was wrong with a custom period, and which period it shows instead.
        helper.form_show_errors = False
        column = "col-6 col-md-3 col-lg-2"
        parts = [
            Div(Field("range"), css_class=column),
            Div(Field("date_from"), css_class=column, data_custom_dates=""),
            Div(Field("date_to"), css_class=column, data_custom_dates=""),
        ]
        if people:
            parts += [Div(Field("team"), css_class=column), Div(Field("person"), css_class=column)]
        helper.layout = Layout(*parts)
        return helper

    @classmethod
    def showing(cls, scope: ReportScope, *, user: User) -> DashboardFilterForm:
        """The filter bar of a page, showing the period and filters the page resolved to (a
        preset's dates too, ready for a switch to a custom period)."""
        initial = {
            "range": scope.range_key,
            "date_from": scope.date_from,
            "date_to": scope.date_to,
            "team": scope.team_id,
            "person": scope.person_id,
        }
        return cls(user=user, initial=initial)

    def clean(self):
        data = super().clean()
        if data.get("range") == "custom":
            date_from, date_to = data.get("date_from"), data.get("date_to")
            if not date_from or not date_to:
                raise forms.ValidationError("A custom period needs both a start and an end date.")
            if date_from > date_to:
                raise forms.ValidationError("The start date must be on or before the end date.")
            if (date_to - date_from).days > 3 * 366:
                raise forms.ValidationError("A custom period may span at most three years.")
        return data


def resolve_scope(user: User, params) -> tuple[ReportScope, DashboardFilterForm]:
    """Scope for `user` from the querystring; 404 for a team or person outside it.

    The form returned is the page's filter bar: the one that was sent when it has something to
    say (a bad custom period), otherwise one showing the scope's period and filters."""
    scope, form = _resolve(user, params)
    if form.is_bound and form.errors:
        return scope, form
    return scope, DashboardFilterForm.showing(scope, user=user)


def _resolve(user: User, params) -> tuple[ReportScope, DashboardFilterForm]:
    form = DashboardFilterForm(params or None, user=user)
    is_bound = form.is_bound
    valid = form.is_valid() if is_bound else False
    errors = form.errors if is_bound else {}
    if "team" in errors or "person" in errors:
        # Not a typo to correct: the team or person is not one this user may report on.
        raise Http404("No such team or person in your scope.")
    data = form.cleaned_data if valid else {}
    if is_bound and not valid:
        # A bad custom period falls back to the default range; the form shows why.
        data = {k: v for k, v in form.cleaned_data.items() if k in ("team", "person")}

    today = timezone.localdate()
    range_key = data.get("range") or conf.DEFAULT_RANGE
    if range_key == "custom" and data.get("date_from"):
        date_from, date_to = data["date_from"], data["date_to"]
    else:
        range_key = range_key if range_key in RANGE_DAYS or range_key == "quarter" else conf.DEFAULT_RANGE
        date_from, date_to = preset_dates(range_key, today)

    common = {"date_from": date_from, "date_to": date_to, "range_key": range_key}
    if user.is_msl or user.is_liaison:
        # A personal version of their own side: their own work (an MSL never sees a patient figure).
        side = "msl" if user.is_msl else "cl"
        own = {
            f"{side}_team_ids": frozenset({user.team_id}) if user.team_id else frozenset(),
            f"{side}_person_id": user.pk,
        }
        return ReportScope(**common, show_msl=user.is_msl, show_clinical=user.is_liaison, personal=True, **own), form
    if not (user.is_manager or user.is_admin_role):
        return ReportScope(**common, show_msl=False, show_clinical=False), form

    scope = user.scope_team_ids
    if scope is None:
        msl_ids = cl_ids = None
    else:
        kinds = dict(Team.objects.filter(id__in=scope).values_list("id", "kind")) if scope else {}
        msl_ids = frozenset(i for i, k in kinds.items() if k == Team.Kind.MEDICAL_AFFAIRS)
        cl_ids = frozenset(i for i, k in kinds.items() if k == Team.Kind.CLINICAL_LIAISON)

    # A team narrows the side it belongs to; the other side keeps the manager's whole scope, so
    # "MA East" against every referral the manager sees is still a meaningful join.
    team: Team | None = data.get("team")
    person: User | None = data.get("person")
    msl_person = cl_person = None
    if team is not None:
        if team.kind == Team.Kind.MEDICAL_AFFAIRS:
            msl_ids = frozenset({team.pk})
        else:
            cl_ids = frozenset({team.pk})
    if person is not None:
        if person.role == User.Role.MSL:
            msl_person = person.pk
        else:
            cl_person = person.pk
    return ReportScope(
        **common,
        show_msl=True,
        show_clinical=True,
        msl_team_ids=msl_ids,
        cl_team_ids=cl_ids,
        msl_person_id=msl_person,
        cl_person_id=cl_person,
        team_id=team.pk if team else None,
        person_id=person.pk if person else None,
    ), form
