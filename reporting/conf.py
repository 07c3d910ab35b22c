"""Reporting defaults. Override any of them in settings (`getattr(settings, NAME, default)`)."""

from __future__ import annotations

import importlib

from django.conf import settings

from patients import conf as patients_conf

# Days within which a KOL of each tier should have been reached (tier 0, unranked, has no cadence).
DEFAULT_KOL_CADENCE_DAYS: dict[int, int] = {1: 45, 2: 90, 3: 180}

# How long a widget's result is cached per filter set and scope (seconds).
CACHE_SECONDS: int = getattr(settings, "REPORTING_CACHE_SECONDS", 120)

# A referral counts as "evaluated within the window" when evaluated this many hours after receipt.
EVALUATION_WINDOW_HOURS: int = getattr(settings, "REPORTING_EVALUATION_WINDOW_HOURS", 48)

# An open case with no communication for this many days has a communication gap.
# One definition of a communication gap, shared with the worklist's `gap` filter.
COMMUNICATION_GAP_DAYS: int = patients_conf.COMMUNICATION_GAP_DAYS

# Rows shown in the dashboards' ranked tables (CSV exports have every row).
TOP_ROWS: int = getattr(settings, "REPORTING_TOP_ROWS", 15)

# The date range a dashboard opens with.
DEFAULT_RANGE: str = getattr(settings, "REPORTING_DEFAULT_RANGE", "90d")


def kol_cadence_days() -> dict[int, int]:
    """Cadence per KOL tier: settings, else a rule the outreach app may own later, else defaults.

    The outreach module is looked up by name at call time, not imported at load time: it may not
    exist (yet), and reporting must work without it.
    """
    configured = getattr(settings, "KOL_CADENCE_DAYS", None)
    if configured:
        return {int(k): int(v) for k, v in configured.items()}
    try:
        outreach_conf = importlib.import_module("outreach.conf")
    except ImportError:
        outreach_conf = None
    rule = getattr(outreach_conf, "KOL_CADENCE_DAYS", None)
    if rule:
        return {int(k): int(v) for k, v in dict(rule).items()}
    return dict(DEFAULT_KOL_CADENCE_DAYS)
