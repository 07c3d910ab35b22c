from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import exceptions, pagination


class CursorPagination(pagination.CursorPagination):
    """Cursor pages: the next page is "after this row", so no COUNT over a million rows and no
    row skipped or repeated while new ones arrive. A viewset names its `ordering` (DRF's cursor
    paginator reads only its own), which must end in a unique column (the id)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-id",)

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "ordering", None)
        if ordering:
            return (ordering,) if isinstance(ordering, str) else tuple(ordering)
        return super().get_ordering(request, queryset, view)

    def paginate_queryset(self, queryset, request, view=None):
        # A forged cursor's position the column cannot hold ("abc" for an id, a NUL byte in a
        # name) fails when the page is read: it is an invalid cursor, as DRF answers a garbled one.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, ValidationError):
            raise exceptions.NotFound(self.invalid_cursor_message) from None
