"""Patient and case pages. Thin: scope through `visible_to`, call a service or selector, render.

MSLs never reach any of these (403, `phi_required`); a record outside the user's teams is a 404.
Every view of a patient or case page writes an ACCESS entry to the audit log.
"""

from __future__ import annotations

from auditlog.models import LogEntry
from auditlog.signals import accessed
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import manager_required, phi_required
from liaison_crm.pagination import paginate
from physicians.models import Institution, Physician

from . import selectors, services
from .choices import Stage
from .filters import CaseFilter
from .forms import (
    AssignForm,
    AuditFilterForm,
    CaseDetailsForm,
    CommunicationForm,
    ConsentAddForm,
    ConsentUpdateForm,
    CoverageForm,
    DeclineForm,
    DischargeForm,
    EligibilityForm,
    FollowUpForm,
    MedicationForm,
    PatientForm,
    ReferralForm,
    TransitionForm,
)
from .models import Case, Consent, InsuranceCoverage, Medication, Patient

# --- helpers ----------------------------------------------------------------------------------


def _case_for(request: HttpRequest, pk: int, detail: bool = False) -> Case:
    qs = Case.objects.visible_to(request.user)
    qs = selectors.case_detail_queryset(qs) if detail else qs.select_related("patient")
    return get_object_or_404(qs, pk=pk)


def _case_to_change(request: HttpRequest, pk: int) -> Case:
    """Visible (else 404) and changeable by this user (else 403), checked before any input."""
    case = _case_for(request, pk)
    if not services.can_change_case(request.user, case):
        raise PermissionDenied("Only the assigned liaison or a manager of the team may change this case.")
    return case


def _log_access(instance, team_id: int | None = None) -> None:
    """An ACCESS entry (actor from AuditlogMiddleware) each time PHI is shown."""
    if team_id is not None:
        instance.audit_team_id = team_id
    accessed.send(sender=instance.__class__, instance=instance)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _changed(response: HttpResponse) -> HttpResponse:
    """Tell the stage bar to refresh itself after an in-place edit."""
    response["HX-Trigger"] = "case-changed"
    return response


# --- worklist ---------------------------------------------------------------------------------


@phi_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    user = request.user
    base = Case.objects.visible_to(user)
    case_filter = CaseFilter(request.GET, queryset=base, user=user)
    qs = case_filter.qs if case_filter.is_valid() else base.none()
    qs = selectors.worklist_queryset(qs).order_by("stage_rank", "-priority", "stage_changed_at", "pk")
    # "-priority": "urgent" sorts after "standard" alphabetically, so descending puts it first.
    page = paginate(qs, request.GET.get("page"))
    now = timezone.now()
    groups: list[dict] = []
    for case in page.object_list:
        selectors.decorate(case, now)
        if not groups or groups[-1]["stage"] != case.stage:
            groups.append({"stage": case.stage, "label": case.get_stage_display(), "cases": []})
        groups[-1]["cases"].append(case)
    return render(
        request,
        "patients/worklist.html",
        {"title": "Case worklist", "filter": case_filter, "page_obj": page, "groups": groups},
    )


# --- new referral -----------------------------------------------------------------------------


@phi_required
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    existing = None
    if request.method == "GET":
        if request.GET.get("patient"):
            patient_id = request.GET["patient"].strip()
            if not patient_id.isdigit():  # ?patient=abc is a missing patient, not a 500
                raise Http404("No such patient.")
            existing = get_object_or_404(Patient.objects.visible_to(user), pk=int(patient_id))
            initial = {f: getattr(existing, f) for f in ReferralForm.PATIENT_FIELDS}
            initial["use_patient"] = existing.pk
            form = ReferralForm(user=user, initial=initial)
        else:
            form = ReferralForm(user=user)
        return render(
            request, "patients/referral_form.html", {"title": "New referral", "form": form, "existing": existing}
        )

    form = ReferralForm(request.POST, user=user)
    dupes: dict = {}
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        use_pk = data.get("use_patient")
        if use_pk:
            existing = Patient.objects.visible_to(user).filter(pk=use_pk).first()
            if existing is None:
                form.add_error(None, "That patient is not one of your team's patients.")
        if existing is None and not form.errors:
            dupes = services.find_duplicates(
                user=user,
                mrn=data["mrn"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
            )
            if dupes["mrn_patient"] is not None:
                form.add_error("mrn", "A patient with this MRN already exists: use that patient record below.")
            elif dupes["mrn_exists_elsewhere"]:
                if data.get("use_mrn_patient"):
                    existing = Patient.objects.get(mrn__iexact=data["mrn"].strip())
                else:
                    form.add_error("mrn", "A patient with this MRN already exists.")
            elif dupes["same_person"] and not data.get("confirm_new"):
                form.add_error(
                    None,
                    "A patient with the same name and date of birth already exists. Use that record, or confirm "
                    "this is a different person.",
                )
        if not form.errors:
            try:
                case = services.create_referral(
                    by=user,
                    case_fields=form.case_data(),
                    patient_fields=None if existing else form.patient_data(),
                    existing_patient=existing,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"Referral for {case.patient.full_name} created.")
                return redirect("patients:case_detail", pk=case.pk)
    return render(
        request,
        "patients/referral_form.html",
        {"title": "New referral", "form": form, "dupes": dupes, "existing": existing},
        status=status,
    )


@phi_required
@require_GET
def referral_sources(request: HttpRequest) -> HttpResponse:
    """The search helper of the referral form: 20 physicians or institutions by name or NPI."""
    kind = request.GET.get("kind", "physician")
    q = request.GET.get("q", "").strip()
    rows = []
    if len(q) >= 2:
        if kind == "institution":
            rows = list(Institution.objects.visible_to(request.user).filter(name__istartswith=q).order_by("name")[:20])
        else:
            qs = Physician.objects.visible_to(request.user).select_related("institution")
            qs = qs.filter(npi=q) if q.isdigit() else qs.filter(last_name__istartswith=q)
            rows = list(qs.order_by("last_name", "first_name")[:20])
    return render(request, "patients/partials/referral_sources.html", {"rows": rows, "kind": kind, "q": q})


# --- case page --------------------------------------------------------------------------------


def _case_context(request: HttpRequest, case: Case, **extra) -> dict:
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
        "checklist": _checklist(evaluation),
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
        "follow_ups": _follow_ups(request, case),
    }
    ctx.update(extra)
    return ctx


def _checklist(evaluation) -> list[dict]:
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


@phi_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk, detail=True)
    _log_access(case)
    return render(request, "patients/case_detail.html", _case_context(request, case))


@phi_required
@require_GET
def case_print(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk, detail=True)
    _log_access(case)
    ctx = _case_context(request, case, title=f"Hand-over summary · {case.patient.full_name}", printed_at=timezone.now())
    return render(request, "patients/case_print.html", ctx)


@phi_required
@require_GET
def stage_bar(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk, detail=True)
    return render(request, "patients/partials/stage_bar.html", _case_context(request, case))


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
    _log_access(patient, team_id=cases[0].team_id if cases else None)
    return render(
        request,
        "patients/patient_detail.html",
        {"title": patient.full_name, "patient": patient, "cases": cases},
    )


# --- transitions ------------------------------------------------------------------------------


@phi_required
@require_POST
def case_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = _case_for(request, pk, detail=True)
    service = services.TRANSITIONS.get(action)
    if service is None:
        return HttpResponse("Unknown transition.", status=404)
    form_class = {"decline": DeclineForm, "discharge": DischargeForm}.get(action, TransitionForm)
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
            messages.error(request, _error_text(exc))
            status = 409
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"Case is now {case.get_stage_display().lower()}.")
            return redirect("patients:case_detail", pk=case.pk)
    else:
        messages.error(request, "Cannot do that: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
    # Re-read: nothing was written, show the page as it stands.
    case = _case_for(request, pk, detail=True)
    _log_access(case)
    ctx = _case_context(request, case)
    if action == "decline":
        ctx["decline_form"] = form
    if action == "discharge":
        ctx["discharge_form"] = form
    return render(request, "patients/case_detail.html", ctx, status=status)


@phi_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_to_change(request, pk)
    template = "patients/partials/case_details_form.html"
    if request.method == "GET":
        return render(request, template, {"case": case, "form": CaseDetailsForm(instance=case)})
    form = CaseDetailsForm(request.POST, instance=Case.objects.get(pk=case.pk))
    status = 422
    if form.is_valid():
        fields = {k: form.cleaned_data[k] for k in CaseDetailsForm.Meta.fields}
        try:
            services.update_case(case=case, by=request.user, version=form.cleaned_data["version"], **fields)
        except services.StaleCaseError as exc:
            form.add_error(None, _error_text(exc))
            status = 409
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if request.htmx:
                return _changed(
                    render(request, "patients/partials/case_details.html", {"case": case, "can_change": True})
                )
            return redirect("patients:case_detail", pk=case.pk)
    return render(request, template, {"case": case, "form": form}, status=status)


@manager_required
@require_POST
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_for(request, pk)
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
            messages.error(request, _error_text(exc))
            return redirect("patients:case_detail", pk=case.pk)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"Case assigned to {case.assigned_liaison}.")
    else:
        messages.error(request, "Choose a liaison.")
    return redirect("patients:case_detail", pk=case.pk)


# --- evaluation -------------------------------------------------------------------------------


def _evaluation_response(request, case, status=200, eligibility_form=None, error=None):
    case = _case_for(request, case.pk, detail=True)
    evaluation = getattr(case, "evaluation", None)
    ctx = _case_context(request, case, evaluation_error=error)
    if eligibility_form is not None:
        ctx["eligibility_form"] = eligibility_form
    response = render(request, "patients/partials/evaluation.html", ctx, status=status)
    return _changed(response) if status == 200 and evaluation is not None else response


@phi_required
@require_POST
def checklist_item(request: HttpRequest, pk: int, item: str) -> HttpResponse:
    case = _case_to_change(request, pk)
    done = request.POST.get("done") == "1"
    try:
        services.set_checklist_item(case=case, by=request.user, item=item, done=done)
    except ValidationError as exc:
        return _evaluation_response(request, case, status=422, error=_error_text(exc))
    if not request.htmx:
        return redirect("patients:case_detail", pk=case.pk)
    return _evaluation_response(request, case)


@phi_required
@require_POST
def eligibility(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_to_change(request, pk)
    form = EligibilityForm(request.POST)
    if form.is_valid():
        try:
            services.decide_eligibility(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
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
    case = _case_for(request, case_pk, detail=True)
    ctx = _case_context(request, case)
    ctx.update(extra)
    response = render(request, SECTIONS[section], ctx, status=status)
    return _changed(response) if status == 200 else response


def _retarget(request, case, section: str) -> HttpResponse:
    """An item's edit form swaps itself; once saved, the whole section is re-rendered."""
    if not request.htmx:
        return redirect("patients:case_detail", pk=case.pk)
    response = _section(request, case.pk, section)
    response["HX-Retarget"] = f"#{section}"
    response["HX-Reswap"] = "outerHTML"
    return response


def _follow_ups(request, case):
    from outreach.models import FollowUp

    return list(FollowUp.objects.visible_to(request.user).filter(case=case).select_related("owner")[:20])


def _save_section(request, case, section, form, save, **extra_on_error):
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
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
            _apply_errors(form, exc)
        else:
            return _retarget(request, case, section)
    return render(request, template, {**context, "form": form}, status=422)


@phi_required
@require_POST
def medication_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_to_change(request, pk)
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
    case = _case_to_change(request, pk)
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
    case = _case_to_change(request, pk)
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
    case = _case_to_change(request, pk)
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
    case = _case_to_change(request, pk)
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
    case = _case_to_change(request, pk)
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
    case = _case_to_change(request, pk)
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
    case = _case_to_change(request, pk)
    form = FollowUpForm(request.POST, prefix="fu")
    return _save_section(
        request,
        case,
        "follow_ups",
        form,
        lambda d: services.add_case_follow_up(case=case, by=request.user, **d),
        follow_up_form=form,
    )


@phi_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Demographics, edited in place from the case page."""
    case = _case_to_change(request, pk)
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
            form.add_error(None, _error_text(exc))
            status = 409
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if request.htmx:
                return render(
                    request,
                    "patients/partials/patient_card.html",
                    {"case": case, "patient": patient, "can_change": True},
                )
            return redirect("patients:case_detail", pk=case.pk)
    return render(request, template, {"case": case, "form": form}, status=status)


# --- audit ------------------------------------------------------------------------------------


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
        )
    page = paginate(selectors.audit_entries(user, filters), request.GET.get("page"))
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
