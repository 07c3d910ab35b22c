"""Per-app configuration: defaults here, overridable from settings (never edit settings.py for these)."""

from __future__ import annotations

from django.conf import settings

from outreach.rules import parameters

from .choices import InquiryPriority, KolTier

# Service levels are not settings: they are the admin's ServiceLevelRule rows (outreach/rules.py),
# whose defaults physicians/rules.py registers. These helpers only name the parameters.


def inquiry_sla_days(priority: str) -> float:
    """Days allowed to answer a medical inquiry of `priority` (rule inquiry_due_soon)."""
    params = parameters("inquiry_due_soon")
    return params["urgent_days"] if priority == InquiryPriority.URGENT else params["standard_days"]


def kol_cadence_days() -> dict[int, float]:
    """Days within which a KOL of each tier should be reached (rule kol_cadence); a tier whose
    days are 0 has no cadence, and tier 0 (unranked) never has one."""
    params = parameters("kol_cadence")
    cadence = {tier: params.get(f"tier{tier}_days") for tier in KolTier.values if tier}
    return {tier: days for tier, days in cadence.items() if days}


def follow_up_default_days() -> int:
    """The interaction form's "follow up in N days" default."""
    return int(getattr(settings, "INTERACTION_FOLLOW_UP_DAYS", 14))


def import_async_threshold() -> int:
    """Files with more rows than this are validated and imported by a Celery task."""
    return int(getattr(settings, "PHYSICIAN_IMPORT_ASYNC_ROWS", 2000))


def import_batch_size() -> int:
    return int(getattr(settings, "PHYSICIAN_IMPORT_BATCH_SIZE", 2000))


def timeline_limit() -> int:
    """How many of each kind of record the profile timeline shows (the lists have the rest)."""
    return int(getattr(settings, "PHYSICIAN_TIMELINE_LIMIT", 25))
