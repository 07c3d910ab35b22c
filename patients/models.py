"""Patient health information (PHI): patients, their cases (one admission episode each) and the
pre-admission work on a case. Every model here is registered with django-auditlog."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import (
    OPEN_STAGES,
    AuthorizationStatus,
    CommChannel,
    CommParties,
    ConsentStatus,
    DeclineReason,
    DischargeDisposition,
    Eligibility,
    Priority,
    Sex,
    SignedBy,
    Stage,
)


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
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} (MRN {self.mrn})"

    def get_additional_data(self) -> dict:
        # A patient has no team of their own: the caller sets the team of the case in hand.
        return {"patient_id": self.pk, "team_id": getattr(self, "audit_team_id", None)}

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CaseQuerySet:
        return _phi_scope(self, user, "team")

    def open(self) -> CaseQuerySet:
        return self.filter(stage__in=OPEN_STAGES)


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
    medications_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    medications_reviewed_at = models.DateTimeField(null=True, blank=True)
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


class ConsentForm(models.Model):
    """A consent document and its current version; a newer version supersedes signed ones."""

    name = models.CharField(max_length=120, unique=True)
    current_version = models.CharField(max_length=20, default="1.0")
    required_for_admission = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

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
