"""Worklist filters: every one is a query parameter of the bookmarkable URL (see DESIGN.md)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.lookups import LIAISONS, people_in_scope
from accounts.models import Team, User
from liaison_crm.dates import day_start
from liaison_crm.widgets import LookupSelect

from . import conf
from .choices import OPEN_STAGES, ConsentStatus, DeclineReason, DischargeDisposition, Priority, Stage
from .models import Case, Consent
from .selectors import search_cases

STAGE_CHOICES = [("open", "All open"), *Stage.choices, ("all", "All stages")]
# Cases that got at least this far, whatever their stage now (the dashboard's funnel steps).
REACHED = {
    "evaluated": "evaluated_at",
    "accepted": "accepted_at",
    "admitted": "admitted_at",
    "discharged": "discharged_at",
}


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search name or MRN")
    stage = django_filters.ChoiceFilter(choices=STAGE_CHOICES, method="filter_stage", empty_label=None)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    liaison = django_filters.ModelChoiceFilter(
        field_name="assigned_liaison", queryset=User.objects.none(), label="Liaison", widget=LookupSelect(LIAISONS)
    )
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.none())
    program = django_filters.CharFilter(field_name="program", lookup_expr="iexact")
    referral_physician = django_filters.NumberFilter(field_name="referral_physician_id")
    referral_institution = django_filters.NumberFilter(field_name="referral_institution_id")
    reached = django_filters.ChoiceFilter(
        choices=[(k, k.title()) for k in REACHED], method="filter_reached", widget=forms.HiddenInput
    )
    consent = django_filters.ChoiceFilter(
        choices=[("pending", "Consent pending")], method="filter_consent", widget=forms.HiddenInput
    )
    gap = django_filters.BooleanFilter(method="filter_gap", widget=forms.HiddenInput)
    decline_reason = django_filters.ChoiceFilter(choices=DeclineReason.choices, widget=forms.HiddenInput)
    discharge_disposition = django_filters.ChoiceFilter(choices=DischargeDisposition.choices, widget=forms.HiddenInput)
    discharged_from = django_filters.DateFilter(method="filter_discharged_from", widget=forms.HiddenInput)
    discharged_to = django_filters.DateFilter(method="filter_discharged_to", widget=forms.HiddenInput)
    date_from = django_filters.DateFilter(
        method="filter_date_from", label="Referred from", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to", label="Referred until", widget=forms.DateInput(attrs={"type": "date"})
    )
    scope = django_filters.ChoiceFilter(
        choices=[("mine", "My cases"), ("team", "Team")], method="filter_scope", empty_label=None, label="Show"
    )

    class Meta:
        model = Case
        fields = []

    def __init__(self, data=None, *args, user=None, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("stage", "open")
        if user is not None and user.is_liaison:
            data.setdefault("scope", "mine")
        super().__init__(data, *args, **kwargs)
        self.user = user
        # The liaisons the picker offers (accounts.lookups.LIAISONS): those of the user's teams.
        self.filters["liaison"].queryset = people_in_scope(user, User.Role.CLINICAL_LIAISON)
        teams = Team.objects.filter(kind=Team.Kind.CLINICAL_LIAISON)
        if user.scope_team_ids is not None:
            teams = teams.filter(pk__in=user.scope_team_ids)
        self.filters["team"].queryset = teams
        # templates/patients/worklist.html lays the bar out and crispy renders each field; a
        # choice submits the bar at once.
        for name, field in self.form.fields.items():
            if isinstance(field.widget, forms.Select) and name != "q":
                field.widget.attrs["data-autosubmit"] = "1"

    def filter_q(self, qs, name, value):
        return search_cases(qs, value)

    def filter_stage(self, qs, name, value):
        if value == "all":
            return qs
        if value == "open" or not value:
            return qs.filter(stage__in=OPEN_STAGES)
        return qs.filter(stage=value)

    def filter_reached(self, qs, name, value):
        return qs.filter(**{f"{REACHED[value]}__isnull": False})

    def filter_consent(self, qs, name, value):
        return qs.filter(pk__in=Consent.objects.filter(status=ConsentStatus.PENDING).values("case_id"))

    def filter_gap(self, qs, name, value):
        """Open cases without a communication for the communication-gap rule's days (as the dashboard)."""
        if not value:
            return qs
        before = timezone.now() - dt.timedelta(days=conf.communication_gap_days())
        return qs.filter(
            Q(last_communication_at__isnull=True) | Q(last_communication_at__lt=before), stage__in=OPEN_STAGES
        )

    def filter_discharged_from(self, qs, name, value):
        return qs.filter(discharged_at__gte=day_start(value))

    def filter_discharged_to(self, qs, name, value):
        return qs.filter(discharged_at__lt=day_start(value + dt.timedelta(days=1)))

    # Ranges on the indexed timestamp rather than a date() of it.
    def filter_date_from(self, qs, name, value):
        return qs.filter(referral_received_at__gte=day_start(value))

    def filter_date_to(self, qs, name, value):
        return qs.filter(referral_received_at__lt=day_start(value + dt.timedelta(days=1)))

    def filter_scope(self, qs, name, value):
        if value == "mine" and self.user is not None and self.user.is_liaison:
            return qs.filter(assigned_liaison=self.user)
        return qs
