"""Reporting defaults. Override any of them in settings (`getattr(settings, NAME, default)`).

Service levels (KOL cadence, evaluation windows, communication gap, inquiry due dates) are not
here: the dashboards read the admin's ServiceLevelRule rows through physicians.conf and
patients.conf, the same numbers the rules engine opens follow-ups with.
"""

from __future__ import annotations

from django.conf import settings

# How long a widget's result is cached per filter set and scope (seconds).
CACHE_SECONDS: int = getattr(settings, "REPORTING_CACHE_SECONDS", 120)

# Rows shown in the dashboards' ranked tables (CSV exports have every row).
TOP_ROWS: int = getattr(settings, "REPORTING_TOP_ROWS", 15)

# The date range a dashboard opens with.
DEFAULT_RANGE: str = getattr(settings, "REPORTING_DEFAULT_RANGE", "90d")
