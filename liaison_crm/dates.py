"""Date ranges on timestamp columns: filters compare the indexed timestamp with the start of a day
in the current time zone, never a date() of the column."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, in the current time zone. A range "from A to B" (both
    days included) is `>= day_start(A)` and `< day_start(B + 1 day)`."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- `|date` in Python, for the rows written by template tags ---------------------------------
# The template engine converts an aware datetime to the current time zone before `|date`
# (template_localtime); these take the converted value and write what the filter writes, without
# its per-call format lookup (a list page formats fifty dates).


def iso_datetime(local: dt.datetime) -> str:
    """`|date:'c'`: Django's 'c' is datetime.isoformat() (microseconds when set, the offset)."""
    return local.isoformat()


def ymd(local: dt.datetime) -> str:
    """`|date:"Y-m-d"` (Y is the year on four digits, as isoformat() writes it)."""
    return local.date().isoformat()


def ymd_hm(local: dt.datetime) -> str:
    """`|date:"Y-m-d H:i"`."""
    return f"{local.date().isoformat()} {local.hour:02d}:{local.minute:02d}"


def day_month_hm(local: dt.datetime) -> str:
    """`|date:"D j M, H:i"` ("Tue 1 Dec, 09:30"), with the day and month names Django writes."""
    return f"{WEEKDAYS_ABBR[local.weekday()]} {local.day} {str(MONTHS_3[local.month]).title()}, {local:%H:%M}"
