"""The case page's sections edited in place: the evaluation, and the lists (medications,
coverages, consents, communications, follow-ups) with their add and edit forms."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import phi_required

from .. import services
from ..forms import (
    CommunicationForm,
    ConsentAddForm,
    ConsentUpdateForm,
    CoverageForm,
    EligibilityForm,
    FollowUpForm,
    MedicationForm,
)
from ..models import Consent, InsuranceCoverage, Medication
from .common import apply_errors, case_context, case_for, case_to_change, changed, error_text

# --- evaluation -------------------------------------------------------------------------------


def _evaluation_response(request, case, status=200, eligibility_form=None, error=None):
    case = case_for(request, case.pk, detail=True)
    evaluation = getattr(case, "evaluation", None)
    ctx = case_context(request, case, evaluation_error=error)
    if eligibility_form is not None:
        ctx["eligibility_form"] = eligibility_form
    response = render(request, "patients/partials/evaluation.html", ctx, status=status)
    return changed(response) if status == 200 and evaluation is not None else response


@phi_required
@require_POST
def checklist_item(request: HttpRequest, pk: int, item: str) -> HttpResponse:
    case = case_to_change(request, pk)
    done = request.POST.get("done") == "1"
    try:
        services.set_checklist_item(case=case, by=request.user, item=item, done=done)
    except ValidationError as exc:
        return _evaluation_response(request, case, status=422, error=error_text(exc))
    if not request.htmx:
        return redirect("patients:case_detail", pk=case.pk)
    return _evaluation_response(request, case)


@phi_required
@require_POST
def eligibility(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    form = EligibilityForm(request.POST)
    if form.is_valid():
        try:
            services.decide_eligibility(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if not request.htmx:
                return redirect("patients:case_detail", pk=case.pk)
            return _evaluation_response(request, case)
    return _evaluation_response(request, case, status=422, eligibility_form=form)


# --- in-place edited sections -----------------------------------------------------------------

SECTIONS = {
    "medications": "patients/partials/medications.html",
    "coverages": "patients/partials/coverages.html",
    "consents": "patients/partials/consents.html",
    "communications": "patients/partials/communications.html",
    "follow_ups": "patients/partials/follow_ups.html",
}


def _section(request, case_pk: int, section: str, status: int = 200, **extra) -> HttpResponse:
    case = case_for(request, case_pk, detail=True)
    ctx = case_context(request, case)
    ctx.update(extra)
    response = render(request, SECTIONS[section], ctx, status=status)
    return changed(response) if status == 200 else response


def _retarget(request, case, section: str) -> HttpResponse:
    """An item's edit form swaps itself; once saved, the whole section is re-rendered."""
    if not request.htmx:
        return redirect("patients:case_detail", pk=case.pk)
    response = _section(request, case.pk, section)
    response["HX-Retarget"] = f"#{section}"
    response["HX-Reswap"] = "outerHTML"
    return response


def _save_section(request, case, section, form, save, **extra_on_error):
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if not request.htmx:
                return redirect("patients:case_detail", pk=case.pk)
            return _section(request, case.pk, section)
    return _section(request, case.pk, section, status=422, **extra_on_error)


def _edit_item(request, case, item, *, section: str, template: str, make_form, save) -> HttpResponse:
    """In-place edit of one row of a case section: the form partial on GET; on POST the service
    saves it (all or nothing) and the section is re-rendered, or the form comes back with 422."""
    context = {"case": case, "item": item}
    if request.method == "GET":
        return render(request, template, {**context, "form": make_form(None)})
    form = make_form(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                save(form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _retarget(request, case, section)
    return render(request, template, {**context, "form": form}, status=422)


@phi_required
@require_POST
def medication_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    form = MedicationForm(request.POST, prefix="med")
    return _save_section(
        request,
        case,
        "medications",
        form,
        lambda d: services.save_medication(case=case, by=request.user, **d),
        medication_form=form,
    )


@phi_required
@require_http_methods(["GET", "POST"])
def medication_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    medication = get_object_or_404(Medication, pk=item_pk, case=case)
    return _edit_item(
        request,
        case,
        medication,
        section="medications",
        template="patients/partials/medication_edit.html",
        make_form=lambda data: MedicationForm(data, instance=medication, prefix=f"med{medication.pk}"),
        save=lambda d: services.save_medication(case=case, by=request.user, medication=medication, **d),
    )


@phi_required
@require_POST
def coverage_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    form = CoverageForm(request.POST, prefix="cov")
    return _save_section(
        request,
        case,
        "coverages",
        form,
        lambda d: services.save_coverage(case=case, by=request.user, **d),
        coverage_form=form,
    )


@phi_required
@require_http_methods(["GET", "POST"])
def coverage_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    coverage = get_object_or_404(InsuranceCoverage, pk=item_pk, case=case)
    return _edit_item(
        request,
        case,
        coverage,
        section="coverages",
        template="patients/partials/coverage_edit.html",
        make_form=lambda data: CoverageForm(data, instance=coverage, prefix=f"cov{coverage.pk}"),
        save=lambda d: services.save_coverage(case=case, by=request.user, coverage=coverage, **d),
    )


@phi_required
@require_POST
def consent_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    form = ConsentAddForm(request.POST, prefix="con")
    return _save_section(
        request,
        case,
        "consents",
        form,
        lambda d: services.add_consent(case=case, by=request.user, **d),
        consent_form=form,
    )


@phi_required
@require_http_methods(["GET", "POST"])
def consent_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    consent = get_object_or_404(Consent.objects.select_related("form"), pk=item_pk, case=case)
    prefix = f"consent{consent.pk}"
    return _edit_item(
        request,
        case,
        consent,
        section="consents",
        template="patients/partials/consent_edit.html",
        make_form=lambda data: (
            ConsentUpdateForm(data, prefix=prefix)
            if data is not None
            else ConsentUpdateForm(consent=consent, prefix=prefix)
        ),
        save=lambda d: services.update_consent(consent=consent, case=case, by=request.user, **d),
    )


@phi_required
@require_POST
def communication_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    form = CommunicationForm(request.POST, prefix="comm")
    return _save_section(
        request,
        case,
        "communications",
        form,
        lambda d: services.log_communication(case=case, by=request.user, **d),
        communication_form=form,
    )


@phi_required
@require_POST
def follow_up_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    form = FollowUpForm(request.POST, prefix="fu")
    return _save_section(
        request,
        case,
        "follow_ups",
        form,
        lambda d: services.add_case_follow_up(case=case, by=request.user, **d),
        follow_up_form=form,
    )
