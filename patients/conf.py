"""Per-app defaults, overridable in settings without editing settings.py."""

from __future__ import annotations

from django.conf import settings

# Days a case may sit in a stage before the worklist marks it overdue.
PATIENTS_STAGE_SLA_DAYS: dict[str, int] = getattr(
    settings, "PATIENTS_STAGE_SLA_DAYS", {"referred": 1, "evaluating": 3, "accepted": 7, "admitted": 30}
)

# An open case without a logged communication for this many days has a "communication gap"
# (the worklist's `gap` filter and the clinical dashboard share it).
COMMUNICATION_GAP_DAYS: int = getattr(settings, "COMMUNICATION_GAP_DAYS", 3)
