"""A patient case's part in a clinical trial: screened at a site against the protocol's criteria,
consented for research, enrolled under a subject id, and followed to completion or withdrawal.

This is PHI, for the clinical side (and its managers) only. The medical-affairs side sees what
research.selectors counts from these rows per site and period: never a row, a name, an MRN, a
participant id or a date of birth."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from patients.models import AuditedCaseChild

from .choices import ACTIVE_STATUSES, Answer, ParticipationStatus, ScreenFailureReason


class ParticipationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ParticipationQuerySet:
        """Through the case: the clinical liaisons of its team and their managers, never MSLs."""
        if not user.is_authenticated or not user.sees_phi:
            return self.none()
        scope = user.scope_team_ids
        return self if scope is None else self.filter(case__team__in=scope)


class Participation(AuditedCaseChild, models.Model):
    case = models.ForeignKey("patients.Case", on_delete=models.PROTECT, related_name="participations")
    site = models.ForeignKey("physicians.TrialSite", on_delete=models.PROTECT, related_name="participations")
    # The site's trial, kept on the row so that "one active screening per trial" is a constraint.
    trial = models.ForeignKey("physicians.ClinicalTrial", on_delete=models.PROTECT, related_name="participations")
    status = models.CharField(max_length=16, choices=ParticipationStatus.choices, default=ParticipationStatus.SCREENING)
    status_changed_at = models.DateTimeField(default=timezone.now)

    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField("screening started", default=timezone.now)
    # The screening's outcome: eligible, or a screen failure with its coded reason.
    concluded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    concluded_at = models.DateTimeField("screening concluded", null=True, blank=True)
    failure_reason = models.CharField(max_length=24, choices=ScreenFailureReason.choices, blank=True)
    failure_note = models.TextField(blank=True)

    consented_at = models.DateTimeField(null=True, blank=True)
    # The study's subject id: never the MRN.
    participant_id = models.CharField("participant id", max_length=40, blank=True)
    enrolled_on = models.DateField("enrolment date", null=True, blank=True)
    ended_at = models.DateTimeField("completed or withdrawn", null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)

    objects = ParticipationQuerySet.as_manager()

    class Meta:
        ordering = ["-screened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "trial"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="participation_one_active_per_case_and_trial",
            ),
            models.UniqueConstraint(
                fields=["trial", "participant_id"],
                condition=~Q(participant_id=""),
                name="participation_unique_participant_id",
            ),
            models.CheckConstraint(
                condition=Q(status=ParticipationStatus.SCREEN_FAILURE, failure_reason__gt="")
                | (~Q(status=ParticipationStatus.SCREEN_FAILURE) & Q(failure_reason="")),
                name="participation_screen_failure_has_its_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[ParticipationStatus.ENROLLED, ParticipationStatus.COMPLETED])
                | (Q(enrolled_on__isnull=False) & ~Q(participant_id="")),
                name="participation_enrolled_has_id_and_date",
            ),
        ]
        indexes = [
            # A site's counts (the MSL side) and a trial's funnel (the dashboards).
            models.Index(fields=["site", "status"], name="participation_site_status_idx"),
            models.Index(fields=["trial", "status"], name="participation_trial_status_idx"),
            # The service-level rules: screenings open, consents not enrolled, by age.
            models.Index(fields=["status", "status_changed_at"], name="participation_status_age_idx"),
            models.Index(fields=["case", "-screened_at"], name="participation_case_idx"),
        ]

    def __str__(self) -> str:
        return f"Case #{self.case_id} in {self.trial.protocol_number} ({self.get_status_display()})"


class _ThroughParticipation(AuditedCaseChild):
    """Audit entries of a participation's rows name its patient, case and team."""

    @property
    def case(self):
        return self.participation.case


class ScreeningAnswer(_ThroughParticipation, models.Model):
    """The answer to one criterion of the protocol in one screening, with who answered and when."""

    participation = models.ForeignKey(Participation, on_delete=models.PROTECT, related_name="answers")
    criterion = models.ForeignKey("physicians.TrialCriterion", on_delete=models.PROTECT, related_name="answers")
    answer = models.CharField(max_length=8, choices=Answer.choices, default=Answer.UNKNOWN)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participation", "criterion"], name="screeninganswer_one_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.get_answer_display()}"


class ParticipationTransition(_ThroughParticipation, models.Model):
    """One step of a participation, shown in the case's history."""

    participation = models.ForeignKey(Participation, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=ParticipationStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ParticipationStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["participation", "at"], name="participation_transition_idx")]

    def __str__(self) -> str:
        return f"{self.get_from_status_display() or 'New'} → {self.get_to_status_display()}"
