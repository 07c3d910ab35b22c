"""Dashboards (overview, MSL side, clinical side) and their CSV exports. Views stay thin: the
scope comes from filters.resolve_scope, the numbers from the widgets' selectors."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from liaison_crm.csv_export import csv_response

from .filters import resolve_scope
from .widgets import PAGES, REGISTRY

PAGE_TITLES = {"overview": "Overview", "msl": "Medical affairs", "clinical": "Clinical liaison", "trials": "Trials"}


def _tabs(scope) -> list[tuple[str, str, str]]:
    tabs = []
    if scope.show_joined:
        tabs.append(("overview", PAGE_TITLES["overview"], reverse("reporting:dashboard")))
    if scope.show_msl:
        tabs.append(("msl", PAGE_TITLES["msl"], reverse("reporting:msl")))
    if scope.show_clinical:
        tabs.append(("clinical", PAGE_TITLES["clinical"], reverse("reporting:clinical")))
    if scope.show_joined:
        tabs.append(("trials", PAGE_TITLES["trials"], reverse("reporting:trials")))
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


@require_GET
def trials_dashboard(request: HttpRequest) -> HttpResponse:
    """Trials, where the two sides meet: recruitment counted from the clinical side's records
    next to the MSLs' visits to the investigators. For managers and admins (both sides)."""
    if not (request.user.is_manager or request.user.is_admin_role):
        raise PermissionDenied("The trials dashboard is for managers.")
    return _render_page(request, "trials")


def _widget_in_scope(request: HttpRequest, key: str):
    widget = REGISTRY.get(key)
    if widget is None:
        raise Http404("No such report.")
    scope, _form = resolve_scope(request.user, request.GET)
    if not widget.visible_to(scope):
        raise PermissionDenied("Your role does not have access to this report.")
    return widget, scope


@require_GET
def widget_table(request: HttpRequest, key: str) -> HttpResponse:
    """A chart's figures as a table, with the same filters: what its "Table of these figures"
    loads when opened (the widget's data comes from the cache the dashboard filled)."""
    widget, scope = _widget_in_scope(request, key)
    return render(request, "reporting/widgets/table.html", {"w": widget.render_context(scope, table=True)})


@require_GET
def export_csv(request: HttpRequest, key: str) -> StreamingHttpResponse:
    """Every table of the dashboards as CSV, with the same filters, streamed row by row."""
    widget, scope = _widget_in_scope(request, key)
    filename = f"{key}_{scope.date_from:%Y-%m-%d}_{scope.date_to:%Y-%m-%d}.csv"
    rows = ([cell.value for cell in row] for row in widget.export_rows(scope))
    return csv_response(filename, widget.columns, rows)
