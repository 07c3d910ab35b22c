"""The worklist and the new-referral form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import phi_required
from liaison_crm.pagination import paginate

from .. import audit, selectors, services
from ..choices import AccessKind
from ..filters import CaseFilter
from ..forms import ReferralForm
from ..models import Case, Patient
from .common import apply_errors


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
            # The form opens with the patient's demographics filled in: logged under the teams
            # through which this user sees the patient.
            teams = Case.objects.visible_to(user).filter(patient=existing).values_list("team_id", flat=True)
            shown = [(existing.pk, None, team_id) for team_id in sorted(set(teams))] or [(existing.pk, None, None)]
            audit.record_access(request, AccessKind.REFERRAL, shown, instance=existing)
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
                apply_errors(form, exc)
            else:
                messages.success(request, f"Referral for {case.patient.full_name} created.")
                return redirect("patients:case_detail", pk=case.pk)
    return render(
        request,
        "patients/referral_form.html",
        {"title": "New referral", "form": form, "dupes": dupes, "existing": existing},
        status=status,
    )
