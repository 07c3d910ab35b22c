"""The patient record and the demographics edited in place from the case page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import phi_required

from .. import audit, services
from ..choices import AccessKind
from ..forms import PatientForm
from ..models import Case, Patient
from .common import case_to_change, log_access, save_form


@phi_required
@require_GET
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=pk)
    cases = list(
        Case.objects.visible_to(request.user)
        .filter(patient=patient)
        .select_related("assigned_liaison", "team")
        .order_by("-referral_received_at")[:50]
    )
    shown = [(patient.pk, c.pk, c.team_id) for c in cases] or [(patient.pk, None, None)]
    audit.record_access(request, AccessKind.PATIENT, shown, instance=patient)
    return render(
        request,
        "patients/patient_detail.html",
        {"title": patient.full_name, "patient": patient, "cases": cases},
    )


@phi_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Demographics, edited in place from the case page."""
    case = case_to_change(request, pk)
    patient = case.patient
    template = "patients/partials/patient_form.html"
    if request.method == "GET":
        form = PatientForm(instance=patient, prefix="pat", initial={"version": case.version})
        log_access(request, case, AccessKind.FRAGMENT, instance=patient)
        return render(request, template, {"case": case, "form": form})
    form = PatientForm(request.POST, instance=Patient.objects.get(pk=patient.pk), prefix="pat")
    status = save_form(form, lambda data: services.update_patient(patient=patient, case=case, by=request.user, **data))
    if status is not None:
        log_access(request, case, AccessKind.FRAGMENT, instance=patient)
        return render(request, template, {"case": case, "form": form}, status=status)
    if request.htmx:
        log_access(request, case, AccessKind.FRAGMENT, instance=patient)
        return render(
            request, "patients/partials/patient_card.html", {"case": case, "patient": patient, "can_change": True}
        )
    return redirect("patients:case_detail", pk=case.pk)
