"""What every patients view shares: the case fetched for this user, the audit ACCESS entry, how a
service's ValidationError becomes form errors, and the case page's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .. import audit, selectors, services
from ..choices import AccessKind
from ..forms import CHECKLIST_FORMS, AssignForm, EligibilityForm
from ..models import Case, TreatmentPlan


def case_for(request: HttpRequest, pk: int, detail: bool = False) -> Case:
    qs = Case.objects.visible_to(request.user)
    qs = selectors.case_detail_queryset(qs) if detail else qs.select_related("patient")
    return get_object_or_404(qs, pk=pk)


def case_to_change(request: HttpRequest, pk: int) -> Case:
    """Visible (else 404) and changeable by this user (else 403), checked before any input."""
    case = case_for(request, pk)
    services.require_change(request.user, case)
    return case


def log_access(request: HttpRequest, case: Case, kind: str = AccessKind.CASE, instance=None) -> None:
    """The request's one ACCESS entry (patients/audit.py) for a response that shows this case: its
    page, its print, a part of it (`instance`: the record a fragment is about, else the case)."""
    audit.record_access(request, kind, audit.cases_shown([case]), instance=instance or case)


def log_cases_access(request: HttpRequest, cases: QuerySet[Case], kind: str = AccessKind.EXPORT) -> int:
    """One ACCESS entry for a file of cases (the worklist export): it lists every case and
    patient of `cases`, read in one query before the file streams, while the request (and so the
    actor) is at hand. Returns how many cases it names."""
    shown = list(cases.order_by().values_list("patient_id", "pk", "team_id"))
    audit.record_access(request, kind, shown, model=Case, label=f"{AccessKind(kind).label}: {len(shown)} cases")
    return len(shown)


def error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def save_form(form: forms.BaseForm, save: Callable[[dict], object]) -> int | None:
    """Validate `form` and save its data through `save` (a service), all or nothing. None once
    saved; otherwise the status to answer with, the reason on the form: 409 when the case changed
    since the form was opened, 422 when the form is invalid or a rule of the service refuses."""
    if not form.is_valid():
        return 422
    try:
        with transaction.atomic():
            save(form.cleaned_data)
    except services.StaleCaseError as exc:
        form.add_error(None, error_text(exc))
        return 409
    except ValidationError as exc:
        apply_errors(form, exc)
        return 422
    return None


def changed(response: HttpResponse) -> HttpResponse:
    """Tell the stage bar to refresh itself after an in-place edit."""
    response["HX-Trigger"] = "case-changed"
    return response


@dataclass(frozen=True)
class OpenForm:
    """The add form that the case page shows open: one that failed to save (with its errors), or
    the one asked for without JavaScript. `kind` names the <details> it opens (see
    templates/patients/partials/lazy_form.html); `section` is the list it adds to (a
    sections.Section), None for the discharge and decline forms."""

    kind: str
    form: forms.BaseForm
    section: object | None = None

    @property
    def template(self) -> str:
        return "patients/partials/add_form.html" if self.section else f"patients/partials/{self.kind}_form.html"

    @property
    def context(self) -> dict:
        return {"form": self.form, "section": self.section}


def case_page(request: HttpRequest, pk: int, status: int = 200, **extra) -> HttpResponse:
    """The case page, `extra` added to its context; showing it is a PHI access, logged."""
    case = case_for(request, pk, detail=True)
    log_access(request, case)
    return render(request, "patients/case_detail.html", case_context(request, case, **extra), status=status)


def case_context(request: HttpRequest, case: Case, checklist_forms: dict | None = None, **extra) -> dict:
    """The case page's context, `extra` added; `checklist_forms` are the checklist's tick forms
    as they were refused (what was typed, kept)."""
    user = request.user
    can_change = services.can_change_case(user, case)
    evaluation = getattr(case, "evaluation", None)
    ctx = {
        "title": f"{case.patient.full_name} · {case.program}",
        "case": case,
        "patient": case.patient,
        "evaluation": evaluation,
        "can_change": can_change,
        "stage_steps": selectors.stage_bar(case),
        "transitions": services.next_transitions(case) if can_change else [],
        "checklist": checklist(evaluation, checklist_forms),
        "treatment_plan": treatment_plan(case),
        "eligibility_form": EligibilityForm(
            initial={"eligibility": evaluation.eligibility, "clinical_notes": evaluation.clinical_notes}
        )
        if evaluation
        else None,
        # The add forms (medication, ..., discharge, decline) load when their <details> opens
        # (sections.case_form); the one shown open, with its errors, is `open_form`.
        "open_form": None,
        "assign_form": AssignForm(user=user, case=case) if (user.is_manager or user.is_admin_role) else None,
        "follow_ups": follow_ups(request, case),
        "consent_history": selectors.consent_history(case.consents.all()),
    }
    ctx.update(extra)
    return ctx


def checklist(evaluation, forms: dict | None = None) -> list[dict]:
    """The checklist's items; an item whose tick records more than who and when has its form
    (`forms` holds one that was refused, with what was typed)."""
    if evaluation is None:
        return []
    forms = forms or {}
    items = []
    for key, label in evaluation.CHECKLIST:
        form = forms.get(key)
        if form is None and key in CHECKLIST_FORMS:
            form_class = CHECKLIST_FORMS[key]
            form = form_class(initial={name: getattr(evaluation, name) for name in form_class.base_fields})
        items.append(
            {
                "key": key,
                "label": label,
                "at": getattr(evaluation, f"{key}_at"),
                "by": getattr(evaluation, f"{key}_by"),
                "form": form,
            }
        )
    return items


def treatment_plan(case: Case) -> TreatmentPlan | None:
    try:
        return case.treatment_plan
    except TreatmentPlan.DoesNotExist:
        return None


def follow_ups(request, case):
    from outreach.models import FollowUp

    return list(FollowUp.objects.visible_to(request.user).filter(case=case).select_related("owner")[:20])
