"""Drill-down links to the other apps' lists, with the query parameters of the URL contract."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse


def list_url(name: str, *, pk: int | None = None, **params) -> str:
    """URL of a named list (or detail, with `pk`) with its filters; empty parameters are dropped."""
    path = reverse(name) if pk is None else reverse(name, args=[pk])
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path
