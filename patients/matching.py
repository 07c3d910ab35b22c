"""How a new referral is matched against the patients on file (services.find_duplicates).

A patient is a likely duplicate of the referral when
- the full names are similar (trigram similarity at least NAME_SIMILARITY) and the birth date is
  the same or a likely slip of it (`birth_date_variants`); or
- the phone numbers have the same digits (at least MIN_PHONE_DIGITS of them); or
- the MRN is the same (the MRN is unique, so that is the same record).

A similar name alone is not enough (two Maria Garcias are two people), nor is a birth date alone.

Names are compared as pg_trgm compares them: on PostgreSQL by `TrigramSimilarity` in the query,
elsewhere (SQLite, the default for `make run`) by `trigram_similarity` below, which computes the
same figure in Python over the few rows that share a near birth date. NAME_SIMILARITY is 0.5 on
the full name ("first last"): "Aisha Khan"/"Aysha Khan" scores 0.57, "Jon"/"John Smith" 0.62,
"Aisha Li"/"Aysha Li" 0.5, while "Mary"/"John Smith" scores 0.38 and "Ada"/"Aisha Khan" 0.43.
pg_trgm compares words as a set, so "Khan Aisha" for "Aisha Khan" (first and last name swapped)
scores 1.0.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from django.db.models import CharField, Func
from django.utils import timezone

NAME_SIMILARITY = 0.5
MIN_PHONE_DIGITS = 7
# No real referral resembles more patients than this; the query reads at most this many rows.
MAX_CANDIDATES = 20
# The fallback compares names in Python, so it reads every row of a near birth date (a few per
# date in any real clinic), up to this many.
FALLBACK_ROWS = 500
# The oldest birth year a digit slip is taken to: 0950 or 1090 is no one's birth date.
EARLIEST_BIRTH_YEAR = 1900

# Why a birth date on file is near the referral's, in the order the warning names it.
SAME_DATE = "same birth date"
DAY_MONTH_SWAPPED = "birth day and month swapped"
ONE_MONTH_OFF = "birth date one month off"
ONE_DIGIT_OFF = "birth date one digit off"


def _month_shift(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier), the month's last day where it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def birth_date_variants(born: dt.date, *, today: dt.date | None = None) -> dict[dt.date, str]:
    """The birth dates a patient on file may have if the referral's `born` is theirs, each with
    why: the same date, day and month swapped (12/03 for 03/12), one month off, or one digit of
    YYYY-MM-DD typed wrong. Dates in the future or before EARLIEST_BIRTH_YEAR are left out."""
    today = today or timezone.localdate()
    found: dict[dt.date, str] = {born: SAME_DATE}
    if born.day <= 12 and born.day != born.month:
        found.setdefault(born.replace(month=born.day, day=born.month), DAY_MONTH_SWAPPED)
    for months in (-1, 1):
        if dt.date.min.year < born.year < dt.date.max.year:
            found.setdefault(_month_shift(born, months), ONE_MONTH_OFF)
    digits = born.strftime("%Y%m%d")
    for position, digit in enumerate(digits):
        for other in "0123456789":
            if other == digit:
                continue
            typed = digits[:position] + other + digits[position + 1 :]
            try:
                variant = dt.date(int(typed[:4]), int(typed[4:6]), int(typed[6:]))
            except ValueError:
                continue
            found.setdefault(variant, ONE_DIGIT_OFF)
    return {day: why for day, why in found.items() if day.year >= EARLIEST_BIRTH_YEAR and day <= today}


def phone_digits(phone: str) -> str:
    """The digits of a phone number: '(617) 555-0100' and '617.555.0100' are one number."""
    return re.sub(r"\D", "", phone or "")


class PhoneDigits(Func):
    """`phone_digits` in SQL, so the comparison (and its index) runs in the database.

    PostgreSQL keeps the digits only; SQLite has no regular expressions built in, so it drops the
    separators people type in a phone number."""

    arity = 1
    output_field = CharField()
    SEPARATORS = (" ", "-", "(", ")", ".", "+", "/")

    def as_sql(self, compiler, connection, **extra_context):
        template = "%(expressions)s"
        for separator in self.SEPARATORS:
            template = f"REPLACE({template}, '{separator}', '')"
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "REGEXP_REPLACE(%(expressions)s, '[^0-9]', '', 'g')"
        return super().as_sql(compiler, connection, template=template, **extra_context)


_WORD = re.compile(r"[^\W_]+")


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of `text`: each alphanumeric word lower-cased, padded with two spaces
    before and one after, cut in threes."""
    grams: set[str] = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's `similarity(a, b)`: shared trigrams over all trigrams of the two (0 to 1)."""
    left, right = trigrams(a), trigrams(b)
    union = left | right
    return len(left & right) / len(union) if union else 0.0
