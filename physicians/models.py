"""Medical affairs records: institutions, physicians (HCPs/KOLs), products, interactions,
insights, medical inquiries, sales-team trainings, clinical trials and their sites."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import DateTimeField, F, FilteredRelation, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, NullIf, Upper
from django.utils import timezone

from liaison_crm.indexes import NullsFirstIndex

from .choices import (
    Channel,
    ConsentChannel,
    ConsentStatus,
    CriterionKind,
    DeliveryMethod,
    InquiryPriority,
    InquiryStatus,
    InsightStatus,
    InstitutionKind,
    KolTier,
    ProductStatus,
    Sentiment,
    SiteStatus,
    SponsorType,
    Theme,
    TrialPhase,
    TrialStatus,
)
from .npi import validate_npi


def _medical_affairs_scope(qs: models.QuerySet, user, team_field: str = "team") -> models.QuerySet:
    """MSL-side records: visible to medical affairs staff of the record's team and their managers."""
    if not user.is_authenticated or not user.sees_medical_affairs:
        return qs.none()
    scope = user.scope_team_ids
    if scope is None:
        return qs
    return qs.filter(**{f"{team_field}__in": scope})


class TherapeuticArea(models.Model):
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InstitutionQuerySet(models.QuerySet):
    def visible_to(self, user) -> InstitutionQuerySet:
        # Institutions are reference data (and referral sources): every signed-in role reads them.
        return self if user.is_authenticated else self.none()


class Institution(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=InstitutionKind.choices, default=InstitutionKind.HOSPITAL)
    city = models.CharField(max_length=100)
    state = models.CharField("state / region", max_length=100, blank=True)
    country = models.CharField(max_length=100, default="United States")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        ordering = ["name", "city"]
        constraints = [models.UniqueConstraint(fields=["name", "city"], name="institution_unique_name_city")]
        indexes = [
            models.Index(Upper("name"), name="institution_upper_name_idx"),
            models.Index(fields=["kind", "name"], name="institution_kind_name_idx"),
            models.Index(fields=["state", "name"], name="institution_state_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"


# Stands for "never" inside GREATEST(): SQLite's answers NULL if any argument is NULL.
_NEVER = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
# Up to this many teams, a viewer's last contact is one LEFT JOIN per team (a hash join each, so
# the list sorts 50,000 physicians by it in tens of milliseconds); beyond, a correlated subquery
# per physician (right, but a sort over every physician then runs it 50,000 times).
JOINED_CONTACT_TEAMS = 4


class PhysicianQuerySet(models.QuerySet):
    def visible_to(self, user) -> PhysicianQuerySet:
        # Physicians are shared reference data: MSLs work them, liaisons pick them as referral
        # sources. What is *said* to them (interactions, insights, inquiries) is scoped.
        return self if user.is_authenticated else self.none()

    def with_last_contact(self, team_ids: Collection[int] | None) -> PhysicianQuerySet:
        """Annotate `last_contact_at`: the latest interaction of the teams `team_ids` (None: of
        any team, the denormalised `last_interaction_at`), read from PhysicianTeamContact.

        Physicians are shared across MSL teams but interactions belong to one: "last contact" is
        the viewer's teams' (physicians.selectors.contact_team_ids), the one their timeline shows.
        """
        if team_ids is None:
            return self.annotate(last_contact_at=F("last_interaction_at"))
        teams = sorted(team_ids)
        if not teams:
            return self.annotate(last_contact_at=Value(None, output_field=DateTimeField()))
        if len(teams) > JOINED_CONTACT_TEAMS:
            latest = (
                PhysicianTeamContact.objects.filter(physician=OuterRef("pk"), team_id__in=teams)
                .order_by("-last_interaction_at")
                .values("last_interaction_at")[:1]
            )
            return self.annotate(last_contact_at=Subquery(latest, output_field=DateTimeField()))
        # One LEFT JOIN per team, on the unique (physician, team): at most one row each, so no
        # duplicates, and PostgreSQL drops the join where the query does not read the date.
        joins = {
            f"team_contact_{team}": FilteredRelation("team_contacts", condition=Q(team_contacts__team_id=team))
            for team in teams
        }
        dates = [F(f"{alias}__last_interaction_at") for alias in joins]
        if len(dates) == 1:
            latest = dates[0]
        else:
            never = Value(_NEVER, output_field=DateTimeField())
            latest = NullIf(Greatest(*(Coalesce(d, never) for d in dates)), never)
        return self.alias(**joins).annotate(last_contact_at=latest)


class Physician(models.Model):
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    credentials = models.CharField(max_length=60, blank=True, help_text="e.g. MD, DO, PhD")
    npi = models.CharField(
        "NPI",
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_npi],
        help_text="10-digit National Provider Identifier",
    )
    specialty = models.CharField(max_length=120, blank=True, db_index=True)
    # The NUCC Health Care Provider Taxonomy code the specialty was named from (an NPPES import
    # stores the primary taxonomy's code here and its NUCC display name in `specialty`).
    taxonomy_code = models.CharField(
        "taxonomy code", max_length=10, blank=True, help_text="NUCC provider taxonomy code, e.g. 207RC0000X"
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.SET_NULL, null=True, blank=True, related_name="physicians"
    )
    # Where the physician practises, as the NPI registry records it (Business Practice Location).
    practice_address = models.CharField("practice address", max_length=200, blank=True)
    practice_city = models.CharField("practice city", max_length=100, blank=True)
    practice_state = models.CharField("practice state", max_length=100, blank=True)
    practice_postal_code = models.CharField("practice postal code", max_length=20, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    kol_tier = models.PositiveSmallIntegerField("KOL tier", choices=KolTier.choices, default=KolTier.UNRANKED)
    therapeutic_areas = models.ManyToManyField(TherapeuticArea, blank=True, related_name="physicians")
    scientific_interests = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_physicians",
        verbose_name="owning MSL",
    )
    is_active = models.BooleanField("active", default=True)
    # Kept by physicians.services.log_interaction: sorting and "not contacted in N days" must
    # not aggregate a million interactions per page. Every team's latest: what a viewer who sees
    # every team reads; the others read their own teams' (PhysicianTeamContact).
    last_interaction_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PhysicianQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            # The whole list in its default order (last name, then id), deep pages included: the
            # page's ids come from this index alone (see pagination.paginate).
            models.Index(fields=["last_name", "id"], name="physician_name_id_idx"),
            models.Index(fields=["last_name", "first_name"], name="physician_name_idx"),
            models.Index(fields=["owner", "last_name"], name="physician_owner_name_idx"),
            models.Index(fields=["kol_tier", "last_interaction_at"], name="physician_tier_contact_idx"),
            # The list sorted by last contact, either way, "never" (NULL) counting as the oldest
            # (selectors.apply_sort): read forwards or backwards, with no sort of the NULLs.
            NullsFirstIndex(
                F("last_interaction_at").asc(nulls_first=True), F("id").asc(), name="physician_contact_order_idx"
            ),
            # The list's "mine" scope sorted by last contact.
            NullsFirstIndex(
                F("owner"),
                F("last_interaction_at").asc(nulls_first=True),
                F("id").asc(),
                name="physician_owner_contact_idx",
            ),
            models.Index(fields=["owner", "kol_tier"], name="physician_owner_tier_idx"),
            models.Index(fields=["institution", "last_name"], name="physician_inst_name_idx"),
            # Search by name prefix (case-insensitive): UPPER(name) LIKE 'Q%'.
            models.Index(Upper("last_name"), name="physician_upper_last_idx"),
            models.Index(Upper("first_name"), name="physician_upper_first_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        base = f"Dr. {self.first_name} {self.last_name}"
        return f"{base}, {self.credentials}" if self.credentials else base


class PhysicianTeamContact(models.Model):
    """One team's last contact with a physician: the latest of that team's interactions with them.

    Kept by physicians.services (logging, editing and deleting an interaction), as
    `Physician.last_interaction_at` is for every team together, so that a list sorted or filtered
    by a team's last contact reads one row per physician, never a decade of interactions.
    """

    # No index of their own: the unique (physician, team) and (team, date, physician) lead with them.
    physician = models.ForeignKey(Physician, on_delete=models.CASCADE, related_name="team_contacts", db_index=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+", db_index=False)
    last_interaction_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Also the index of every lookup and join: (physician, team).
            models.UniqueConstraint(fields=["physician", "team"], name="team_contact_unique_physician_team")
        ]
        indexes = [
            # The dashboards: a team's physicians reached since a date, from the index alone.
            models.Index(fields=["team", "last_interaction_at", "physician"], name="team_contact_team_date_idx"),
        ]

    def __str__(self) -> str:
        return f"Team {self.team_id} last contacted physician {self.physician_id} at {self.last_interaction_at}"


class ContactConsent(models.Model):
    """Consent to be contacted, per channel. No row for a channel means not recorded (allowed)."""

    physician = models.ForeignKey(Physician, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=16, choices=ConsentChannel.choices)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.GRANTED)
    recorded_on = models.DateField(default=timezone.localdate)

    class Meta:
        ordering = ["channel"]
        constraints = [
            models.UniqueConstraint(fields=["physician", "channel"], name="consent_unique_physician_channel")
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_status_display()} ({self.recorded_on})"

    def get_additional_data(self) -> dict:
        # The audit entries of a change name the physician and channel (django-auditlog).
        return {"physician_id": self.physician_id, "channel": self.channel}


class ProductQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProductQuerySet:
        return self if user.is_authenticated else self.none()


class Product(models.Model):
    name = models.CharField(max_length=120, unique=True)
    generic_name = models.CharField(max_length=120, blank=True)
    therapeutic_area = models.ForeignKey(
        TherapeuticArea, on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    status = models.CharField(max_length=16, choices=ProductStatus.choices, default=ProductStatus.MARKETED)
    indications = models.TextField(blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InteractionQuerySet(models.QuerySet):
    def visible_to(self, user) -> InteractionQuerySet:
        return _medical_affairs_scope(self, user)


class Interaction(models.Model):
    physician = models.ForeignKey(Physician, on_delete=models.PROTECT, related_name="interactions")
    msl = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="interactions", verbose_name="MSL"
    )
    # The MSL's team when the visit was logged: scoping and team reports filter on it directly.
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="interactions")
    occurred_at = models.DateTimeField("date and time", default=timezone.now)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.IN_PERSON)
    duration_minutes = models.PositiveSmallIntegerField(
        "duration (minutes)", default=30, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    products = models.ManyToManyField(Product, blank=True, related_name="interactions")
    topics = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    unsolicited_request = models.BooleanField(
        "unsolicited request",
        default=False,
        help_text="The physician asked for this information; only then may off-label use be discussed.",
    )
    off_label_discussed = models.BooleanField("off-label information discussed", default=False)
    trial_site = models.ForeignKey(
        "physicians.TrialSite", on_delete=models.SET_NULL, null=True, blank=True, related_name="interactions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            # Both carry the columns the dashboards aggregate, so those read the index alone
            # (index-only scans) instead of a heap page per interaction.
            models.Index(
                fields=["team", "-occurred_at", "msl", "physician", "channel"], name="interaction_team_date_cov_idx"
            ),
            models.Index(fields=["physician", "-occurred_at", "team"], name="interaction_phys_date_team_idx"),
            models.Index(fields=["msl", "-occurred_at"], name="interaction_msl_date_idx"),
            models.Index(fields=["team", "channel", "-occurred_at"], name="interaction_team_chan_idx"),
            # Managers' lists span several teams: newest first over all of them, then filter.
            models.Index(fields=["-occurred_at", "-id"], name="interaction_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(off_label_discussed=True, unsolicited_request=False),
                name="interaction_off_label_only_unsolicited",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} with {self.physician} on {self.occurred_at:%Y-%m-%d}"

    def get_additional_data(self) -> dict:
        return {"physician_id": self.physician_id, "team_id": self.team_id}

    def clean(self) -> None:
        if self.off_label_discussed and not self.unsolicited_request:
            raise ValidationError(
                {"off_label_discussed": "Off-label information may only be discussed on an unsolicited request."}
            )


class InsightQuerySet(models.QuerySet):
    def visible_to(self, user) -> InsightQuerySet:
        return _medical_affairs_scope(self, user)


class Insight(models.Model):
    interaction = models.ForeignKey(
        Interaction, on_delete=models.SET_NULL, null=True, blank=True, related_name="insights"
    )
    physician = models.ForeignKey(Physician, on_delete=models.PROTECT, related_name="insights")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="insights")
    theme = models.CharField(max_length=32, choices=Theme.choices)
    sentiment = models.CharField(max_length=16, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    text = models.TextField()
    status = models.CharField(max_length=16, choices=InsightStatus.choices, default=InsightStatus.NEW)
    captured_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="insights")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="insights")
    captured_at = models.DateTimeField(default=timezone.now)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviewed_insights"
    )
    review_note = models.TextField(blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    actioned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set on every status change; the capturing MSL sees "changed since you last looked".
    status_changed_at = models.DateTimeField(null=True, blank=True)

    objects = InsightQuerySet.as_manager()

    class Meta:
        ordering = ["-captured_at"]
        indexes = [
            models.Index(fields=["team", "status", "-captured_at"], name="insight_team_status_idx"),
            models.Index(fields=["physician", "-captured_at"], name="insight_phys_date_idx"),
            models.Index(fields=["team", "-captured_at"], name="insight_team_date_idx"),
            models.Index(fields=["captured_by", "-captured_at"], name="insight_captor_date_idx"),
            models.Index(fields=["team", "theme", "-captured_at"], name="insight_team_theme_idx"),
            models.Index(fields=["product", "-captured_at"], name="insight_product_date_idx"),
            # Several teams at once (managers), and the review queue read oldest first (backwards).
            models.Index(fields=["-captured_at", "-id"], name="insight_date_idx"),
            # The review queue: the few hundred pending insights among a million, oldest first
            # (read through insight_date_idx it filtered ~200,000 rows away: 350 ms at scale).
            models.Index(
                fields=["captured_at", "id"],
                name="insight_pending_idx",
                condition=models.Q(status__in=["new", "under_review"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_theme_display()} insight from {self.physician}"

    def get_additional_data(self) -> dict:
        return {"physician_id": self.physician_id, "team_id": self.team_id}


class MedicalInquiryQuerySet(models.QuerySet):
    def visible_to(self, user) -> MedicalInquiryQuerySet:
        return _medical_affairs_scope(self, user)

    def overdue(self, now=None) -> MedicalInquiryQuerySet:
        return self.filter(status=InquiryStatus.OPEN, due_at__lt=now or timezone.now())


class MedicalInquiry(models.Model):
    physician = models.ForeignKey(Physician, on_delete=models.PROTECT, related_name="inquiries")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="inquiries")
    question = models.TextField()
    priority = models.CharField(max_length=16, choices=InquiryPriority.choices, default=InquiryPriority.STANDARD)
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(help_text="Set from the service level of the priority.")
    status = models.CharField(max_length=16, choices=InquiryStatus.choices, default=InquiryStatus.OPEN)
    answer = models.TextField(blank=True)
    delivery_method = models.CharField(max_length=16, choices=DeliveryMethod.choices, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inquiries")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="inquiries")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MedicalInquiryQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "medical inquiries"
        indexes = [
            models.Index(fields=["team", "status", "due_at"], name="inquiry_team_status_due_idx"),
            models.Index(fields=["physician", "-received_at"], name="inquiry_phys_date_idx"),
            models.Index(fields=["team", "-received_at"], name="inquiry_team_date_idx"),
            models.Index(fields=["owner", "status", "due_at"], name="inquiry_owner_status_due_idx"),
            models.Index(fields=["product", "-received_at"], name="inquiry_product_date_idx"),
            # The inquiry list's order (open first, soonest due, then newest) for one team: read
            # in order instead of sorting all the team's inquiries (25 ms at scale).
            models.Index(
                models.F("team"),
                models.Case(
                    models.When(status="open", then=models.Value(0)),
                    default=models.Value(1),
                    output_field=models.IntegerField(),
                ),
                models.F("due_at"),
                models.F("received_at").desc(),
                models.F("id"),
                name="inquiry_team_open_first_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Inquiry from {self.physician} ({self.get_status_display()})"

    def get_additional_data(self) -> dict:
        return {"physician_id": self.physician_id, "team_id": self.team_id}

    @property
    def is_overdue(self) -> bool:
        return self.status == InquiryStatus.OPEN and self.due_at is not None and self.due_at < timezone.now()


class TrainingSessionQuerySet(models.QuerySet):
    def visible_to(self, user) -> TrainingSessionQuerySet:
        return _medical_affairs_scope(self, user)


class TrainingSession(models.Model):
    title = models.CharField(max_length=200)
    products = models.ManyToManyField(Product, blank=True, related_name="trainings")
    trainer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trainings")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="trainings")
    held_on = models.DateField("date")
    topics = models.CharField(max_length=300, blank=True)
    materials_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TrainingSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on"]
        indexes = [
            models.Index(fields=["team", "-held_on"], name="training_team_date_idx"),
            models.Index(fields=["trainer", "-held_on"], name="training_trainer_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on})"


class TrainingAttendee(models.Model):
    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="attendees")
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    region = models.CharField(max_length=80, blank=True)
    attended = models.BooleanField(default=True)
    score_before = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)], help_text="0–100"
    )
    score_after = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)], help_text="0–100"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClinicalTrialQuerySet(models.QuerySet):
    def visible_to(self, user) -> ClinicalTrialQuerySet:
        return self if user.is_authenticated and user.sees_trials else self.none()


NCT_NUMBER = RegexValidator(r"^NCT\d{8}\Z", "An NCT number is NCT followed by 8 digits (NCT01234567).")


class ClinicalTrial(models.Model):
    protocol_number = models.CharField(max_length=40, unique=True)
    # The ClinicalTrials.gov identifier. Trials recorded before it was asked for may lack one;
    # the trial form requires it.
    nct_number = models.CharField(
        "NCT number", max_length=11, unique=True, null=True, blank=True, validators=[NCT_NUMBER]
    )
    title = models.CharField(max_length=300)
    phase = models.CharField(max_length=8, choices=TrialPhase.choices)
    status = models.CharField(max_length=24, choices=TrialStatus.choices, default=TrialStatus.NOT_YET_RECRUITING)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="trials")
    # Investigator-initiated or company-sponsored: the protocol's flag.
    sponsor_type = models.CharField(max_length=24, choices=SponsorType.choices, default=SponsorType.COMPANY)
    sponsor_name = models.CharField("sponsor", max_length=200, blank=True)

    objects = ClinicalTrialQuerySet.as_manager()

    class Meta:
        ordering = ["protocol_number"]

    def __str__(self) -> str:
        return f"{self.protocol_number}: {self.title}"

    @property
    def is_recruiting(self) -> bool:
        return self.status == TrialStatus.RECRUITING


class TrialCriterion(models.Model):
    """One inclusion or exclusion criterion of a protocol, in its place in the list."""

    trial = models.ForeignKey(ClinicalTrial, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(max_length=12, choices=CriterionKind.choices)
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["trial", "kind", "position"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "kind", "position"], name="trialcriterion_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.position}: {self.text}"


class IrbApproval(models.Model):
    """An IRB-approved version of the trial's research consent, with its approval date. The
    latest approved is the current version: a research consent is signed on it."""

    trial = models.ForeignKey(ClinicalTrial, on_delete=models.CASCADE, related_name="irb_approvals")
    version = models.CharField(max_length=20)
    approved_on = models.DateField("IRB approval date")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["trial", "-approved_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["trial", "version"], name="irbapproval_unique_version")]

    def __str__(self) -> str:
        return f"v{self.version}, approved {self.approved_on:%Y-%m-%d}"


class TrialSiteQuerySet(models.QuerySet):
    def visible_to(self, user) -> TrialSiteQuerySet:
        return self if user.is_authenticated and user.sees_trials else self.none()

    def open_for_screening(self) -> TrialSiteQuerySet:
        """Sites a patient can be screened at: activated or enrolling, of a recruiting trial."""
        return self.filter(status__in=OPEN_SITE_STATUSES, trial__status=TrialStatus.RECRUITING)

    def concerning(self, physician: Physician) -> TrialSiteQuerySet:
        """Sites a visit to `physician` can be about: their institution's, or theirs as investigator."""
        if physician.institution_id:
            return self.filter(Q(institution_id=physician.institution_id) | Q(principal_investigator=physician))
        return self.filter(principal_investigator=physician)


OPEN_SITE_STATUSES = (SiteStatus.ACTIVATED, SiteStatus.ENROLLING)


class TrialSite(models.Model):
    trial = models.ForeignKey(ClinicalTrial, on_delete=models.CASCADE, related_name="sites")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="trial_sites")
    principal_investigator = models.ForeignKey(
        Physician, on_delete=models.PROTECT, null=True, blank=True, related_name="trial_sites"
    )
    status = models.CharField(max_length=16, choices=SiteStatus.choices, default=SiteStatus.IDENTIFIED)
    enrolment_target = models.PositiveIntegerField(default=0)
    # Its enrolment is counted from the participations screened and enrolled here
    # (research.selectors.site_counts), never typed.
    activated_on = models.DateField("activation date", null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)

    objects = TrialSiteQuerySet.as_manager()

    class Meta:
        ordering = ["trial", "institution"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "institution"], name="trialsite_unique_trial_institution")
        ]
        indexes = [models.Index(fields=["status", "trial"], name="trialsite_status_trial_idx")]

    def __str__(self) -> str:
        return f"{self.trial.protocol_number} at {self.institution.name}"

    @property
    def is_open_for_screening(self) -> bool:
        return self.status in OPEN_SITE_STATUSES and self.trial.is_recruiting


class ImportStatus(models.TextChoices):
    VALIDATING = "validating", "Validating"
    VALIDATED = "validated", "Ready to import"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"


class PhysicianImportQuerySet(models.QuerySet):
    def visible_to(self, user) -> PhysicianImportQuerySet:
        if not user.is_authenticated or not user.sees_medical_affairs:
            return self.none()
        if user.is_admin_role:
            return self
        return self.filter(uploaded_by=user)


class PhysicianImport(models.Model):
    """An uploaded NPI-registry CSV: validated first, imported only when the user confirms.

    The file's text lives in the row so a Celery worker on another machine can read it.
    """

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200, blank=True)
    content = models.TextField()
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.VALIDATING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"row": 3, "column": "NPI", "problem": "..."}], capped; error_count has the full number.
    errors = models.JSONField(default=list, blank=True)
    to_create = models.PositiveIntegerField(default=0)
    to_update = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    institutions_created = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = PhysicianImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["uploaded_by", "-created_at"], name="import_user_date_idx")]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0 if self.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING) else 100
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def invalid_rows(self) -> int:
        return max(0, self.total_rows - self.valid_rows)

    @property
    def in_progress(self) -> bool:
        return self.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING)
