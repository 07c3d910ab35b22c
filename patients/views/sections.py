"""The case page's sections edited in place: the evaluation, and the lists (medications,
coverages, consents, communications, follow-ups) with their add forms and the edit form of a row,
and the treatment plan (one a case, its form the same way).

The lists differ only in their form, their service and their template, so one table (`SECTIONS`)
describes them and three views serve them all: `section_add`, `section_edit` and `case_form`
(the blank add form that a closed <details> loads when it is opened). Each URL keeps its own
name (patients:medication_add, patients:coverage_edit, ...), passing the section as `kind`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import phi_required

from .. import services
from ..choices import AccessKind
from ..forms import (
    CHECKLIST_FORMS,
    CommunicationForm,
    ConsentAddForm,
    ConsentUpdateForm,
    CoverageForm,
    EligibilityForm,
    FollowUpForm,
    MedicationForm,
    ReconsentForm,
    TreatmentPlanForm,
)
from ..models import Case, Consent, InsuranceCoverage, Medication, TreatmentPlan
from .cases import TRANSITION_FORMS
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

# --- evaluation -------------------------------------------------------------------------------


def _evaluation_response(request, case, status=200, eligibility_form=None, error=None, checklist_forms=None):
    case = case_for(request, case.pk, detail=True)
    log_access(request, case, AccessKind.FRAGMENT)
    evaluation = getattr(case, "evaluation", None)
    ctx = case_context(request, case, checklist_forms=checklist_forms, evaluation_error=error)
    if eligibility_form is not None:
        ctx["eligibility_form"] = eligibility_form
    response = render(request, "patients/partials/evaluation.html", ctx, status=status)
    return changed(response) if status == 200 and evaluation is not None else response


@phi_required
@require_POST
def checklist_item(request: HttpRequest, pk: int, item: str) -> HttpResponse:
    """Tick or untick a review. What the tick records with it comes from its form
    (CHECKLIST_FORMS); refused (its evidence is missing), the reason shows above the checklist
    with what was typed kept, and nothing is written."""
    case = case_to_change(request, pk)
    done = request.POST.get("done") == "1"
    form_class = CHECKLIST_FORMS.get(item)
    form = form_class(request.POST) if form_class is not None and done else None
    try:
        if form is not None and not form.is_valid():
            raise ValidationError(" ".join(e for errors in form.errors.values() for e in errors))
        evidence = form.cleaned_data if form is not None else {}
        services.set_checklist_item(case=case, by=request.user, item=item, done=done, **evidence)
    except ValidationError as exc:
        # Refused: the reason above the checklist, on the case page (a plain POST) or in the
        # evaluation section (htmx).
        kept = {item: form} if form is not None else None
        if not request.htmx:
            return case_page(request, case.pk, status=422, checklist_forms=kept, evaluation_error=error_text(exc))
        return _evaluation_response(request, case, status=422, error=error_text(exc), checklist_forms=kept)
    if not request.htmx:
        return redirect("patients:case_detail", pk=case.pk)
    return _evaluation_response(request, case)


@phi_required
@require_POST
def eligibility(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_to_change(request, pk)
    form = EligibilityForm(request.POST)
    if save_form(form, lambda data: services.decide_eligibility(case=case, by=request.user, **data)):
        return _evaluation_response(request, case, status=422, eligibility_form=form)
    if not request.htmx:
        return redirect("patients:case_detail", pk=case.pk)
    return _evaluation_response(request, case)


# --- the lists --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One list of the case page. `kind` names it in URLs (patients:<kind>_add, the add form's
    patients:case_form kind); `name` is its element id and partial (patients/partials/<name>.html).
    `form` (with `prefix`) adds a row through `add(case=, by=, **data)`; `submit` labels its
    button. A list whose rows are edited in place also has `items` (the case's rows),
    `edit_form(item, data)` (data None for the blank form) and `edit(item, case=, by=, **data)`,
    and its row form in patients/partials/<kind>_edit.html. A record of which a case has one
    (the treatment plan) has `instance(case)`: its form edits it, filled in, once it exists."""

    kind: str
    name: str
    form: type[forms.BaseForm]
    prefix: str
    submit: str
    add: Callable[..., object]
    items: Callable[[Case], QuerySet] | None = None
    edit_form: Callable[[Model, QueryDict | None], forms.BaseForm] | None = None
    edit: Callable[..., object] | None = None
    instance: Callable[[Case], Model | None] | None = None

    @property
    def template(self) -> str:
        return f"patients/partials/{self.name}.html"

    @property
    def add_url(self) -> str:
        return f"patients:{self.kind}_add"

    @property
    def edit_template(self) -> str:
        return f"patients/partials/{self.kind}_edit.html"

    def make_form(self, case: Case, data: QueryDict | None = None) -> forms.BaseForm:
        """The add form: blank (data None) or as posted."""
        if self.instance is None:
            return self.form(data, prefix=self.prefix)
        return self.form(data, instance=self.instance(case), prefix=self.prefix)


def _consent_form(consent: Consent, data: QueryDict | None) -> ConsentUpdateForm:
    prefix = f"consent{consent.pk}"
    return (
        ConsentUpdateForm(data, prefix=prefix)
        if data is not None
        else ConsentUpdateForm(consent=consent, prefix=prefix)
    )


SECTIONS: dict[str, Section] = {
    section.kind: section
    for section in (
        Section(
            "medication",
            "medications",
            MedicationForm,
            "med",
            "Add medication",
            add=services.save_medication,
            items=lambda case: Medication.objects.filter(case=case),
            edit_form=lambda item, data: MedicationForm(data, instance=item, prefix=f"med{item.pk}"),
            edit=lambda item, **kw: services.save_medication(medication=item, **kw),
        ),
        Section(
            "coverage",
            "coverages",
            CoverageForm,
            "cov",
            "Add coverage",
            add=services.save_coverage,
            items=lambda case: InsuranceCoverage.objects.filter(case=case),
            edit_form=lambda item, data: CoverageForm(data, instance=item, prefix=f"cov{item.pk}"),
            edit=lambda item, **kw: services.save_coverage(coverage=item, **kw),
        ),
        Section(
            "consent",
            "consents",
            ConsentAddForm,
            "con",
            "Add consent",
            add=services.add_consent,
            items=lambda case: Consent.objects.select_related("form").filter(case=case),
            edit_form=_consent_form,
            edit=lambda item, **kw: services.update_consent(consent=item, **kw),
        ),
        Section(
            "communication",
            "communications",
            CommunicationForm,
            "comm",
            "Log communication",
            services.log_communication,
        ),
        Section("follow_up", "follow_ups", FollowUpForm, "fu", "Add follow-up", services.add_case_follow_up),
        Section(
            "treatment_plan",
            "treatment_plan",
            TreatmentPlanForm,
            "plan",
            "Save treatment plan",
            services.save_treatment_plan,
            instance=lambda case: TreatmentPlan.objects.filter(case=case).first(),
        ),
    )
}


def _section(request, pk: int, section: Section, status: int = 200, **extra) -> HttpResponse:
    case = case_for(request, pk, detail=True)
    log_access(request, case, AccessKind.FRAGMENT)
    response = render(request, section.template, case_context(request, case, **extra), status=status)
    return changed(response) if status == 200 else response


@phi_required
@require_POST
def section_add(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """A new row of a list. Saved: the list re-rendered (htmx) or the case page (a plain POST).
    Refused: 422 with the form open and its errors, in the list (htmx) or on the case page."""
    section = SECTIONS[kind]
    case = case_to_change(request, pk)
    form = section.make_form(case, request.POST)
    status = save_form(form, lambda data: section.add(case=case, by=request.user, **data))
    if status is None:
        if not request.htmx:
            return redirect("patients:case_detail", pk=case.pk)
        return _section(request, case.pk, section)
    open_form = OpenForm(kind, form, section)
    if not request.htmx:
        return case_page(request, case.pk, status=status, open_form=open_form)
    return _section(request, case.pk, section, status=status, open_form=open_form)


@phi_required
@require_http_methods(["GET", "POST"])
def section_edit(request: HttpRequest, pk: int, item_pk: int, kind: str) -> HttpResponse:
    """In-place edit of one row: the form partial on GET; on POST the service saves it and the
    whole list is re-rendered in place of the row, or the form comes back with 422."""
    section = SECTIONS[kind]
    case = case_to_change(request, pk)
    item = get_object_or_404(section.items(case), pk=item_pk)
    status = 200
    if request.method == "GET":
        form = section.edit_form(item, None)
    else:
        form = section.edit_form(item, request.POST)
        status = save_form(form, lambda data: section.edit(item, case=case, by=request.user, **data))
        if status is None:
            if not request.htmx:
                return redirect("patients:case_detail", pk=case.pk)
            response = _section(request, case.pk, section)
            response["HX-Retarget"] = f"#{section.name}"
            response["HX-Reswap"] = "outerHTML"
            return response
    log_access(request, case, AccessKind.FRAGMENT, instance=item)
    return render(request, section.edit_template, {"case": case, "item": item, "form": form}, status=status)


@phi_required
@require_GET
def case_form(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """A blank add form of the case page (a list's, or the discharge or decline form): what its
    closed <details> loads when first opened, so the case page does not render them all. A blank
    form shows no PHI and is not audit-logged. Without JavaScript the <details> links here: the
    case page with this form open (logged like every case page)."""
    if kind not in SECTIONS and kind not in TRANSITION_FORMS:
        raise Http404("No such form.")
    case = case_to_change(request, pk)
    section = SECTIONS.get(kind)
    form = section.make_form(case) if section else TRANSITION_FORMS[kind](initial={"version": case.version})
    open_form = OpenForm(kind, form, section)
    if not request.htmx:
        return case_page(request, case.pk, open_form=open_form)
    return render(request, open_form.template, {"case": case, **open_form.context})


# --- re-consent -------------------------------------------------------------------------------


@phi_required
@require_http_methods(["GET", "POST"])
def consent_reconsent(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Renew a consent signed on an old form version, or withdrawn, in place of its row: the
    form on GET (or why it cannot be renewed); on POST services.reconsent records the new
    consent and the consents list is re-rendered, or the form comes back with 422."""
    section = SECTIONS["consent"]
    case = case_to_change(request, pk)
    consent = get_object_or_404(section.items(case), pk=item_pk)
    consent.case = case  # the access entry and the services read it: no second query
    prefix = f"reconsent{consent.pk}"
    status = 200
    if request.method == "GET":
        form = ReconsentForm(prefix=prefix)
    else:
        form = ReconsentForm(request.POST, prefix=prefix)
        status = save_form(form, lambda data: services.reconsent(consent=consent, case=case, by=request.user, **data))
        if status is None:
            if not request.htmx:
                return redirect("patients:case_detail", pk=case.pk)
            response = _section(request, case.pk, section)
            response["HX-Retarget"] = f"#{section.name}"
            response["HX-Reswap"] = "outerHTML"
            return response
    ctx = {"case": case, "item": consent, "form": form, "refusal": services.reconsent_refusal(consent, case)}
    log_access(request, case, AccessKind.FRAGMENT, instance=consent)
    return render(request, "patients/partials/consent_reconsent.html", ctx, status=status)
