from __future__ import annotations

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Cursor pages: the next page is "after this row", so no COUNT over a million rows and no
    row skipped or repeated while new ones arrive. A viewset names its `ordering`, which must end
    in a unique column (the id)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-id",)
