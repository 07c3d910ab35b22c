"""Trial participation pages: a case's screening, research consent, enrolment and after; and the
protocol's criteria and IRB approvals, edited by the medical-affairs side."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import medical_affairs_required, phi_required
from patients import audit
from patients.choices import AccessKind
from patients.views.common import apply_errors, case_to_change
from physicians.models import ClinicalTrial

from . import selectors, services
from .choices import ParticipationStatus
from .forms import (
    AnswersForm,
    CompleteForm,
    ConcludeForm,
    CriteriaForm,
    EnrolForm,
    IrbApprovalForm,
    StartScreeningForm,
    WithdrawForm,
)
from .models import Participation


def _participation_for(request: HttpRequest, pk: int) -> Participation:
    return get_object_or_404(selectors.participation_detail_queryset(request.user), pk=pk)


def _to_change(request: HttpRequest, pk: int) -> Participation:
    """Visible (else 404) and changeable by this user (else 403), checked before any input."""
    participation = _participation_for(request, pk)
    if not services.can_change(request.user, participation):
        raise PermissionDenied("Only the assigned liaison or a manager of the team may change this case's trials.")
    return participation


# --- a case's screening --------------------------------------------------------------------------


@phi_required
@require_http_methods(["GET", "POST"])
def start_screening(request: HttpRequest, case_pk: int) -> HttpResponse:
    case = case_to_change(request, case_pk)
    form = StartScreeningForm(request.POST or None, request=request)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                participation = services.start_screening(case=case, site=form.cleaned_data["site"], by=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Screening for {participation.trial.protocol_number} started.")
                return redirect("research:participation", pk=participation.pk)
        status = 422
    audit.record_access(request, AccessKind.RESEARCH, audit.cases_shown([case]), instance=case)
    ctx = {"title": f"Screen for a trial · case #{case.pk}", "case": case, "form": form}
    return render(request, "research/start_screening.html", ctx, status=status)


def _page(request: HttpRequest, participation: Participation, *, status: int = 200, **forms) -> HttpResponse:
    """The participation's page, with the forms of its next steps (`forms`: those refused, with
    their errors). Showing it is a PHI access, logged."""
    audit.record_access(request, AccessKind.RESEARCH, audit.cases_shown([participation.case]), instance=participation)
    ctx = selectors.participation_page(participation, request.user, **forms)
    ctx["title"] = f"{participation.trial.protocol_number} · case #{participation.case_id}"
    return render(request, "research/participation.html", ctx, status=status)


@phi_required
@require_GET
def participation(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _participation_for(request, pk))


def _step(request: HttpRequest, participation: Participation, action, form_name: str, form, done: str):
    """Run `action(form)` when `form` is valid; a refusal re-renders the page (422) with the
    form's errors, and nothing is written."""
    if form.is_valid():
        try:
            action(form)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("research:participation", pk=participation.pk)
    return _page(request, participation, status=422, **{form_name: form})


@phi_required
@require_POST
def answers(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _to_change(request, pk)
    form = AnswersForm(request.POST, criteria_with_answers=services.criteria_with_answers(participation))
    return _step(
        request,
        participation,
        lambda f: services.answer_criteria(participation=participation, by=request.user, answers=f.answers()),
        "answers_form",
        form,
        "Answers saved.",
    )


@phi_required
@require_POST
def conclude(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _to_change(request, pk)
    form = ConcludeForm(request.POST)

    def act(f):
        services.conclude_screening(
            participation=participation,
            by=request.user,
            eligible=f.cleaned_data["outcome"] == ParticipationStatus.ELIGIBLE,
            reason=f.cleaned_data["reason"],
            note=f.cleaned_data["note"],
        )

    return _step(request, participation, act, "conclude_form", form, "Screening concluded.")


@phi_required
@require_POST
def add_consent(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _to_change(request, pk)
    try:
        consent = services.add_research_consent(participation=participation, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("research:participation", pk=participation.pk)
    messages.success(request, "Research consent opened: explain it, confirm teach-back, and record the signature.")
    return redirect(reverse("patients:case_detail", args=[participation.case_id]) + f"#consent-{consent.pk}")


@phi_required
@require_POST
def consented(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _to_change(request, pk)
    try:
        services.record_consent(participation=participation, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Research consent recorded.")
    return redirect("research:participation", pk=participation.pk)


@phi_required
@require_POST
def enrol(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _to_change(request, pk)
    form = EnrolForm(request.POST)

    def act(f):
        services.enrol(
            participation=participation,
            by=request.user,
            participant_id=f.cleaned_data["participant_id"],
            enrolled_on=f.cleaned_data["enrolled_on"],
        )

    return _step(request, participation, act, "enrol_form", form, "Enrolled.")


@phi_required
@require_POST
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _to_change(request, pk)
    form = CompleteForm(request.POST)

    def act(f):
        services.complete(participation=participation, by=request.user, note=f.cleaned_data["note"])

    return _step(request, participation, act, "complete_form", form, "Participation completed.")


@phi_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    participation = _to_change(request, pk)
    form = WithdrawForm(request.POST)

    def act(f):
        services.withdraw(participation=participation, by=request.user, reason=f.cleaned_data["reason"])

    return _step(request, participation, act, "withdraw_form", form, "Participant withdrawn.")


# --- the protocol (medical-affairs side) ---------------------------------------------------------


def _trial_for(request: HttpRequest, pk: int) -> ClinicalTrial:
    return get_object_or_404(ClinicalTrial.objects.visible_to(request.user), pk=pk)


@medical_affairs_required
@require_http_methods(["GET", "POST"])
def criteria(request: HttpRequest, pk: int) -> HttpResponse:
    trial = _trial_for(request, pk)
    current = list(trial.criteria.order_by("kind", "position"))
    initial = {kind: "\n".join(c.text for c in current if c.kind == kind) for kind in ("inclusion", "exclusion")}
    form = CriteriaForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_criteria(
                    trial=trial,
                    by=request.user,
                    inclusion=form.cleaned_data["inclusion"].splitlines(),
                    exclusion=form.cleaned_data["exclusion"].splitlines(),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Eligibility criteria saved.")
                return redirect("physicians:trial_detail", pk=trial.pk)
        status = 422
    ctx = {"title": f"Eligibility criteria · {trial.protocol_number}", "trial": trial, "form": form}
    return render(request, "research/criteria.html", ctx, status=status)


@medical_affairs_required
@require_http_methods(["GET", "POST"])
def irb_approval(request: HttpRequest, pk: int) -> HttpResponse:
    trial = _trial_for(request, pk)
    form = IrbApprovalForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                approval = services.approve_consent_version(
                    trial=trial,
                    by=request.user,
                    version=form.cleaned_data["version"],
                    approved_on=form.cleaned_data["approved_on"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Research consent {approval} recorded: new consents are signed on it.")
                return redirect("physicians:trial_detail", pk=trial.pk)
        status = 422
    ctx = {"title": f"IRB approval · {trial.protocol_number}", "trial": trial, "form": form}
    return render(request, "research/irb_approval.html", ctx, status=status)
