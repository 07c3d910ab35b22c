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
    ctx = selectors.participation_page(participation, request.user)
    S, nxt = ParticipationStatus, ctx["next_steps"]
    offered = {  # each step's form: shown when, its class, its arguments
        "answers_form": (
            ctx["can_change"] and participation.status == S.SCREENING,
            AnswersForm,
            {"criteria_with_answers": ctx["criteria"]},
        ),
        "conclude_form": (S.ELIGIBLE in nxt, ConcludeForm, {}),
        "enrol_form": (S.ENROLLED in nxt, EnrolForm, {}),
        "complete_form": (S.COMPLETED in nxt, CompleteForm, {}),
        "withdraw_form": (S.WITHDRAWN in nxt, WithdrawForm, {}),
    }
    for name, (shown, form_class, kwargs) in offered.items():
        if shown:  # the refused form with its errors, or a new one
            ctx[name] = forms.get(name) or form_class(**kwargs)
    ctx["can_record_consent"] = S.CONSENTED in nxt
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


def _form_step(form_class, service, form_name: str, done: str):
    """A step whose form's fields are its service's keyword arguments (enrol, complete, withdraw)."""

    @phi_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        participation = _to_change(request, pk)

        def act(form):
            service(participation=participation, by=request.user, **form.cleaned_data)

        return _step(request, participation, act, form_name, form_class(request.POST), done)

    view.__name__ = service.__name__
    return view


enrol = _form_step(EnrolForm, services.enrol, "enrol_form", "Enrolled.")
complete = _form_step(CompleteForm, services.complete, "complete_form", "Participation completed.")
withdraw = _form_step(WithdrawForm, services.withdraw, "withdraw_form", "Participant withdrawn.")


# --- the protocol (medical-affairs side) ---------------------------------------------------------


def _trial_for(request: HttpRequest, pk: int) -> ClinicalTrial:
    return get_object_or_404(ClinicalTrial.objects.visible_to(request.user), pk=pk)


def _protocol_form(request: HttpRequest, trial: ClinicalTrial, form, save, *, template: str, title: str, done):
    """A protocol form's page: `save(cleaned_data)` on a valid POST (its refusal re-renders the
    form with the reason, 422), then back to the trial with `done(result)` as the message."""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = save(form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, done(result))
                return redirect("physicians:trial_detail", pk=trial.pk)
        status = 422
    ctx = {"title": f"{title} · {trial.protocol_number}", "trial": trial, "form": form}
    return render(request, template, ctx, status=status)


@medical_affairs_required
@require_http_methods(["GET", "POST"])
def criteria(request: HttpRequest, pk: int) -> HttpResponse:
    trial = _trial_for(request, pk)
    current = list(trial.criteria.order_by("kind", "position"))
    initial = {kind: "\n".join(c.text for c in current if c.kind == kind) for kind in ("inclusion", "exclusion")}
    return _protocol_form(
        request,
        trial,
        CriteriaForm(request.POST or None, initial=initial),
        lambda data: services.set_criteria(
            trial=trial,
            by=request.user,
            inclusion=data["inclusion"].splitlines(),
            exclusion=data["exclusion"].splitlines(),
        ),
        template="research/criteria.html",
        title="Eligibility criteria",
        done=lambda _criteria: "Eligibility criteria saved.",
    )


@medical_affairs_required
@require_http_methods(["GET", "POST"])
def irb_approval(request: HttpRequest, pk: int) -> HttpResponse:
    trial = _trial_for(request, pk)
    return _protocol_form(
        request,
        trial,
        IrbApprovalForm(request.POST or None),
        lambda data: services.approve_consent_version(trial=trial, by=request.user, **data),
        template="research/irb_approval.html",
        title="IRB approval",
        done=lambda approval: f"Research consent {approval} recorded: new consents are signed on it.",
    )
