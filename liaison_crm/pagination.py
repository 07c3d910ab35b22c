"""Pagination that never COUNTs: one more row than a page tells whether a next page exists.

Every list in the project uses it, so no page pays for a COUNT over a million rows, and the
number of queries stays the same whatever the table size.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

MAX_PAGE = 10_000


@dataclass
class Page:
    """What templates/partials/pagination.html needs; no page count (that would need a COUNT)."""

    object_list: list
    number: int
    _has_next: bool
    paginator: None = None

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self._has_next or self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def page_number(raw) -> int:
    """`?page=` as a number from 1 to MAX_PAGE; anything else is the first page."""
    try:
        return min(max(1, int(raw or 1)), MAX_PAGE)
    except (TypeError, ValueError, OverflowError):
        return 1


def paginate(queryset: QuerySet, page, per_page: int | None = None, *, ids_first: bool = False) -> Page:
    """One query for the page, whatever the table size. `page` is the raw `?page=` value.

    A page past the end is a 404, as with Django's own paginator; a malformed one is page 1.
    `ids_first` finds the first page's ids first too: for an order no index gives (a joined
    column), so that the database sorts ids, not whole rows with their joined tables.
    """
    per_page = per_page or settings.PAGE_SIZE
    number = page_number(page)
    offset = (number - 1) * per_page
    if (offset or ids_first) and not queryset.query.distinct:
        # A deep page: find the page's ids first (the OFFSET walks an index, not the rows), then
        # read those rows, in one statement. A plain OFFSET read and threw away every row before
        # the page: 80 ms at page 1,800 of 50,000 physicians.
        ids = queryset.values("pk")[offset : offset + per_page + 1]
        rows = list(queryset.filter(pk__in=ids))
    else:
        rows = list(queryset[offset : offset + per_page + 1])
    if not rows and number > 1:
        raise Http404("No such page.")
    return Page(object_list=rows[:per_page], number=number, _has_next=len(rows) > per_page)
