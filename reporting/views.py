"""Dashboards (overview, MSL side, clinical side) and their CSV exports. Views stay thin: the
scope comes from filters.resolve_scope, the numbers from the widgets' selectors."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .filters import resolve_scope
from .widgets import PAGES, REGISTRY, Cell

PAGE_TITLES = {"overview": "Overview", "msl": "Medical affairs", "clinical": "Clinical liaison"}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _tabs(scope) -> list[tuple[str, str, str]]:
    tabs = []
    if scope.show_joined:
        tabs.append(("overview", PAGE_TITLES["overview"], reverse("reporting:dashboard")))
    if scope.show_msl:
        tabs.append(("msl", PAGE_TITLES["msl"], reverse("reporting:msl")))
    if scope.show_clinical:
        tabs.append(("clinical", PAGE_TITLES["clinical"], reverse("reporting:clinical")))
    return tabs


def _render_page(request: HttpRequest, page: str) -> HttpResponse:
    scope, form = resolve_scope(request.user, request.GET)
    widgets = [REGISTRY[key] for key in PAGES[page]]
    if not all(w.visible_to(scope) for w in widgets):
        raise PermissionDenied("Your role does not have access to this dashboard.")
    query = request.GET.urlencode()
    context = {
        "title": f"Dashboard · {PAGE_TITLES[page]}" if not scope.personal else "My dashboard",
        "page": page,
        "scope": scope,
        "form": form,
        "tabs": _tabs(scope),
        "widgets": [w.render_context(scope) for w in widgets],
        "query": query,
    }
    return render(request, "reporting/dashboard.html", context)


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """`/reporting/`: the joined overview for managers and admins; others go to their own side."""
    user = request.user
    if user.is_msl:
        return redirect(f"{reverse('reporting:msl')}?{request.GET.urlencode()}".rstrip("?"))
    if user.is_liaison:
        return redirect(f"{reverse('reporting:clinical')}?{request.GET.urlencode()}".rstrip("?"))
    if not (user.is_manager or user.is_admin_role):
        raise PermissionDenied("Only managers may open this page.")
    return _render_page(request, "overview")


@require_GET
def msl_dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.sees_medical_affairs:
        raise PermissionDenied("The medical affairs dashboard is for MSLs and their managers.")
    return _render_page(request, "msl")


@require_GET
def clinical_dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.sees_phi:
        raise PermissionDenied("The clinical liaison dashboard is for clinical liaisons and their managers.")
    return _render_page(request, "clinical")


def csv_safe(value) -> str | int | float:
    """A cell for CSV: numbers as numbers; text that a spreadsheet would run as a formula is quoted."""
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


def _csv_lines(header: list[str], rows: Iterable[list[Cell]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so spreadsheet programs read UTF-8
    yield writer.writerow([csv_safe(h) for h in header])
    chunk: list[str] = []
    for row in rows:
        chunk.append(writer.writerow([csv_safe(c.value) for c in row]))
        if len(chunk) >= 200:  # a few hundred lines a chunk: not a response write per line
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


@require_GET
def export_csv(request: HttpRequest, key: str) -> StreamingHttpResponse:
    """Every table of the dashboards as CSV, with the same filters, streamed row by row."""
    widget = REGISTRY.get(key)
    if widget is None:
        raise Http404("No such report.")
    scope, _form = resolve_scope(request.user, request.GET)
    if not widget.visible_to(scope):
        raise PermissionDenied("Your role does not have access to this report.")
    filename = f"{key}_{scope.date_from:%Y-%m-%d}_{scope.date_to:%Y-%m-%d}.csv"
    response = StreamingHttpResponse(
        _csv_lines(list(widget.columns), widget.export_rows(scope)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
