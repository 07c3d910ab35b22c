"""Date ranges on timestamp columns: filters compare the indexed timestamp with the start of a day
in the current time zone, never a date() of the column."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, in the current time zone. A range "from A to B" (both
    days included) is `>= day_start(A)` and `< day_start(B + 1 day)`."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
