"""django-filter FilterSets for every list: the query parameters of the URL contract (DESIGN/BRIEF)."""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

import django_filters as df
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.lookups import ALL_MSLS, MSLS, active_msls, people_in_scope
from accounts.models import Team, User
from liaison_crm.dates import day_start
from liaison_crm.lookups import name_prefix_q
from liaison_crm.widgets import LookupSelect

from .choices import (
    Channel,
    InquiryPriority,
    InquiryStatus,
    InsightStatus,
    InstitutionKind,
    KolTier,
    ProductStatus,
    SiteStatus,
    SponsorType,
    Theme,
    TrialPhase,
)
from .lookups import PRODUCTS
from .models import (
    ClinicalTrial,
    Insight,
    Institution,
    Interaction,
    MedicalInquiry,
    Physician,
    Product,
    TherapeuticArea,
    TrainingSession,
    TrialSite,
)

DATE = forms.DateInput(attrs={"type": "date"})


class DateRangeMixin:
    """`date_from` / `date_to` on a datetime column as index-friendly bounds (no __date cast)."""

    date_field = ""

    def filter_date_from(self, qs: QuerySet, name: str, value: dt.date) -> QuerySet:
        return qs.filter(**{f"{self.date_field}__gte": day_start(value)})

    def filter_date_to(self, qs: QuerySet, name: str, value: dt.date) -> QuerySet:
        return qs.filter(**{f"{self.date_field}__lt": day_start(value + dt.timedelta(days=1))})


def _scope_teams(request) -> QuerySet:
    user = request.user if request else None
    if user is None or not user.is_authenticated:
        return Team.objects.none()
    qs = Team.objects.filter(kind=Team.Kind.MEDICAL_AFFAIRS)
    scope = user.scope_team_ids
    return qs if scope is None else qs.filter(id__in=scope)


def _scope_msls(request) -> QuerySet:
    user = request.user if request else None
    if user is None or not user.is_authenticated:
        return User.objects.none()
    return people_in_scope(user, User.Role.MSL)


def _all_msls(request) -> QuerySet:
    return active_msls()


class PhysicianFilter(df.FilterSet):
    q = df.CharFilter(
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Name, NPI or institution"})
    )
    tier = df.ChoiceFilter(field_name="kol_tier", choices=KolTier.choices, label="KOL tier")
    specialty = df.CharFilter(field_name="specialty", lookup_expr="iexact")
    area = df.ModelChoiceFilter(queryset=TherapeuticArea.objects.all(), method="filter_area", label="Therapeutic area")
    owner = df.ModelChoiceFilter(
        queryset=_all_msls, field_name="owner", label="Owning MSL", widget=LookupSelect(ALL_MSLS)
    )
    institution = df.NumberFilter(field_name="institution_id", widget=forms.HiddenInput)
    not_contacted_days = df.NumberFilter(method="filter_not_contacted", label="Not contacted in (days)", min_value=0)
    contacted_within_days = df.NumberFilter(
        method="filter_contacted_within", label="Contacted within (days)", min_value=0, widget=forms.HiddenInput
    )

    class Meta:
        model = Physician
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        if value.isdigit():
            return qs.filter(npi__startswith=value)
        institutions = Institution.objects.filter(name__istartswith=value).values("id")
        return qs.filter(name_prefix_q(value) | Q(institution_id__in=institutions))

    def filter_area(self, qs: QuerySet, name: str, value: TherapeuticArea) -> QuerySet:
        # A subquery on the M2M table: no JOIN, so no duplicate rows and no DISTINCT.
        through = Physician.therapeutic_areas.through.objects.filter(therapeuticarea_id=value.pk)
        return qs.filter(id__in=through.values("physician_id"))

    # Both read `last_contact_at`, the viewer's teams' last contact (selectors.physicians_for
    # annotates it: Physician.objects.with_last_contact), as the list's column shows it.
    def filter_not_contacted(self, qs: QuerySet, name: str, value) -> QuerySet:
        cutoff = timezone.now() - dt.timedelta(days=int(value))
        return qs.filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=cutoff))

    def filter_contacted_within(self, qs: QuerySet, name: str, value) -> QuerySet:
        # The complement of not_contacted_days: the dashboard's "reached within cadence".
        return qs.filter(last_contact_at__gte=timezone.now() - dt.timedelta(days=int(value)))


class TextSearchMixin:
    """`q`: the text (stripped) matched by any of `search_lookups`; nothing typed, no filter."""

    search_lookups: tuple[str, ...] = ()

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(reduce(operator.or_, (Q(**{lookup: value}) for lookup in self.search_lookups)))


class PhysicianOrTextSearchMixin:
    """`q`: a physician's name prefix, or words in the record's own `search_field`."""

    search_field = ""

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        physicians = Physician.objects.filter(name_prefix_q(value)).values("id")
        return qs.filter(Q(physician_id__in=physicians) | Q(**{f"{self.search_field}__icontains": value}))


class InteractionFilter(PhysicianOrTextSearchMixin, DateRangeMixin, df.FilterSet):
    date_field = "occurred_at"
    search_field = "topics"
    q = df.CharFilter(
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Physician or topic"})
    )
    msl = df.ModelChoiceFilter(queryset=_scope_msls, field_name="msl", label="MSL", widget=LookupSelect(MSLS))
    physician = df.NumberFilter(field_name="physician_id", widget=forms.HiddenInput)
    channel = df.ChoiceFilter(choices=Channel.choices)
    tier = df.ChoiceFilter(field_name="physician__kol_tier", choices=KolTier.choices, label="KOL tier")
    product = df.ModelChoiceFilter(
        queryset=Product.objects.all(), method="filter_product", widget=LookupSelect(PRODUCTS)
    )
    date_from = df.DateFilter(method="filter_date_from", label="From", widget=DATE)
    date_to = df.DateFilter(method="filter_date_to", label="To", widget=DATE)
    team = df.ModelChoiceFilter(queryset=_scope_teams, field_name="team")

    class Meta:
        model = Interaction
        fields: list[str] = []

    def filter_product(self, qs: QuerySet, name: str, value: Product) -> QuerySet:
        through = Interaction.products.through.objects.filter(product_id=value.pk)
        return qs.filter(id__in=through.values("interaction_id"))


class InsightFilter(PhysicianOrTextSearchMixin, DateRangeMixin, df.FilterSet):
    date_field = "captured_at"
    search_field = "text"
    q = df.CharFilter(
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Text or physician"})
    )
    status = df.ChoiceFilter(choices=InsightStatus.choices)
    theme = df.ChoiceFilter(choices=Theme.choices)
    product = df.ModelChoiceFilter(queryset=Product.objects.all(), widget=LookupSelect(PRODUCTS))
    physician = df.NumberFilter(field_name="physician_id", widget=forms.HiddenInput)
    captured_by = df.ModelChoiceFilter(queryset=_scope_msls, label="Captured by", widget=LookupSelect(MSLS))
    date_from = df.DateFilter(method="filter_date_from", label="From", widget=DATE)
    date_to = df.DateFilter(method="filter_date_to", label="To", widget=DATE)
    team = df.ModelChoiceFilter(queryset=_scope_teams, field_name="team")

    class Meta:
        model = Insight
        fields: list[str] = []


class InquiryFilter(PhysicianOrTextSearchMixin, DateRangeMixin, df.FilterSet):
    date_field = "received_at"
    search_field = "question"
    q = df.CharFilter(
        method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Question or physician"})
    )
    status = df.ChoiceFilter(choices=InquiryStatus.choices)
    overdue = df.BooleanFilter(method="filter_overdue", label="Overdue only", widget=forms.CheckboxInput)
    answered = df.ChoiceFilter(
        choices=[("1", "Answered"), ("in_sla", "Answered within service level")], method="filter_answered",
        widget=forms.HiddenInput,
    )  # fmt: skip
    priority = df.ChoiceFilter(choices=InquiryPriority.choices)
    owner = df.ModelChoiceFilter(queryset=_scope_msls, label="Owner", widget=LookupSelect(MSLS))
    product = df.ModelChoiceFilter(queryset=Product.objects.all(), widget=LookupSelect(PRODUCTS))
    physician = df.NumberFilter(field_name="physician_id", widget=forms.HiddenInput)
    date_from = df.DateFilter(method="filter_date_from", label="Received from", widget=DATE)
    date_to = df.DateFilter(method="filter_date_to", label="Received to", widget=DATE)
    team = df.ModelChoiceFilter(queryset=_scope_teams, field_name="team")

    class Meta:
        model = MedicalInquiry
        fields: list[str] = []

    def filter_overdue(self, qs: QuerySet, name: str, value: bool) -> QuerySet:
        return qs.overdue() if value else qs

    def filter_answered(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        qs = qs.filter(answered_at__isnull=False)
        return qs.filter(answered_at__lte=F("due_at")) if value == "in_sla" else qs


class TrainingFilter(TextSearchMixin, DateRangeMixin, df.FilterSet):
    search_lookups = ("title__icontains", "topics__icontains")
    q = df.CharFilter(method="search", label="Search")
    trainer = df.ModelChoiceFilter(queryset=_scope_msls, widget=LookupSelect(MSLS))
    product = df.ModelChoiceFilter(
        queryset=Product.objects.all(), method="filter_product", widget=LookupSelect(PRODUCTS)
    )
    date_from = df.DateFilter(field_name="held_on", lookup_expr="gte", label="From", widget=DATE)
    date_to = df.DateFilter(field_name="held_on", lookup_expr="lte", label="To", widget=DATE)
    team = df.ModelChoiceFilter(queryset=_scope_teams, field_name="team")

    class Meta:
        model = TrainingSession
        fields: list[str] = []

    def filter_product(self, qs: QuerySet, name: str, value: Product) -> QuerySet:
        through = TrainingSession.products.through.objects.filter(product_id=value.pk)
        return qs.filter(id__in=through.values("trainingsession_id"))


class TrialFilter(TextSearchMixin, df.FilterSet):
    search_lookups = ("protocol_number__istartswith", "title__icontains")
    q = df.CharFilter(method="search", label="Search")
    phase = df.ChoiceFilter(choices=TrialPhase.choices)
    product = df.ModelChoiceFilter(queryset=Product.objects.all(), widget=LookupSelect(PRODUCTS))
    sponsor_type = df.ChoiceFilter(choices=SponsorType.choices, label="Sponsor")

    class Meta:
        model = ClinicalTrial
        fields: list[str] = []


class SiteFilter(df.FilterSet):
    q = df.CharFilter(method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Institution"}))
    status = df.ChoiceFilter(choices=SiteStatus.choices)
    trial = df.ModelChoiceFilter(queryset=ClinicalTrial.objects.all())

    class Meta:
        model = TrialSite
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(institution_id__in=Institution.objects.filter(name__istartswith=value).values("id"))


class InstitutionFilter(TextSearchMixin, df.FilterSet):
    search_lookups = ("name__istartswith", "city__istartswith")
    q = df.CharFilter(method="search", label="Search", widget=forms.TextInput(attrs={"placeholder": "Name or city"}))
    kind = df.ChoiceFilter(choices=InstitutionKind.choices)
    state = df.CharFilter(field_name="state", lookup_expr="iexact", label="State / region")

    class Meta:
        model = Institution
        fields: list[str] = []


class ProductFilter(TextSearchMixin, df.FilterSet):
    search_lookups = ("name__icontains", "generic_name__icontains")
    q = df.CharFilter(method="search", label="Search")
    status = df.ChoiceFilter(choices=ProductStatus.choices)
    area = df.ModelChoiceFilter(
        queryset=TherapeuticArea.objects.all(), field_name="therapeutic_area", label="Therapeutic area"
    )

    class Meta:
        model = Product
        fields: list[str] = []
