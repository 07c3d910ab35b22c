"""This app's resources on the REST API (liaison_crm/api): serializers validate the shape, the
queryset starts from visible_to, and every write calls the same service as the page.

Patients and cases are PHI: the whole resource is a 403 for a role that does not see it
(`role_sees`), and every response that shows patient data writes the request's one ACCESS entry
(patients/audit.py, kind "api"), as a page does; a refused request (403, 404, 400, 409) shows
nothing and writes nothing. Every write on a case answers with the case as `GET /cases/<id>/`
shows it, with that answer's one ACCESS entry."""

from __future__ import annotations

from django.core.validators import EmailValidator
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.lookups import people_in_scope
from accounts.models import User
from documents import selectors as documents_selectors
from documents import services as documents_services
from documents.choices import DocumentKind
from documents.models import Document
from liaison_crm.api.exceptions import service_errors
from liaison_crm.api.filters import FilterBackend
from liaison_crm.api.forms import cleaned
from liaison_crm.api.viewsets import ID_MAX, ViewSet
from outreach.api import FollowUpSerializer
from outreach.models import FollowUp
from physicians.models import Institution, Physician

from . import audit, selectors, services
from .choices import (
    AccessKind,
    AuthorizationStatus,
    CommChannel,
    CommParties,
    ConsentKind,
    ConsentStatus,
    DeclineReason,
    DischargeDisposition,
    Eligibility,
    Priority,
    Sex,
    SignedBy,
    Stage,
)
from .filters import CaseFilter
from .forms import FollowUpForm, ReferralForm
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

TEXT = 10_000  # characters of a free-text field (a note, a summary): a paragraph, not a file
ID = {"min_value": 1, "max_value": ID_MAX}
VERSION = {"min_value": 1, "max_value": 2**31 - 1}
ITEM = OpenApiParameter("item_pk", int, OpenApiParameter.PATH, description="The id of the case's record.")

# --- representations --------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    """A user named on a record: their id and name (the rest of the user is not read)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class PatientRecordSerializer(serializers.ModelSerializer):
    # Blank when unknown: no "email" format in the schema for an empty string.
    email = serializers.CharField(read_only=True, help_text="An email address, or empty.")

    class Meta:
        model = Patient
        fields = [
            "id", "mrn", "first_name", "last_name", "date_of_birth", "sex", "phone", "email", "address",
            "preferred_language", "interpreter_needed", "emergency_contact_name", "emergency_contact_relationship",
            "emergency_contact_phone", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class PatientSerializer(PatientRecordSerializer):
    cases = serializers.SerializerMethodField(help_text="The ids of the patient's cases you see, newest first.")

    class Meta(PatientRecordSerializer.Meta):
        fields = [*PatientRecordSerializer.Meta.fields, "cases"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_cases(self, patient: Patient) -> list[int]:
        return [case.pk for case in patient.visible_cases]


class PatientNameSerializer(serializers.ModelSerializer):
    """What a worklist row shows of the patient (the rest of the record is not read)."""

    class Meta:
        model = Patient
        fields = ["id", "mrn", "first_name", "last_name"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    """A row of the cases list: what the worklist shows."""

    patient = PatientNameSerializer(read_only=True)
    assigned_liaison = PersonSerializer(read_only=True, allow_null=True)
    referral_source = serializers.CharField(source="referral_source_display", read_only=True)
    length_of_stay_days = serializers.IntegerField(read_only=True, allow_null=True)
    next_step = serializers.CharField(read_only=True, help_text="The next missing step, in words.")
    is_overdue = serializers.BooleanField(read_only=True, help_text="Longer in its stage than its service level.")

    class Meta:
        model = Case
        fields = [
            "id", "patient", "program", "stage", "priority", "assigned_liaison", "team", "referral_source",
            "referral_received_at", "expected_admission_date", "stage_changed_at", "admitted_at", "discharged_at",
            "length_of_stay_days", "last_communication_at", "next_step", "is_overdue", "version",
        ]  # fmt: skip
        read_only_fields = fields


class EvaluationSerializer(serializers.ModelSerializer):
    records_reviewed_by = PersonSerializer(read_only=True, allow_null=True)
    medications_reviewed_by = PersonSerializer(read_only=True, allow_null=True)
    treatment_plan_reviewed_by = PersonSerializer(read_only=True, allow_null=True)
    insurance_verified_by = PersonSerializer(read_only=True, allow_null=True)
    decided_by = PersonSerializer(read_only=True, allow_null=True)
    missing_steps = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "records_reviewed_by", "records_reviewed_at", "records_review_note", "medications_reviewed_by",
            "medications_reviewed_at", "no_current_medications", "treatment_plan_reviewed_by",
            "treatment_plan_reviewed_at", "insurance_verified_by", "insurance_verified_at", "clinical_notes",
            "eligibility", "decided_by", "decided_at", "missing_steps",
        ]  # fmt: skip
        read_only_fields = fields


class TreatmentPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = TreatmentPlan
        fields = ["goals", "planned_services", "expected_length_of_stay_days", "created_at", "updated_at"]
        read_only_fields = fields


class MedicationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Medication
        fields = ["id", "name", "dose", "route", "frequency", "reconciled"]
        read_only_fields = fields


class CoverageSerializer(serializers.ModelSerializer):
    verified_by = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = InsuranceCoverage
        fields = [
            "id", "payer", "plan", "member_id", "is_primary", "verified_by", "verified_at", "authorization_status",
            "authorization_number", "authorization_valid_from", "authorization_valid_to",
        ]  # fmt: skip
        read_only_fields = fields


class ConsentSerializer(serializers.ModelSerializer):
    form = NamedSerializer(read_only=True)
    explained_by = PersonSerializer(read_only=True, allow_null=True)
    signed_by = serializers.ChoiceField(choices=SignedBy.choices, allow_blank=True, read_only=True)
    needs_reconsent = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consent
        fields = [
            "id", "procedure", "form", "form_version", "required", "explained_by", "explained_at",
            "teach_back_confirmed", "signed_by", "representative_name", "representative_relationship",
            "witness_name", "interpreter_used", "status", "signed_at", "withdrawn_at", "superseded_at",
            "superseded_by", "needs_reconsent",
        ]  # fmt: skip
        read_only_fields = fields


class CommunicationSerializer(serializers.ModelSerializer):
    by = PersonSerializer(read_only=True)

    class Meta:
        model = Communication
        fields = ["id", "occurred_at", "channel", "parties", "summary", "by"]
        read_only_fields = fields


class TransitionSerializer(serializers.ModelSerializer):
    by = PersonSerializer(read_only=True)
    from_stage = serializers.ChoiceField(
        choices=Stage.choices, allow_blank=True, read_only=True, help_text="The stage it left; empty for the referral."
    )

    class Meta:
        model = CaseTransition
        fields = ["id", "from_stage", "to_stage", "by", "at", "note"]
        read_only_fields = fields


class CaseDetailSerializer(CaseSerializer):
    """The case page: the case, its patient and every record of its pre-admission work."""

    patient = PatientRecordSerializer(read_only=True)
    team = NamedSerializer(read_only=True)
    referral_physician = NamedSerializer(read_only=True, allow_null=True)
    referral_institution = NamedSerializer(read_only=True, allow_null=True)
    created_by = PersonSerializer(read_only=True, allow_null=True)
    # Blank until the case is declined or discharged (read-only model fields lose allow_blank).
    decline_reason = serializers.ChoiceField(choices=DeclineReason.choices, allow_blank=True, read_only=True)
    discharge_disposition = serializers.ChoiceField(
        choices=DischargeDisposition.choices, allow_blank=True, read_only=True
    )
    evaluation = serializers.SerializerMethodField()
    treatment_plan = serializers.SerializerMethodField()
    medications = MedicationSerializer(many=True, read_only=True)
    coverages = CoverageSerializer(many=True, read_only=True)
    consents = ConsentSerializer(many=True, read_only=True)
    communications = CommunicationSerializer(many=True, read_only=True)
    transitions = TransitionSerializer(many=True, read_only=True)
    can_change = serializers.SerializerMethodField()
    next_transitions = serializers.SerializerMethodField(help_text="The transitions you may try now.")

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields, "referral_physician", "referral_institution", "referral_source_other",
            "reason", "decline_reason", "evaluation_started_at", "evaluated_at", "accepted_at",
            "discharge_disposition", "discharge_summary", "created_by", "created_at", "updated_at", "evaluation",
            "treatment_plan", "medications", "coverages", "consents", "communications", "transitions",
            "can_change", "next_transitions",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(EvaluationSerializer(allow_null=True))
    def get_evaluation(self, case: Case) -> dict | None:
        evaluation = getattr(case, "evaluation", None)  # none before the evaluation starts
        return EvaluationSerializer(evaluation).data if evaluation is not None else None

    @extend_schema_field(TreatmentPlanSerializer(allow_null=True))
    def get_treatment_plan(self, case: Case) -> dict | None:
        plan = getattr(case, "treatment_plan", None)
        return TreatmentPlanSerializer(plan).data if plan is not None else None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_can_change(self, case: Case) -> bool:
        return services.can_change_case(self.context["request"].user, case)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(services.TRANSITIONS))))
    def get_next_transitions(self, case: Case) -> list[str]:
        return services.next_transitions(case) if self.get_can_change(case) else []


class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = PersonSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id", "kind", "title", "original_name", "content_type", "size", "sha256", "consent", "coverage",
            "uploaded_by", "uploaded_at", "entered_in_error_at", "entered_in_error_reason", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, document: Document) -> str:
        return self.context["request"].build_absolute_uri(reverse("documents:download", args=[document.pk]))


# --- what the writes take (the pages' forms, as serializers) -----------------------------------


class TransitionInput(serializers.Serializer):
    version = serializers.IntegerField(**VERSION, help_text="The case's version you read (a stale one is a 409).")
    note = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class DeclineInput(TransitionInput):
    # Named as the case shows them (the page's form says "reason", "disposition", "summary").
    decline_reason = serializers.ChoiceField(choices=DeclineReason.choices)


class DischargeInput(TransitionInput):
    discharge_disposition = serializers.ChoiceField(choices=DischargeDisposition.choices)
    discharge_summary = serializers.CharField(max_length=TEXT)
    discharged_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


# The case's fields that the services take under another name.
SERVICE_NAMES = {"decline_reason": "reason", "discharge_disposition": "disposition", "discharge_summary": "summary"}


class FollowUpInput(serializers.Serializer):
    """The case page's follow-up form (forms.FollowUpForm)."""

    title = serializers.CharField(max_length=200)
    due_at = serializers.DateTimeField()
    notes = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class CaseDetailsInput(serializers.Serializer):
    """The case page's details form (forms.CaseDetailsForm)."""

    program = serializers.CharField(max_length=120)
    priority = serializers.ChoiceField(choices=Priority.choices)
    reason = serializers.CharField(max_length=TEXT)
    expected_admission_date = serializers.DateField(required=False, allow_null=True, default=None)
    referral_physician = serializers.IntegerField(**ID, required=False, allow_null=True, default=None)
    referral_institution = serializers.IntegerField(**ID, required=False, allow_null=True, default=None)
    referral_source_other = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(**VERSION)


class PatientDetailsInput(serializers.Serializer):
    """The patient's details as the case page edits them (forms.PatientForm: not the MRN)."""

    first_name = serializers.CharField(max_length=80)
    last_name = serializers.CharField(max_length=80)
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    # Checked as an email address (validate_email), but a plain string in the schema: its default
    # "" is no `format: email`.
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")
    preferred_language = serializers.CharField(max_length=60, required=False, default="English")
    interpreter_needed = serializers.BooleanField(required=False, default=False)
    emergency_contact_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    emergency_contact_relationship = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    emergency_contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

    def validate_email(self, value: str) -> str:
        if value:
            EmailValidator()(value)
        return value


class PatientInput(PatientDetailsInput):
    version = serializers.IntegerField(**VERSION, help_text="The case's version: demographics are a case write.")


class ReferralInput(PatientDetailsInput):
    """A new referral (forms.ReferralForm): the patient's details, or `patient` (one on file of
    your teams), and the case's. A likely duplicate is refused with `duplicates`: then name the
    patient, set `use_mrn_patient` (the MRN's record of another team) or `confirm_new`."""

    mrn = serializers.CharField(max_length=32)
    program = serializers.CharField(max_length=120)
    assigned_liaison = serializers.IntegerField(**ID, help_text="A clinical liaison of one of your teams.")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.STANDARD)
    reason = serializers.CharField(max_length=TEXT)
    referral_physician = serializers.IntegerField(**ID, required=False, allow_null=True, default=None)
    referral_institution = serializers.IntegerField(**ID, required=False, allow_null=True, default=None)
    referral_source_other = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    referral_received_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    expected_admission_date = serializers.DateField(required=False, allow_null=True, default=None)
    patient = serializers.IntegerField(**ID, required=False, allow_null=True, default=None)
    use_mrn_patient = serializers.BooleanField(required=False, default=False)
    confirm_new = serializers.BooleanField(required=False, default=False)


class DuplicatesSerializer(serializers.Serializer):
    patients = serializers.ListField(
        child=serializers.IntegerField(), help_text="Patients of your teams this referral may duplicate."
    )
    elsewhere = serializers.BooleanField(help_text="A likely duplicate, or the MRN, is on file in another team.")


class ReferralRefusedSerializer(serializers.Serializer):
    """A 400: the field errors, and for a likely duplicate what is on file."""

    duplicates = DuplicatesSerializer(required=False)


class AssignInput(serializers.Serializer):
    assigned_liaison = serializers.IntegerField(**ID, help_text="A clinical liaison of one of your teams.")
    version = serializers.IntegerField(**VERSION)


class ChecklistInput(serializers.Serializer):
    item = serializers.ChoiceField(choices=Evaluation.CHECKLIST)
    done = serializers.BooleanField()
    # What a tick records with it (services.EVIDENCE_FIELDS), for the items that take it.
    records_review_note = serializers.CharField(max_length=TEXT, required=False, allow_blank=True)
    no_current_medications = serializers.BooleanField(required=False)


class EligibilityInput(serializers.Serializer):
    eligibility = serializers.ChoiceField(choices=Eligibility.choices)
    clinical_notes = serializers.CharField(max_length=TEXT, required=False, allow_blank=True, default="")


class TreatmentPlanInput(serializers.Serializer):
    goals = serializers.CharField(max_length=TEXT)
    planned_services = serializers.CharField(max_length=TEXT)
    expected_length_of_stay_days = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class MedicationInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    dose = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    route = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    frequency = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    reconciled = serializers.BooleanField(required=False, default=False)


class CoverageInput(serializers.Serializer):
    payer = serializers.CharField(max_length=120)
    plan = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    member_id = serializers.CharField(max_length=60)
    is_primary = serializers.BooleanField(required=False, default=True)
    verified = serializers.BooleanField(required=False, default=False)
    authorization_status = serializers.ChoiceField(choices=AuthorizationStatus.choices)
    authorization_number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    authorization_valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    authorization_valid_to = serializers.DateField(required=False, allow_null=True, default=None)


class ConsentAddInput(serializers.Serializer):
    # Research consents are added from the case's trial participation (research app).
    form = serializers.PrimaryKeyRelatedField(queryset=ConsentForm.objects.filter(kind=ConsentKind.CARE))
    procedure = serializers.CharField(max_length=200)
    required = serializers.BooleanField(required=False, default=True)


class SignatureInput(serializers.Serializer):
    explained = serializers.BooleanField(required=False, default=False)
    teach_back_confirmed = serializers.BooleanField(required=False, default=False)
    interpreter_used = serializers.BooleanField(required=False, default=False)
    signed_by = serializers.ChoiceField(choices=SignedBy.choices, required=False, allow_blank=True, default="")
    representative_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    representative_relationship = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    witness_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    signed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ConsentUpdateInput(SignatureInput):
    # Every status, as the case shows them (one enum): the service refuses "superseded", which only
    # a re-consent makes.
    status = serializers.ChoiceField(choices=ConsentStatus.choices)


class CommunicationInput(serializers.Serializer):
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="Default: now.")
    channel = serializers.ChoiceField(choices=CommChannel.choices, required=False, default=CommChannel.PHONE)
    parties = serializers.ChoiceField(choices=CommParties.choices)
    summary = serializers.CharField(max_length=TEXT)


class UploadInput(serializers.Serializer):
    # Every kind (one enum with the documents'): the service says which a case, a consent or a
    # coverage takes.
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), max_length=documents_services.MAX_FILES
    )
    consent = serializers.IntegerField(**ID, required=False, allow_null=True, default=None)
    coverage = serializers.IntegerField(**ID, required=False, allow_null=True, default=None)


# --- patients ---------------------------------------------------------------------------------


class PatientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """Patients of a case you see. Read-only here: their details change from a case they are on
    (`PUT /cases/<id>/patient/`), as on the case page."""

    model = Patient
    role_sees = "sees_phi"
    serializer_class = PatientSerializer
    ordering = ("-id",)

    def scoped(self, qs: QuerySet) -> QuerySet:
        cases = Case.objects.visible_to(self.request.user).only("id", "patient_id", "team_id")
        cases = cases.order_by("-referral_received_at", "-id")
        return qs.prefetch_related(Prefetch("cases", queryset=cases, to_attr="visible_cases"))

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        shown = [row for patient in page for row in _patient_shown(patient)]
        audit.record_access(request, AccessKind.API, shown, model=Patient, label=f"API: {len(page)} patients")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        patient = self.get_object()
        audit.record_access(request, AccessKind.API, _patient_shown(patient), instance=patient)
        return Response(self.get_serializer(patient).data)


def _patient_shown(patient: Patient) -> list[audit.Shown]:
    return [(patient.pk, c.pk, c.team_id) for c in patient.visible_cases] or [(patient.pk, None, None)]


# --- cases ------------------------------------------------------------------------------------


class CaseFilterBackend(FilterBackend):
    """The worklist's FilterSet, which takes the user for its defaults and its pickers."""

    def get_filterset_kwargs(self, request, queryset, view) -> dict:
        return {**super().get_filterset_kwargs(request, queryset, view), "user": request.user}


def _write(request_serializer, summary: str, parameters=None):
    return extend_schema(
        summary=summary, request=request_serializer, responses={200: CaseDetailSerializer}, parameters=parameters
    )


@extend_schema_view(
    list=extend_schema(
        summary="The case worklist",
        description="The worklist's filters and search (`?q=` a name or MRN); as on the worklist, open cases "
        "(`stage=all` for every stage) and, for a clinical liaison, their own (`scope=team` for the team's).",
    ),
    retrieve=extend_schema(summary="A case, as its page shows it", responses=CaseDetailSerializer),
    update=_write(CaseDetailsInput, "Change the case's details (program, priority, reason, referral source)"),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """Cases of your teams (PHI). Writes are actions: each calls the service the case page calls;
    the ones whose page form carries the case's `version` take it (stale: 409)."""

    model = Case
    role_sees = "sees_phi"
    serializer_class = CaseSerializer
    ordering = ("-referral_received_at", "-id")  # newest referral first (the cursor's column)
    filter_backends = [CaseFilterBackend]
    filterset_class = CaseFilter

    def scoped(self, qs: QuerySet) -> QuerySet:
        if self.action == "list":
            return selectors.worklist_queryset(qs)
        if self.action == "retrieve":
            return selectors.case_detail_queryset(qs)
        return qs.select_related("patient")  # a write reads the case again for its answer

    def filter_queryset(self, qs: QuerySet) -> QuerySet:
        # The worklist's filters (and its defaults: open cases, a liaison's own) are the list's only.
        return super().filter_queryset(qs) if self.action == "list" else qs

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        now = timezone.now()
        for case in page:
            selectors.decorate(case, now)
        audit.record_access(
            request, AccessKind.API, audit.cases_shown(page), model=Case, label=f"API: {len(page)} cases"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return self._case_response(self.get_object())

    @extend_schema(
        summary="A new referral (a case, with its patient new or on file)",
        request=ReferralInput,
        responses={201: CaseDetailSerializer, 400: ReferralRefusedSerializer},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        user = request.user
        data = dict(self._input(ReferralInput))
        data["use_patient"] = data.pop("patient")
        data.setdefault("referral_received_at", timezone.now())
        # The page's form: its pickers (the liaisons and referral sources this user may choose).
        form = ReferralForm(data=data, user=user)
        cleaned(form)
        existing = services.referral_patient(by=user, **form.patient_choice())
        try:
            case = services.create_referral(by=user, **form.referral(existing))
        except services.DuplicatePatientError as exc:
            dupes = exc.duplicates
            named = [p for p in (dupes.mrn_patient, *dupes.candidates) if p is not None]
            if named:  # what the refusal names of patients on file is a PHI read, as on the page
                audit.record_access(request, AccessKind.API, audit.patients_shown(named), model=Patient,
                                    label=f"API: {len(named)} patients on file")  # fmt: skip
            body = {
                **service_errors(exc),
                "duplicates": {"patients": [p.pk for p in named], "elsewhere": dupes.mrn_exists_elsewhere or dupes.elsewhere},
            }  # fmt: skip
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        response = self._case_response(case)
        response.status_code = status.HTTP_201_CREATED
        return response

    # --- helpers ---

    def _case_response(self, case: Case) -> Response:
        """The case as `retrieve` shows it (read again after a write), its one ACCESS entry written."""
        if self.action != "retrieve":
            case = selectors.case_detail_queryset(Case.objects.filter(pk=case.pk)).get()
        selectors.decorate(case)
        audit.record_access(self.request, AccessKind.API, audit.cases_shown([case]), instance=case)
        return Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data)

    def _to_change(self) -> Case:
        """Visible (else 404) and changeable by this user (else 403), checked before any input."""
        case = self.get_object()
        services.require_change(self.request.user, case)
        return case

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _transition(self, name: str, serializer_class=TransitionInput) -> Response:
        case = self._to_change()
        data = {SERVICE_NAMES.get(k, k): v for k, v in self._input(serializer_class).items()}
        services.TRANSITIONS[name](case=case, by=self.request.user, **data)
        return self._case_response(case)

    # --- the case and its patient ---

    def update(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        data = dict(self._input(CaseDetailsInput))
        # The referral sources the page's pickers offer: those this user sees.
        for name, model in (("referral_physician", Physician), ("referral_institution", Institution)):
            if data[name] is not None:
                data[name] = model.objects.visible_to(request.user).filter(pk=data[name]).first()
                if data[name] is None:
                    raise serializers.ValidationError({name: ["Choose one from the list."]})
        services.update_case(case=case, by=request.user, **data)
        return self._case_response(case)

    @_write(PatientInput, "Change the patient's details (demographics, contacts)")
    @action(detail=True, methods=["put"])
    def patient(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        services.update_patient(patient=case.patient, case=case, by=request.user, **self._input(PatientInput))
        return self._case_response(case)

    # --- transitions ---

    @_write(TransitionInput, "Start the evaluation")
    @action(detail=True, methods=["post"], url_path="start-evaluation")
    def start_evaluation(self, request: Request, pk: str) -> Response:
        return self._transition("start_evaluation")

    @_write(TransitionInput, "Accept the case (its evaluation complete)")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        return self._transition("accept")

    @_write(TransitionInput, "Admit the patient (consents signed, authorization valid)")
    @action(detail=True, methods=["post"])
    def admit(self, request: Request, pk: str) -> Response:
        return self._transition("admit")

    @_write(DischargeInput, "Discharge the patient")
    @action(detail=True, methods=["post"])
    def discharge(self, request: Request, pk: str) -> Response:
        return self._transition("discharge", DischargeInput)

    @_write(DeclineInput, "Decline the case (before admission)")
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        return self._transition("decline", DeclineInput)

    @_write(TransitionInput, "Cancel the case (before admission)")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._transition("cancel")

    @_write(AssignInput, "Assign the case to a liaison (managers)")
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        data = self._input(AssignInput)
        # The liaisons the page's picker offers: those of the manager's teams.
        liaison = people_in_scope(request.user, User.Role.CLINICAL_LIAISON).filter(pk=data["assigned_liaison"]).first()
        if liaison is None:
            raise serializers.ValidationError({"assigned_liaison": ["Choose a clinical liaison of one of your teams."]})
        services.assign_case(case=case, liaison=liaison, by=request.user, version=data["version"])
        return self._case_response(case)

    # --- evaluation ---

    @_write(ChecklistInput, "Tick or untick a review of the evaluation checklist")
    @action(detail=True, methods=["post"])
    def checklist(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        data = self._input(ChecklistInput)
        item = data["item"]
        # As the page's tick form: the item's evidence fields with a tick, nothing with an untick.
        fields = services.EVIDENCE_FIELDS.get(item, ()) if data["done"] else ()
        defaults = {"records_review_note": "", "no_current_medications": False}
        evidence = {name: data.get(name, defaults[name]) for name in fields}
        services.set_checklist_item(case=case, by=request.user, item=item, done=data["done"], **evidence)
        return self._case_response(case)

    @_write(EligibilityInput, "Decide the patient's eligibility")
    @action(detail=True, methods=["post"])
    def eligibility(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        services.decide_eligibility(case=case, by=request.user, **self._input(EligibilityInput))
        return self._case_response(case)

    @_write(TreatmentPlanInput, "Record or update the treatment plan")
    @action(detail=True, methods=["post"], url_path="treatment-plan")
    def treatment_plan(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        services.save_treatment_plan(case=case, by=request.user, **self._input(TreatmentPlanInput))
        return self._case_response(case)

    # --- the case's lists ---

    def _item(self, case: Case, qs: QuerySet, item_pk: str):
        item = get_object_or_404(qs.filter(case=case), pk=int(item_pk))
        item.case = case  # the services and the audit entries read it: no second query
        return item

    @_write(MedicationInput, "Add a medication")
    @action(detail=True, methods=["post"])
    def medications(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        services.save_medication(case=case, by=request.user, **self._input(MedicationInput))
        return self._case_response(case)

    @_write(MedicationInput, "Change a medication", [ITEM])
    @action(detail=True, methods=["put"], url_path=r"medications/(?P<item_pk>[0-9]{1,18})")
    def medication(self, request: Request, pk: str, item_pk: str) -> Response:
        case = self._to_change()
        medication = self._item(case, Medication.objects.all(), item_pk)
        services.save_medication(case=case, by=request.user, medication=medication, **self._input(MedicationInput))
        return self._case_response(case)

    @_write(CoverageInput, "Add an insurance coverage")
    @action(detail=True, methods=["post"])
    def coverages(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        services.save_coverage(case=case, by=request.user, **self._input(CoverageInput))
        return self._case_response(case)

    @_write(CoverageInput, "Change an insurance coverage", [ITEM])
    @action(detail=True, methods=["put"], url_path=r"coverages/(?P<item_pk>[0-9]{1,18})")
    def coverage(self, request: Request, pk: str, item_pk: str) -> Response:
        case = self._to_change()
        coverage = self._item(case, InsuranceCoverage.objects.all(), item_pk)
        services.save_coverage(case=case, by=request.user, coverage=coverage, **self._input(CoverageInput))
        return self._case_response(case)

    @_write(ConsentAddInput, "Add a consent to be explained and signed")
    @action(detail=True, methods=["post"])
    def consents(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        services.add_consent(case=case, by=request.user, **self._input(ConsentAddInput))
        return self._case_response(case)

    @_write(ConsentUpdateInput, "Record a consent's explanation, signature, refusal or withdrawal", [ITEM])
    @action(detail=True, methods=["put"], url_path=r"consents/(?P<item_pk>[0-9]{1,18})")
    def consent(self, request: Request, pk: str, item_pk: str) -> Response:
        case = self._to_change()
        consent = self._item(case, Consent.objects.select_related("form"), item_pk)
        services.update_consent(consent=consent, case=case, by=request.user, **self._input(ConsentUpdateInput))
        return self._case_response(case)

    @_write(SignatureInput, "Re-consent: a new signature on the form's current version", [ITEM])
    @action(detail=True, methods=["post"], url_path=r"consents/(?P<item_pk>[0-9]{1,18})/reconsent")
    def reconsent(self, request: Request, pk: str, item_pk: str) -> Response:
        case = self._to_change()
        consent = self._item(case, Consent.objects.select_related("form"), item_pk)
        services.reconsent(consent=consent, case=case, by=request.user, **self._input(SignatureInput))
        return self._case_response(case)

    @_write(CommunicationInput, "Log a communication")
    @action(detail=True, methods=["post"])
    def communications(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        services.log_communication(case=case, by=request.user, **self._input(CommunicationInput))
        return self._case_response(case)

    @extend_schema(
        summary="Add a follow-up on the case (owned by its liaison)",
        request=FollowUpInput,
        responses={201: FollowUpSerializer},
    )
    @action(detail=True, methods=["post"], url_path="follow-ups")
    def follow_ups(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        fields = cleaned(FollowUpForm(data=self._input(FollowUpInput)))
        follow_up = services.add_case_follow_up(case=case, by=request.user, **fields)
        follow_up = FollowUp.objects.select_related("owner", "physician").get(pk=follow_up.pk)
        audit.record_access(request, AccessKind.API, audit.cases_shown([case]), instance=case)
        return Response(FollowUpSerializer(follow_up, context=self.get_serializer_context()).data, status=201)

    # --- documents ---

    @extend_schema(
        summary="The case's documents, newest first",
        parameters=[
            OpenApiParameter("show", str, enum=["all"], description="`all`: with those entered in error (managers).")
        ],
        responses=DocumentSerializer(many=True),
    )
    # One route, two methods: GET lists, POST (multipart, the page's upload form) files.
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None, parser_classes=[MultiPartParser])
    def documents(self, request: Request, pk: str) -> Response:
        case = self.get_object()
        user = request.user
        show_all = request.query_params.get("show") == "all" and (user.is_manager or user.is_admin_role)
        shown = documents_selectors.case_documents(case, user, show_all=show_all).shown
        return self._documents_response(case, shown)

    @extend_schema(
        summary="File documents on the case (multipart), optionally on one of its consents or coverages",
        request={"multipart/form-data": UploadInput},
        responses={201: DocumentSerializer(many=True)},
    )
    @documents.mapping.post
    def upload(self, request: Request, pk: str) -> Response:
        case = self._to_change()
        data = self._input(UploadInput)
        attached = {}
        for name, related in (("consent", case.consents), ("coverage", case.coverages)):
            if data[name] is not None:
                attached[name] = related.filter(pk=data[name]).first()
                if attached[name] is None:
                    raise serializers.ValidationError({name: [f"That {name} is not on this case."]})
        documents = documents_services.upload_documents(
            by=request.user, uploads=data["files"], kind=data["kind"], title=data["title"], case=case, **attached
        )
        return self._documents_response(case, documents, status.HTTP_201_CREATED)

    def _documents_response(self, case: Case, documents: list[Document], code: int = 200) -> Response:
        """The documents' titles name the patient's conditions: their list is a PHI access of the case."""
        audit.record_access(self.request, AccessKind.API, audit.cases_shown([case]), instance=case)
        context = self.get_serializer_context()
        return Response(DocumentSerializer(documents, many=True, context=context).data, status=code)


def register(router) -> None:
    """Add this app's viewsets to the API's router."""
    router.register("patients", PatientViewSet, basename="patient")
    router.register("cases", CaseViewSet, basename="case")
