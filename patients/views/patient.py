"""The patient record and the demographics edited in place from the case page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import phi_required

from .. import services
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
    log_access(patient, team_id=cases[0].team_id if cases else None)
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
        return render(request, template, {"case": case, "form": form})
    form = PatientForm(request.POST, instance=Patient.objects.get(pk=patient.pk), prefix="pat")
    status = save_form(form, lambda data: services.update_patient(patient=patient, case=case, by=request.user, **data))
    if status is not None:
        return render(request, template, {"case": case, "form": form}, status=status)
    if request.htmx:
        return render(
            request, "patients/partials/patient_card.html", {"case": case, "patient": patient, "can_change": True}
        )
    return redirect("patients:case_detail", pk=case.pk)
