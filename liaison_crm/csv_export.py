"""Streaming CSV responses shared by every export, safe against spreadsheet formula injection."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from django.db.models import Case, CharField, Value, When
from django.db.models.functions import Cast, Concat, Trim
from django.http import StreamingHttpResponse
from django.utils import timezone

# A cell starting with one of these is run as a formula by spreadsheet programs (=cmd|...).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset("".join(FORMULA_PREFIXES))
CHUNK_LINES = 500


def csv_safe(value, tz: dt.tzinfo | None = None) -> str | int | float:
    """A cell for CSV: numbers as numbers; text that a spreadsheet would run as a formula is quoted.

    Datetimes are written in `tz`, by default the current time zone (an export passes it once:
    looking the zone up per cell was a third of a 100,000-row export's time).
    """
    if type(value) is str:  # the common case first: a large export calls this a million times
        return "'" + value if value and value[0] in _FORMULA_CHARS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.datetime):
        if tz is None or value.tzinfo is None:  # naive: localtime() refuses it, as before
            return timezone.localtime(value).isoformat(timespec="minutes")
        return value.astimezone(tz).isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


# Columns computed by the database, so that a large export's rows need no Python per row.
def choice_label(field: str, choices: Iterable[tuple]) -> Case:
    """The display label of a choices field (the stored value when it is not one of the choices)."""
    whens = [When(**{field: value}, then=Value(str(label))) for value, label in choices]
    return Case(*whens, default=Cast(field, output_field=CharField()), output_field=CharField())


def yes_no(field: str) -> Case:
    """A boolean as csv_safe() writes it: yes, no, or empty for NULL."""
    return Case(
        When(**{field: True}, then=Value("yes")),
        When(**{field: False}, then=Value("no")),
        default=Value(""),
        output_field=CharField(),
    )


def full_name(first: str, last: str) -> Trim:
    """ "First Last", either part possibly empty or NULL (no outer spaces)."""
    return Trim(Concat(first, Value(" "), last, output_field=CharField()))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The file's lines, a few hundred per chunk: not one response write per line."""
    writer = csv.writer(_Echo())
    tz = timezone.get_current_timezone()
    yield "\ufeff"  # so spreadsheet programs read UTF-8
    yield writer.writerow([csv_safe(h) for h in header])
    chunk: list[str] = []
    for row in rows:
        # Plain text, whole numbers and empty cells (the csv module writes None as "") go through
        # as they are without a call per cell; everything else through csv_safe().
        cells = [
            v
            if (type(v) is str and (not v or v[0] not in _FORMULA_CHARS)) or v is None or type(v) is int
            else csv_safe(v, tz)
            for v in row
        ]
        chunk.append(writer.writerow(cells))
        if len(chunk) >= CHUNK_LINES:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
