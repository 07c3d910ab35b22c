"""Admin for PHI: no deletion of patients or cases (cancel and decline are the exits); every page
that shows patient data writes one ACCESS entry (patients/audit.py), as the application's do.

What the services record as having happened is read-only here: a signed, withdrawn or superseded
consent, every case transition, and a case's stage and discharge. Those change only through the
services (patients/services.py), with their safeguards and their history.
"""

from django.contrib import admin

from . import audit
from .choices import RECORDED_CONSENT_STATUSES, AccessKind
from .models import (
    Case,
    CaseTransition,
    Communication,
    Consent,
    ConsentForm,
    Evaluation,
    InsuranceCoverage,
    Medication,
    Patient,
    TreatmentPlan,
)


class PhiAccessLogAdmin(admin.ModelAdmin):
    """Logs what a changelist, change (or view) page, history or delete confirmation showed: the
    changelist's page of rows in one entry, a record's page in one entry about it. A POST that
    saves and redirects shows nothing and logs nothing (the change is audited by django-auditlog)."""

    def audit_shown(self, objs: list) -> list[audit.Shown]:
        """(patient, case, team) of each object shown. A case's record by default: every
        changelist below select_related its case."""
        return audit.case_records_shown(objs)

    def _log(self, request, response, key: str):
        context = getattr(response, "context_data", None) or {}
        if key == "cl":
            cl = context.get("cl")
            if cl is not None:
                rows = list(cl.result_list)  # the page the template shows, read once (cached)
                label = f"Admin {self.model._meta.verbose_name_plural}: {len(rows)} rows"
                audit.record_access(request, AccessKind.ADMIN, self.audit_shown(rows), model=self.model, label=label)
        elif context.get(key) is not None:
            obj = context[key]
            audit.record_access(request, AccessKind.ADMIN, self.audit_shown([obj]), instance=obj)
        return response

    def changelist_view(self, request, extra_context=None):
        return self._log(request, super().changelist_view(request, extra_context), "cl")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return self._log(request, super().change_view(request, object_id, form_url, extra_context), "original")

    def history_view(self, request, object_id, extra_context=None):
        return self._log(request, super().history_view(request, object_id, extra_context), "object")

    def delete_view(self, request, object_id, extra_context=None):
        return self._log(request, super().delete_view(request, object_id, extra_context), "object")


class NoDeleteAdmin(PhiAccessLogAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _all_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields]


@admin.register(Patient)
class PatientAdmin(NoDeleteAdmin):
    list_display = [
        "mrn",
        "last_name",
        "first_name",
        "date_of_birth",
        "sex",
        "preferred_language",
        "interpreter_needed",
    ]
    list_filter = ["sex", "interpreter_needed", "preferred_language"]
    search_fields = ["mrn", "last_name", "first_name"]
    list_select_related = []
    show_full_result_count = False

    def audit_shown(self, objs):
        return audit.patients_shown(objs)


@admin.register(Case)
class CaseAdmin(NoDeleteAdmin):
    list_display = ["id", "patient", "program", "stage", "priority", "assigned_liaison", "team", "referral_received_at"]
    list_filter = ["stage", "priority", "team", "discharge_disposition", "decline_reason"]
    search_fields = ["patient__mrn", "patient__last_name", "program"]
    list_select_related = ["patient", "assigned_liaison", "team"]
    raw_id_fields = ["patient", "assigned_liaison", "referral_physician", "referral_institution", "created_by"]
    show_full_result_count = False

    def audit_shown(self, objs):
        return audit.cases_shown(objs)

    # The stage moves only by a transition (services.TRANSITIONS, which writes the history), and
    # a discharge is recorded only by services.discharge: never edited here, discharged or not.
    LIFECYCLE_FIELDS = ["stage", "stage_changed_at", "discharged_at", "discharge_disposition", "discharge_summary"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.LIFECYCLE_FIELDS]


@admin.register(CaseTransition)
class CaseTransitionAdmin(NoDeleteAdmin):
    """The case history is a record of what happened: read-only here too."""

    list_display = ["case", "from_stage", "to_stage", "by", "at"]
    list_filter = ["to_stage", "from_stage"]
    search_fields = ["case__patient__mrn", "note"]
    list_select_related = ["case", "by"]
    raw_id_fields = ["case", "by"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return _all_fields(CaseTransition)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Evaluation)
class EvaluationAdmin(NoDeleteAdmin):
    list_display = ["case", "eligibility", "records_reviewed_at", "insurance_verified_at", "decided_at"]
    list_filter = ["eligibility"]
    search_fields = ["case__patient__mrn"]
    list_select_related = ["case"]
    raw_id_fields = ["case"]


@admin.register(Medication)
class MedicationAdmin(PhiAccessLogAdmin):
    list_display = ["name", "dose", "route", "frequency", "reconciled", "case"]
    list_filter = ["reconciled", "route"]
    search_fields = ["name", "case__patient__mrn"]
    list_select_related = ["case"]
    raw_id_fields = ["case"]


@admin.register(InsuranceCoverage)
class InsuranceCoverageAdmin(PhiAccessLogAdmin):
    list_display = ["payer", "plan", "member_id", "authorization_status", "verified_at", "case"]
    list_filter = ["authorization_status", "is_primary"]
    search_fields = ["payer", "member_id", "case__patient__mrn"]
    list_select_related = ["case"]
    raw_id_fields = ["case", "verified_by"]


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(admin.ModelAdmin):
    list_display = ["case", "expected_length_of_stay_days", "updated_by", "updated_at"]
    search_fields = ["case__patient__mrn"]
    list_select_related = ["case", "updated_by"]
    raw_id_fields = ["case", "updated_by"]


@admin.register(ConsentForm)
class ConsentFormAdmin(admin.ModelAdmin):
    list_display = ["name", "current_version", "required_for_admission"]
    list_filter = ["required_for_admission"]
    search_fields = ["name"]
    list_select_related = []


@admin.register(Consent)
class ConsentAdmin(NoDeleteAdmin):
    """Consents are recorded from the case page (services.add_consent, update_consent, reconsent),
    which check the safeguards of a signature. Here a pending or refused consent's procedure and
    "required" flag can be corrected; everything about its explanation and signature, and all of
    a signed, withdrawn or superseded consent, is read-only."""

    list_display = ["procedure", "form", "form_version", "status", "signed_at", "superseded_at", "case"]
    list_filter = ["status", "form", "required"]
    search_fields = ["procedure", "case__patient__mrn"]
    list_select_related = ["form", "case"]
    raw_id_fields = ["case", "explained_by", "superseded_by"]
    EDITABLE_BEFORE_SIGNING = ["procedure", "required"]

    @staticmethod
    def is_recorded(obj) -> bool:
        return obj is not None and obj.status in RECORDED_CONSENT_STATUSES

    def get_readonly_fields(self, request, obj=None):
        if self.is_recorded(obj):
            return _all_fields(Consent)
        return [name for name in _all_fields(Consent) if name not in self.EDITABLE_BEFORE_SIGNING]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        if self.is_recorded(obj):
            return False
        return super().has_change_permission(request, obj)


@admin.register(Communication)
class CommunicationAdmin(NoDeleteAdmin):
    list_display = ["occurred_at", "channel", "parties", "by", "case"]
    list_filter = ["channel", "parties"]
    search_fields = ["summary", "case__patient__mrn"]
    list_select_related = ["by", "case"]
    raw_id_fields = ["case", "by"]
