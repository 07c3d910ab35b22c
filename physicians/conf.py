"""Per-app configuration: defaults here, overridable from settings (never edit settings.py for these)."""

from __future__ import annotations

from django.conf import settings

from .choices import InquiryPriority

_DEFAULT_SLA_DAYS = {InquiryPriority.URGENT: 2, InquiryPriority.STANDARD: 10}


def inquiry_sla_days(priority: str) -> int:
    """Days allowed to answer a medical inquiry of `priority` (settings.INQUIRY_SLA_DAYS overrides)."""
    table = {**_DEFAULT_SLA_DAYS, **getattr(settings, "INQUIRY_SLA_DAYS", {})}
    return int(table.get(priority, table[InquiryPriority.STANDARD]))


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
