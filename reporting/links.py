"""Drill-down links to the other apps' lists, with the query parameters of the URL contract."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.urls import NoReverseMatch

from liaison_crm.ui_tags import path_url, pk_urls

# The contract's paths (shared/DESIGN.md), for lists whose URL names may not exist yet in this
# checkout: the link is right as soon as the owning app ships the list.
CONTRACT_PATHS = {
    "physicians:list": "/physicians/",
    "physicians:detail": "/physicians/{pk}/",
    "physicians:interactions": "/physicians/interactions/",
    "physicians:insights": "/physicians/insights/",
    "physicians:inquiries": "/physicians/inquiries/",
    "physicians:trainings": "/physicians/trainings/",
    "physicians:trials": "/physicians/trials/",
    "physicians:sites": "/physicians/sites/",
    "patients:worklist": "/patients/",
    "outreach:follow_ups": "/outreach/follow-ups/",
}


def list_url(name: str, *, pk: int | None = None, **params) -> str:
    """URL of a named list (or detail, with `pk`) with its filters; empty parameters are dropped."""
    if pk is not None:
        path = detail_urls(name)(pk)
    else:
        try:
            path = path_url(name)
        except NoReverseMatch:
            path = CONTRACT_PATHS[name]
    if not params:
        return path
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def detail_urls(name: str) -> Callable[[int], str]:
    """list_url(name, pk=·) for every row of a table: the URL is reversed once."""
    try:
        return pk_urls(name)
    except NoReverseMatch:
        return lambda pk: CONTRACT_PATHS[name].format(pk=pk)
