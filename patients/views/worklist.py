"""The worklist and the new-referral form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import phi_required
from liaison_crm.csv_export import choice_label, csv_response, full_name
from liaison_crm.pagination import paginate

from .. import audit, selectors, services
from ..choices import AccessKind, DischargeDisposition, Priority, Stage
from ..filters import CaseFilter
from ..forms import ReferralForm
from ..models import Case, Patient
from .common import apply_errors, log_cases_access


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
    # One entry for the page: its filter and search (the query string), the cases it lists.
    n = len(page.object_list)
    audit.record_access(
        request, AccessKind.WORKLIST, audit.cases_shown(page.object_list), model=Case, label=f"Worklist: {n} cases"
    )
    return render(
        request,
        "patients/worklist.html",
        {"title": "Case worklist", "filter": case_filter, "page_obj": page, "groups": groups},
    )


@phi_required
@require_GET
def worklist_export(request: HttpRequest) -> StreamingHttpResponse:
    """The worklist as filtered (every page, in its order), streamed as CSV, with each case's
    length of stay. Every case in the file is a PHI access: each gets its ACCESS entry."""
    user = request.user
    base = Case.objects.visible_to(user)
    case_filter = CaseFilter(request.GET, queryset=base, user=user)
    qs = (case_filter.qs if case_filter.is_valid() else base.none()).with_length_of_stay()
    log_cases_access(request, qs)
    header = ["Case", "MRN", "Patient", "Program", "Stage", "Priority", "Liaison", "Team", "Referred",
              "Expected admission", "Admitted", "Discharged", "Length of stay (days, so far while admitted)",
              "Discharge disposition"]  # fmt: skip
    qs = qs.annotate(
        stage_rank=selectors.stage_rank(),
        patient_name=full_name("patient__first_name", "patient__last_name"),
        stage_label=choice_label("stage", Stage.choices),
        priority_label=choice_label("priority", Priority.choices),
        liaison_name=full_name("assigned_liaison__first_name", "assigned_liaison__last_name"),
        disposition_label=choice_label("discharge_disposition", DischargeDisposition.choices),
    ).order_by("stage_rank", "-priority", "stage_changed_at", "pk")
    columns = (
        "pk", "patient__mrn", "patient_name", "program", "stage_label", "priority_label", "liaison_name",
        "team__name", "referral_received_at", "expected_admission_date", "admitted_at", "discharged_at",
        "length_of_stay_days", "disposition_label",
    )  # fmt: skip
    rows = qs.values_list(*columns).iterator(chunk_size=2000)
    return csv_response(f"cases-{timezone.localdate():%Y-%m-%d}.csv", header, rows)


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
            # The form opens with the patient's demographics filled in.
            _log_patients_shown(request, [existing])
            initial = {f: getattr(existing, f) for f in ReferralForm.PATIENT_FIELDS}
            initial["use_patient"] = existing.pk
            form = ReferralForm(user=user, initial=initial)
        else:
            form = ReferralForm(user=user)
        return render(
            request, "patients/referral_form.html", {"title": "New referral", "form": form, "existing": existing}
        )

    form = ReferralForm(request.POST, user=user)
    dupes = None
    shown = None  # the existing patient the form names: only one the user may see
    if form.is_valid():
        data = form.cleaned_data
        try:
            existing = services.referral_patient(by=user, **form.patient_choice())
        except ValidationError as exc:
            apply_errors(form, exc)
        if data.get("use_patient"):
            shown = existing  # a patient of another team's record (use_mrn_patient) is never shown
        if not form.errors:
            try:
                case = services.create_referral(by=user, **form.referral(existing))
            except services.DuplicatePatientError as exc:
                dupes = exc.duplicates
                apply_errors(form, exc)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Referral for {case.patient.full_name} created.")
                return redirect("patients:case_detail", pk=case.pk)
    # The refused form may name patients on file: the one it links to, the likely duplicates.
    named = [shown] if shown is not None else []
    if dupes is not None:
        named += [p for p in (dupes.mrn_patient, *dupes.candidates) if p is not None]
    if named:
        _log_patients_shown(request, named)
    return render(
        request,
        "patients/referral_form.html",
        {"title": "New referral", "form": form, "dupes": dupes, "existing": shown},
        status=422,
    )


def _log_patients_shown(request: HttpRequest, patients: list[Patient]) -> None:
    """One ACCESS entry for the referral form's patients on file, each under the teams through
    which this user sees them (one query)."""
    ids = list(dict.fromkeys(p.pk for p in patients))
    pairs = set(Case.objects.visible_to(request.user).filter(patient_id__in=ids).values_list("patient_id", "team_id"))
    shown = [(pk, None, team_id) for pk in ids for team_id in sorted(t for p, t in pairs if p == pk) or [None]]
    if len(ids) == 1:
        audit.record_access(request, AccessKind.REFERRAL, shown, instance=patients[0])
    else:
        audit.record_access(request, AccessKind.REFERRAL, shown, model=Patient, label=f"{len(ids)} patients on file")
