"""Streaming CSV responses shared by every export, safe against spreadsheet formula injection."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse
from django.utils import timezone

# A cell starting with one of these is run as a formula by spreadsheet programs (=cmd|...).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset("".join(FORMULA_PREFIXES))
CHUNK_LINES = 500


def csv_safe(value) -> str | int | float:
    """A cell for CSV: numbers as numbers; text that a spreadsheet would run as a formula is quoted."""
    if type(value) is str:  # the common case first: a large export calls this a million times
        return "'" + value if value and value[0] in _FORMULA_CHARS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The file's lines, a few hundred per chunk: not one response write per line."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so spreadsheet programs read UTF-8
    yield writer.writerow([csv_safe(h) for h in header])
    chunk: list[str] = []
    for row in rows:
        chunk.append(writer.writerow([csv_safe(v) for v in row]))
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
