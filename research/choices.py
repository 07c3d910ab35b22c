from __future__ import annotations

from django.db import models


class ParticipationStatus(models.TextChoices):
    """screening → eligible or screen failure → consented → enrolled → completed or withdrawn."""

    SCREENING = "screening", "Screening"
    ELIGIBLE = "eligible", "Eligible"
    SCREEN_FAILURE = "screen_failure", "Screen failure"
    CONSENTED = "consented", "Consented"
    ENROLLED = "enrolled", "Enrolled"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


# A case takes part in a trial through at most one participation in these at a time.
ACTIVE_STATUSES = (
    ParticipationStatus.SCREENING,
    ParticipationStatus.ELIGIBLE,
    ParticipationStatus.CONSENTED,
    ParticipationStatus.ENROLLED,
)
# The steps that follow each status (services check them; the page offers them).
NEXT_STATUSES = {
    ParticipationStatus.SCREENING: (ParticipationStatus.ELIGIBLE, ParticipationStatus.SCREEN_FAILURE),
    ParticipationStatus.ELIGIBLE: (ParticipationStatus.CONSENTED, ParticipationStatus.WITHDRAWN),
    ParticipationStatus.CONSENTED: (ParticipationStatus.ENROLLED, ParticipationStatus.WITHDRAWN),
    ParticipationStatus.ENROLLED: (ParticipationStatus.COMPLETED, ParticipationStatus.WITHDRAWN),
}


class ScreenFailureReason(models.TextChoices):
    INCLUSION_NOT_MET = "inclusion_not_met", "Inclusion criterion not met"
    EXCLUSION_MET = "exclusion_met", "Exclusion criterion met"
    DECLINED = "declined", "Declined"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
    OTHER = "other", "Other"


class Answer(models.TextChoices):
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"
    UNKNOWN = "unknown", "Unknown"
