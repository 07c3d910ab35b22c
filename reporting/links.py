"""Drill-down links to the other apps' lists, with the query parameters of the URL contract."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

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
    try:
        path = _detail_path(name, int(pk)) if pk is not None else reverse(name)
    except NoReverseMatch:
        path = CONTRACT_PATHS[name].format(pk=pk)
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


_MARKER = 987654321
_detail_templates: dict[tuple, str] = {}


def _detail_path(name: str, pk: int) -> str:
    """reverse(name, args=[pk]), reversing once per URL name: a report's CSV links every row
    (a thousand reverse() calls were most of an export's time)."""
    key = (name, get_script_prefix(), get_urlconf())
    template = _detail_templates.get(key)
    if template is None:
        path = reverse(name, args=[_MARKER])
        marker = f"/{_MARKER}/"
        if path.count(marker) != 1:
            return reverse(name, args=[pk])
        template = _detail_templates[key] = path.replace(marker, "/{pk}/")
    return template.format(pk=pk)
