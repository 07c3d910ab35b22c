"""Per-app defaults, overridable in settings without editing settings.py."""

from __future__ import annotations

from django.conf import settings

from outreach.rules import parameters

from .choices import Priority

# Days a case may sit in a stage before the worklist marks it overdue.
PATIENTS_STAGE_SLA_DAYS: dict[str, int] = getattr(
    settings, "PATIENTS_STAGE_SLA_DAYS", {"referred": 1, "evaluating": 3, "accepted": 7, "admitted": 30}
)


# Service levels are the admin's ServiceLevelRule rows (outreach/rules.py, defaults registered in
# patients/rules.py); these helpers only name their parameters.


def communication_gap_days() -> float:
    """An open case without a logged communication for this many days has a communication gap:
    the worklist's `gap` filter, the clinical dashboard and rule admitted_no_communication."""
    return parameters("admitted_no_communication")["days"]


def evaluation_window_hours() -> dict[str, float]:
    """Hours allowed to evaluate a referral, per priority (rule referral_not_evaluated)."""
    params = parameters("referral_not_evaluated")
    return {Priority.URGENT: params["urgent_hours"], Priority.STANDARD: params["standard_hours"]}
