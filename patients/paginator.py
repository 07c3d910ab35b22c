"""A page that never COUNTs: fetch one row more than the page to know whether there is a next."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404


class NoCountPage:
    paginator = None  # the pagination partial shows no "of N"

    def __init__(self, object_list, number: int, has_next: bool):
        self.object_list = object_list
        self.number = number
        self._has_next = has_next

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def paginate(queryset, page_param, per_page: int | None = None) -> NoCountPage:
    per_page = per_page or settings.PAGE_SIZE
    try:
        number = max(1, int(page_param or 1))
    except (TypeError, ValueError):
        raise Http404("No such page.") from None
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    if not rows and number > 1:
        raise Http404("No such page.")
    return NoCountPage(rows[:per_page], number, len(rows) > per_page)
