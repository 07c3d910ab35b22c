"""Patient health information (PHI): patients, their cases (one admission episode each) and the
pre-admission work on a case. Every model here is registered with django-auditlog."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone

from .choices import (
    OPEN_STAGES,
    AuthorizationStatus,
    CommChannel,
    CommParties,
    ConsentKind,
    ConsentStatus,
    DeclineReason,
    DischargeDisposition,
    Eligibility,
    Priority,
    Sex,
    SignedBy,
    Stage,
)
from .matching import PhoneDigits


def _phi_scope(qs: models.QuerySet, user, team_field: str) -> models.QuerySet:
    """PHI is for clinical liaisons of the record's team and their managers; never for MSLs."""
    if not user.is_authenticated or not user.sees_phi:
        return qs.none()
    scope = user.scope_team_ids
    if scope is None:
        return qs
    return qs.filter(**{f"{team_field}__in": scope})


class AuditedCaseChild:
    """Every audit entry about a case's records names the patient and team, so the managers'
    audit page can filter by patient and scope by team without joining back."""

    def get_additional_data(self) -> dict:
        case = self.case  # services pass the case object, so this is no query
        return {"patient_id": case.patient_id, "case_id": case.pk, "team_id": case.team_id}


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user) -> PatientQuerySet:
        """A patient is visible through a case of a team the user sees."""
        if not user.is_authenticated or not user.sees_phi:
            return self.none()
        scope = user.scope_team_ids
        if scope is None:
            return self
        return self.filter(pk__in=Case.objects.filter(team__in=scope).values("patient_id"))


class Patient(models.Model):
    mrn = models.CharField("medical record number", max_length=32, unique=True)
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=16, choices=Sex.choices)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    preferred_language = models.CharField(max_length=60, default="English")
    interpreter_needed = models.BooleanField(default=False)
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["last_name", "first_name", "date_of_birth"], name="patient_name_dob_idx"),
            # The three branches of the duplicate check (services.find_duplicates), so that it
            # reads a few index entries rather than every patient.
            models.Index(Upper("mrn"), name="patient_upper_mrn_idx"),
            models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
            models.Index(PhoneDigits("phone"), name="patient_phone_digits_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} (MRN {self.mrn})"

    def get_additional_data(self) -> dict:
        # A patient has no team of their own: the caller sets the team of the case in hand.
        return {"patient_id": self.pk, "team_id": getattr(self, "audit_team_id", None)}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class WholeDaysBetween(models.Func):
    """Whole days (elapsed time, rounded down) from `start` to `end`; NULL when either is NULL."""

    output_field = models.IntegerField()
    arity = 2

    def _compiled(self, compiler) -> tuple[str, str, tuple]:
        start, end = self.source_expressions
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        return start_sql, end_sql, (*end_params, *start_params)

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL: (end - start) is an interval, its epoch the exact number of seconds.
        start, end, params = self._compiled(compiler)
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 86400) AS integer)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        # Whole seconds, divided as integers: julianday()'s floating point put an exact three
        # days at 2.9999999.
        start, end, params = self._compiled(compiler)
        return (
            f"((CAST(strftime('%%s', {end}) AS integer) - CAST(strftime('%%s', {start}) AS integer)) / 86400)",
            params,
        )


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        return _phi_scope(self, user, "team")

    def open(self) -> CaseQuerySet:
        return self.filter(stage__in=OPEN_STAGES)

    def with_length_of_stay(self, now: dt.datetime | None = None) -> CaseQuerySet:
        """`length_of_stay_days`: whole days from admission to discharge, or to `now` while the
        patient is still admitted (days so far); None before admission. The one definition of
        length of stay: the case page, the print view, the worklist and the export read it."""
        now = now or timezone.now()
        end = Coalesce("discharged_at", models.Value(now, output_field=models.DateTimeField()))
        return self.annotate(length_of_stay_days=WholeDaysBetween("admitted_at", end))


class Case(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    program = models.CharField("program / unit", max_length=120)
    assigned_liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_cases"
    )
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="cases")
    referral_physician = models.ForeignKey(
        "physicians.Physician", on_delete=models.PROTECT, null=True, blank=True, related_name="referred_cases"
    )
    referral_institution = models.ForeignKey(
        "physicians.Institution", on_delete=models.PROTECT, null=True, blank=True, related_name="referred_cases"
    )
    referral_source_other = models.CharField("other referral source", max_length=200, blank=True)
    referral_received_at = models.DateTimeField(default=timezone.now)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.STANDARD)
    reason = models.TextField("reason for referral / diagnosis")
    expected_admission_date = models.DateField(null=True, blank=True)

    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.REFERRED)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    decline_reason = models.CharField(max_length=32, choices=DeclineReason.choices, blank=True)
    # When the evaluation was started and completed: the reporting funnel and the SLA clock.
    evaluation_started_at = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    admitted_at = models.DateTimeField(null=True, blank=True)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharge_disposition = models.CharField(max_length=32, choices=DischargeDisposition.choices, blank=True)
    discharge_summary = models.TextField(blank=True)
    # Kept by services when a communication is logged: "no contact for 3 days" without a scan.
    last_communication_at = models.DateTimeField(null=True, blank=True)

    # Optimistic locking: every write through a service bumps it; a stale form is a conflict.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-referral_received_at"]
        indexes = [
            models.Index(fields=["team", "stage", "-referral_received_at"], name="case_team_stage_idx"),
            models.Index(fields=["assigned_liaison", "stage"], name="case_liaison_stage_idx"),
            models.Index(fields=["referral_physician", "referral_received_at"], name="case_ref_phys_idx"),
            models.Index(fields=["referral_institution", "referral_received_at"], name="case_ref_inst_idx"),
            models.Index(fields=["team", "referral_received_at"], name="case_team_received_idx"),
            models.Index(fields=["team", "stage", "stage_changed_at"], name="case_team_stage_age_idx"),
            models.Index(fields=["stage", "discharged_at"], name="case_stage_discharged_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(stage="declined", decline_reason=""), name="case_declined_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk}: {self.program}"

    def get_additional_data(self) -> dict:
        return {"patient_id": self.patient_id, "case_id": self.pk, "team_id": self.team_id}

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def referral_source_display(self) -> str:
        parts = [str(x) for x in (self.referral_physician, self.referral_institution) if x is not None]
        if self.referral_source_other:
            parts.append(self.referral_source_other)
        return " · ".join(parts) or "—"


class CaseTransition(AuditedCaseChild, models.Model):
    """The case's history: every stage change, by whom, when, and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "-at"], name="transition_case_at_idx")]

    def __str__(self) -> str:
        return f"{self.from_stage or 'new'} → {self.to_stage}"


class Evaluation(AuditedCaseChild, models.Model):
    """The pre-admission review. Complete when all four reviews are done and eligibility decided."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="evaluation")
    records_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    records_reviewed_at = models.DateTimeField(null=True, blank=True)
    # What the "Medical records reviewed" tick rests on until the case has its documents.
    records_review_note = models.TextField("medical records reviewed", blank=True)
    medications_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    medications_reviewed_at = models.DateTimeField(null=True, blank=True)
    # Set with the "Medications reviewed" tick when the patient takes none (none may be listed).
    no_current_medications = models.BooleanField(default=False)
    treatment_plan_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    treatment_plan_reviewed_at = models.DateTimeField(null=True, blank=True)
    insurance_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    insurance_verified_at = models.DateTimeField(null=True, blank=True)
    clinical_notes = models.TextField(blank=True)
    eligibility = models.CharField(max_length=16, choices=Eligibility.choices, default=Eligibility.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    CHECKLIST = (
        ("records_reviewed", "Medical records reviewed"),
        ("medications_reviewed", "Medications reviewed"),
        ("treatment_plan_reviewed", "Treatment plan reviewed"),
        ("insurance_verified", "Insurance verified"),
    )

    def __str__(self) -> str:
        return f"Evaluation of case #{self.case_id}"

    def missing_steps(self) -> list[str]:
        missing = [label for key, label in self.CHECKLIST if getattr(self, f"{key}_at") is None]
        if self.eligibility == Eligibility.PENDING:
            missing.append("Eligibility decision")
        return missing

    @property
    def is_complete(self) -> bool:
        return not self.missing_steps()


class Medication(AuditedCaseChild, models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=120)
    dose = models.CharField(max_length=60, blank=True)
    route = models.CharField(max_length=60, blank=True)
    frequency = models.CharField(max_length=60, blank=True)
    reconciled = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} {self.dose}".strip()


class InsuranceCoverage(AuditedCaseChild, models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="coverages")
    payer = models.CharField(max_length=120)
    plan = models.CharField(max_length=120, blank=True)
    member_id = models.CharField(max_length=60)
    is_primary = models.BooleanField(default=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    authorization_status = models.CharField(
        max_length=16, choices=AuthorizationStatus.choices, default=AuthorizationStatus.PENDING
    )
    authorization_number = models.CharField(max_length=60, blank=True)
    authorization_valid_from = models.DateField(null=True, blank=True)
    authorization_valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-is_primary", "payer"]

    def __str__(self) -> str:
        return f"{self.payer} {self.plan}".strip()

    @property
    def needs_authorization(self) -> bool:
        return self.authorization_status != AuthorizationStatus.NOT_REQUIRED

    def authorization_valid_on(self, day: dt.date) -> bool:
        """Approved and in force on `day` (either end of the period may be open)."""
        return (
            self.authorization_status == AuthorizationStatus.APPROVED
            and (self.authorization_valid_from is None or self.authorization_valid_from <= day)
            and (self.authorization_valid_to is None or day <= self.authorization_valid_to)
        )


class TreatmentPlan(AuditedCaseChild, models.Model):
    """The plan the "Treatment plan reviewed" tick rests on: one per case."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="treatment_plan")
    goals = models.TextField()
    planned_services = models.TextField("planned services or therapies")
    expected_length_of_stay_days = models.PositiveIntegerField(
        "expected length of stay (days)", validators=[MinValueValidator(1)]
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expected_length_of_stay_days__gte=1), name="treatment_plan_stay_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Treatment plan of case #{self.case_id}"


class ConsentForm(models.Model):
    """A consent document and its current version; a newer version supersedes signed ones.

    A research consent form belongs to one trial: its versions are the trial's IRB approvals
    (research.services.approve_consent_version moves `current_version` on)."""

    name = models.CharField(max_length=120, unique=True)
    current_version = models.CharField(max_length=20, default="1.0")
    required_for_admission = models.BooleanField(default=True)
    kind = models.CharField(max_length=12, choices=ConsentKind.choices, default=ConsentKind.CARE)
    trial = models.OneToOneField(
        "physicians.ClinicalTrial",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="research_consent_form",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=ConsentKind.CARE, trial__isnull=True)
                | models.Q(kind=ConsentKind.RESEARCH, trial__isnull=False, required_for_admission=False),
                name="consentform_research_has_its_trial",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.current_version}"


class Consent(AuditedCaseChild, models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    procedure = models.CharField(max_length=200)
    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="consents")
    form_version = models.CharField(max_length=20)
    required = models.BooleanField(default=True, help_text="Must be signed before admission.")
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    explained_at = models.DateTimeField(null=True, blank=True)
    teach_back_confirmed = models.BooleanField("patient understood (teach-back confirmed)", default=False)
    signed_by = models.CharField(max_length=16, choices=SignedBy.choices, blank=True)
    representative_name = models.CharField(max_length=120, blank=True)
    representative_relationship = models.CharField(max_length=60, blank=True)
    witness_name = models.CharField(max_length=120, blank=True)
    interpreter_used = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.PENDING)
    signed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # A re-consent replaces this one: `superseded_by` is the consent that did, signed at `superseded_at`.
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )

    class Meta:
        ordering = ["procedure"]
        indexes = [models.Index(fields=["status", "form"], name="consent_status_form_idx")]

    def __str__(self) -> str:
        return f"{self.procedure} ({self.get_status_display()})"

    @property
    def kind(self) -> str:
        return self.form.kind

    @property
    def needs_reconsent(self) -> bool:
        """Signed on a version of the form that has since moved on: it blocks admission until a
        re-consent on the current version supersedes it."""
        return self.status == ConsentStatus.SIGNED and self.form_version != self.form.current_version

    @property
    def is_superseded(self) -> bool:
        return self.status == ConsentStatus.SUPERSEDED

    @property
    def is_renewable(self) -> bool:
        """What "Re-consent" replaces: a consent signed on an old form version, or withdrawn."""
        return self.needs_reconsent or self.status == ConsentStatus.WITHDRAWN


class Communication(AuditedCaseChild, models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="communications")
    occurred_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=16, choices=CommChannel.choices, default=CommChannel.PHONE)
    parties = models.CharField("between", max_length=24, choices=CommParties.choices)
    summary = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["case", "-occurred_at"], name="comm_case_date_idx")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} ({self.get_parties_display()})"
