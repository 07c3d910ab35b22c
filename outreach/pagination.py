"""A page that never counts: fetch PAGE_SIZE + 1 rows to know whether there is a next page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings


@dataclass
class Page:
    object_list: list
    number: int
    has_next: bool
    paginator: object = field(default=None)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next or self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def page_of(qs, page_param, per_page: int | None = None) -> Page:
    per_page = per_page or settings.PAGE_SIZE
    try:
        number = max(1, int(page_param or 1))
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    rows = list(qs[start : start + per_page + 1])
    return Page(object_list=rows[:per_page], number=number, has_next=len(rows) > per_page)
