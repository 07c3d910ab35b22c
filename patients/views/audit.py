"""The PHI audit log: who viewed or changed which patient (managers and administrators)."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from accounts.roles import manager_required, phi_required
from liaison_crm.pagination import paginate

from .. import selectors
from ..choices import AccessKind
from ..forms import AuditFilterForm


@phi_required
@manager_required
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = AuditFilterForm(request.GET or None, user=user)
    filters = selectors.AuditFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.AuditFilters(
            user=data["user"].pk if data.get("user") else None,
            patient=data.get("patient"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            action=data.get("action"),
            kind=data.get("kind") or None,
        )
    page = paginate(selectors.audit_entries(user, filters), request.GET.get("page"))
    kinds = dict(AccessKind.choices)
    for entry in page.object_list:
        data = entry.additional_data or {}
        entry.kind_label = kinds.get(data.get("kind"), "")
        # The patients an entry covers: the one it names, or those an access entry lists.
        entry.patient_ids = [int(pk) for pk in data.get("patients", {})] or (
            [data["patient_id"]] if data.get("patient_id") else []
        )
    # Reading the audit trail is itself an access worth recording.
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(LogEntry),
        object_pk="patients-audit",
        object_repr="PHI audit log viewed",
        action=LogEntry.Action.ACCESS,
        actor=user,
        additional_data={"page": reverse("patients:audit"), "query": request.GET.urlencode()[:500]},
    )
    return render(request, "patients/audit.html", {"title": "PHI audit log", "form": form, "page_obj": page})
