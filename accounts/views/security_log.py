"""The security log, for administrators: filtered, paginated, and exported as CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from liaison_crm.csv_export import choice_label, csv_response
from liaison_crm.pagination import paginate

from ..filters import SecurityEventFilter
from ..models import SecurityEvent
from ..roles import admin_required


def _filtered(request: HttpRequest):
    base = SecurityEvent.objects.all()
    event_filter = SecurityEventFilter(request.GET, queryset=base)
    return event_filter, (event_filter.qs if event_filter.is_valid() else base.none())


@admin_required
@require_GET
def security_log(request: HttpRequest) -> HttpResponse:
    event_filter, qs = _filtered(request)
    page = paginate(qs.select_related("user", "actor").order_by("-at", "-id"), request.GET.get("page"))
    return render(
        request, "accounts/security_log.html", {"title": "Security log", "filter": event_filter, "page_obj": page}
    )


@admin_required
@require_GET
def security_log_export(request: HttpRequest) -> StreamingHttpResponse:
    _, qs = _filtered(request)
    header = ["Time", "Event", "Username", "User id", "By", "Address", "Browser", "Detail"]
    rows = (
        qs.annotate(kind_label=choice_label("kind", SecurityEvent.Kind.choices))
        .order_by("-at", "-id")
        .values_list("at", "kind_label", "username", "user_id", "actor__username", "ip", "user_agent", "detail")
        .iterator(chunk_size=2000)
    )
    return csv_response(f"security-log-{timezone.localdate():%Y-%m-%d}.csv", header, rows)
