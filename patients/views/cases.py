"""The case page, its print version and stage bar, the stage transitions, the referral details
and the assignment."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import manager_required, phi_required

from .. import services
from ..choices import AccessKind
from ..forms import AssignForm, CaseDetailsForm, DeclineForm, DischargeForm, TransitionForm
from ..models import Case
from .common import (
    OpenForm,
    case_context,
    case_for,
    case_page,
    case_to_change,
    changed,
    error_text,
    log_access,
    save_form,
)

# The transitions that take more than the case's version: their forms open from the stage bar.
TRANSITION_FORMS = {"decline": DeclineForm, "discharge": DischargeForm}


@phi_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return case_page(request, pk)


@phi_required
@require_GET
def case_print(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for(request, pk, detail=True)
    log_access(request, case, AccessKind.PRINT)
    ctx = case_context(request, case, title=f"Hand-over summary · {case.patient.full_name}", printed_at=timezone.now())
    return render(request, "patients/case_print.html", ctx)


@phi_required
@require_GET
def stage_bar(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for(request, pk, detail=True)
    log_access(request, case, AccessKind.FRAGMENT)
    return render(request, "patients/partials/stage_bar.html", case_context(request, case))


@phi_required
@require_POST
def case_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = case_for(request, pk, detail=True)
    service = services.TRANSITIONS.get(action)
    if service is None:
        return HttpResponse("Unknown transition.", status=404)
    form_class = TRANSITION_FORMS.get(action, TransitionForm)
    form = form_class(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        kwargs = {"case": case, "by": request.user, "version": data["version"], "note": data.get("note", "")}
        if action == "decline":
            kwargs["reason"] = data["reason"]
        if action == "discharge":
            kwargs.update(
                disposition=data["disposition"], summary=data["summary"], discharged_at=data.get("discharged_at")
            )
        try:
            service(**kwargs)
        except services.StaleCaseError as exc:
            messages.error(request, error_text(exc))
            status = 409
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Case is now {case.get_stage_display().lower()}.")
            return redirect("patients:case_detail", pk=case.pk)
    else:
        messages.error(request, "Cannot do that: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    # Nothing was written: the page as it stands (re-read), a decline or discharge form open
    # with what was typed and its errors.
    open_form = OpenForm(action, form) if action in TRANSITION_FORMS else None
    return case_page(request, pk, status=status, open_form=open_form)


@phi_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    template = "patients/partials/case_details_form.html"
    if request.method == "GET":
        log_access(request, case, AccessKind.FRAGMENT)
        return render(request, template, {"case": case, "form": CaseDetailsForm(instance=case, user=request.user)})
    form = CaseDetailsForm(request.POST, instance=Case.objects.get(pk=case.pk), user=request.user)

    def save(data: dict) -> None:
        fields = {k: data[k] for k in CaseDetailsForm.Meta.fields}
        services.update_case(case=case, by=request.user, version=data["version"], **fields)

    status = save_form(form, save)
    if status is not None:
        log_access(request, case, AccessKind.FRAGMENT)
        return render(request, template, {"case": case, "form": form}, status=status)
    if request.htmx:
        log_access(request, case, AccessKind.FRAGMENT)
        return changed(render(request, "patients/partials/case_details.html", {"case": case, "can_change": True}))
    return redirect("patients:case_detail", pk=case.pk)


@manager_required
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_for(request, pk)
    form = AssignForm(request.POST, user=request.user, case=case)
    if form.is_valid():
        try:
            services.assign_case(
                case=case,
                liaison=form.cleaned_data["assigned_liaison"],
                by=request.user,
                version=form.cleaned_data["version"],
            )
        except services.StaleCaseError as exc:
            messages.error(request, error_text(exc))
            return redirect("patients:case_detail", pk=case.pk)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, f"Case assigned to {case.assigned_liaison}.")
    else:
        messages.error(request, "Choose a liaison.")
    return redirect("patients:case_detail", pk=case.pk)
