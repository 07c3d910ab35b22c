"""Drill-down links to the other apps' lists, with the query parameters of the URL contract."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.urls import get_script_prefix, get_urlconf, reverse


@functools.lru_cache(maxsize=128)
def _list_path(name: str, urlconf, prefix: str) -> str:
    """reverse(name), remembered per URLconf and script prefix: a dashboard links each of its
    few hundred figures to one of a dozen lists (438 reverse() calls, 28 ms a page, bench/)."""
    return reverse(name, urlconf=urlconf)


def list_url(name: str, *, pk: int | None = None, **params) -> str:
    """URL of a named list (or detail, with `pk`) with its filters; empty parameters are dropped."""
    path = _list_path(name, get_urlconf(), get_script_prefix()) if pk is None else reverse(name, args=[pk])
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path
