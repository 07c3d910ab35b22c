"""The patient record and the demographics edited in place from the case page."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import phi_required

from .. import services
from ..forms import PatientForm
from ..models import Case, Patient
from .common import apply_errors, case_to_change, error_text, log_access


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
    status = 422
    if form.is_valid():
        try:
            services.update_patient(patient=patient, case=case, by=request.user, **form.cleaned_data)
        except services.StaleCaseError as exc:
            form.add_error(None, error_text(exc))
            status = 409
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if request.htmx:
                return render(
                    request,
                    "patients/partials/patient_card.html",
                    {"case": case, "patient": patient, "can_change": True},
                )
            return redirect("patients:case_detail", pk=case.pk)
    return render(request, template, {"case": case, "form": form}, status=status)
