"""What every patients view shares: the case fetched for this user, the audit ACCESS entry, how a
service's ValidationError becomes form errors, and the case page's context."""

from __future__ import annotations

from auditlog.signals import accessed
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from .. import selectors, services
from ..choices import Stage
from ..forms import (
    AssignForm,
    CommunicationForm,
    ConsentAddForm,
    CoverageForm,
    DeclineForm,
    DischargeForm,
    EligibilityForm,
    FollowUpForm,
    MedicationForm,
    TransitionForm,
)
from ..models import Case


def case_for(request: HttpRequest, pk: int, detail: bool = False) -> Case:
    qs = Case.objects.visible_to(request.user)
    qs = selectors.case_detail_queryset(qs) if detail else qs.select_related("patient")
    return get_object_or_404(qs, pk=pk)


def case_to_change(request: HttpRequest, pk: int) -> Case:
    """Visible (else 404) and changeable by this user (else 403), checked before any input."""
    case = case_for(request, pk)
    if not services.can_change_case(request.user, case):
        raise PermissionDenied("Only the assigned liaison or a manager of the team may change this case.")
    return case


def log_access(instance, team_id: int | None = None) -> None:
    """An ACCESS entry (actor from AuditlogMiddleware) each time PHI is shown."""
    if team_id is not None:
        instance.audit_team_id = team_id
    accessed.send(sender=instance.__class__, instance=instance)


def error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def changed(response: HttpResponse) -> HttpResponse:
    """Tell the stage bar to refresh itself after an in-place edit."""
    response["HX-Trigger"] = "case-changed"
    return response


def case_context(request: HttpRequest, case: Case, **extra) -> dict:
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
        "checklist": checklist(evaluation),
        "eligibility_form": EligibilityForm(
            initial={"eligibility": evaluation.eligibility, "clinical_notes": evaluation.clinical_notes}
        )
        if evaluation
        else None,
        "medication_form": MedicationForm(prefix="med"),
        "coverage_form": CoverageForm(prefix="cov"),
        "consent_form": ConsentAddForm(prefix="con"),
        "communication_form": CommunicationForm(prefix="comm"),
        "follow_up_form": FollowUpForm(prefix="fu"),
        "decline_form": DeclineForm(initial={"version": case.version}),
        "discharge_form": DischargeForm(initial={"version": case.version}),
        "transition_form": TransitionForm(initial={"version": case.version}),
        "assign_form": AssignForm(user=user, case=case) if (user.is_manager or user.is_admin_role) else None,
        "stages": Stage,
        "follow_ups": follow_ups(request, case),
    }
    ctx.update(extra)
    return ctx


def checklist(evaluation) -> list[dict]:
    if evaluation is None:
        return []
    return [
        {
            "key": key,
            "label": label,
            "at": getattr(evaluation, f"{key}_at"),
            "by": getattr(evaluation, f"{key}_by"),
        }
        for key, label in evaluation.CHECKLIST
    ]


def follow_ups(request, case):
    from outreach.models import FollowUp

    return list(FollowUp.objects.visible_to(request.user).filter(case=case).select_related("owner")[:20])
