from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.utils import timezone

from accounts.lookups import LIAISONS, people_in_scope
from accounts.models import User
from liaison_crm.widgets import LookupSelect
from physicians.lookups import INSTITUTIONS, PHYSICIANS
from physicians.models import Institution, Physician

from .choices import (
    AccessKind,
    AuthorizationStatus,
    ConsentKind,
    ConsentStatus,
    DeclineReason,
    DischargeDisposition,
    Eligibility,
    SignedBy,
)
from .lookups import AUDIT_PEOPLE, audit_people
from .models import Case, Communication, ConsentForm, InsuranceCoverage, Medication, Patient, TreatmentPlan

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


# The patient's own details: what a referral records of a new patient (with the MRN) and what
# the case page edits in place (the MRN is not edited there).
PATIENT_DETAILS = [
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address",
    "preferred_language",
    "interpreter_needed",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
]


class _Crispy:
    """A form that {% crispy form %} renders inside the template's own <form> element (which
    writes {% csrf_token %}): crispy writes the labels, the errors and the Bootstrap classes.

    `layout` arranges the fields where a form needs a grid; `autofocus` puts the cursor in the
    first field of a form that opens in place."""

    autofocus = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        layout = self.get_layout()
        if layout is not None:
            self.helper.layout = layout
        if self.autofocus:
            first = next(iter(self.fields.values()), None)
            if first is not None:
                first.widget.attrs["autofocus"] = True

    def get_layout(self) -> Layout | None:
        return None


def _referral_sources(form: forms.BaseForm, user: User) -> None:
    """The referring physician and institution: pickers over what the user may see (every
    physician and institution today: they are shared reference data)."""
    form.fields["referral_physician"].queryset = Physician.objects.visible_to(user).select_related("institution")
    form.fields["referral_institution"].queryset = Institution.objects.visible_to(user)


class ReferralForm(_Crispy, forms.Form):
    autofocus = True

    # patient
    mrn = forms.CharField(label="Medical record number", max_length=32)
    first_name = forms.CharField(max_length=80)
    last_name = forms.CharField(max_length=80)
    date_of_birth = forms.DateField(widget=DATE)
    sex = forms.ChoiceField(choices=Patient._meta.get_field("sex").choices)
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(required=False)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    preferred_language = forms.CharField(max_length=60, initial="English")
    interpreter_needed = forms.BooleanField(required=False)
    emergency_contact_name = forms.CharField(max_length=120, required=False)
    emergency_contact_relationship = forms.CharField(max_length=60, required=False)
    emergency_contact_phone = forms.CharField(max_length=40, required=False)
    # case
    program = forms.CharField(label="Program / unit", max_length=120)
    assigned_liaison = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Assigned liaison", widget=LookupSelect(LIAISONS)
    )
    priority = forms.ChoiceField(choices=Case._meta.get_field("priority").choices, initial="standard")
    reason = forms.CharField(label="Reason for referral / diagnosis", widget=forms.Textarea(attrs={"rows": 3}))
    referral_physician = forms.ModelChoiceField(
        queryset=Physician.objects.none(),
        required=False,
        widget=LookupSelect(PHYSICIANS, placeholder="Name or NPI…"),
        label="Referring physician",
    )
    referral_institution = forms.ModelChoiceField(
        queryset=Institution.objects.none(),
        required=False,
        widget=LookupSelect(INSTITUTIONS, placeholder="Name or city…"),
        label="Referring institution",
    )
    referral_source_other = forms.CharField(label="Other referral source", max_length=200, required=False)
    referral_received_at = forms.DateTimeField(widget=DATETIME, initial=timezone.now)
    expected_admission_date = forms.DateField(widget=DATE, required=False)
    # duplicate handling
    use_patient = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm_new = forms.BooleanField(required=False, label="This is a different person: create a new patient")
    use_mrn_patient = forms.BooleanField(
        required=False, label="Add this referral to the existing patient record with this MRN"
    )

    PATIENT_FIELDS = ["mrn", *PATIENT_DETAILS]
    CASE_FIELDS = [
        "program",
        "assigned_liaison",
        "priority",
        "reason",
        "referral_physician",
        "referral_institution",
        "referral_source_other",
        "referral_received_at",
        "expected_admission_date",
    ]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # The liaisons of the user's teams, as the picker offers them: a liaison's scope is their
        # own team, so a liaison assigns within it (services.create_referral checks it again).
        self.fields["assigned_liaison"].queryset = people_in_scope(user, User.Role.CLINICAL_LIAISON)
        if user.is_liaison:
            self.fields["assigned_liaison"].initial = user.pk
        _referral_sources(self, user)

    def get_layout(self) -> Layout:
        def cols(width: str, *names: str) -> list[Column]:
            return [Column(name, css_class=width) for name in names]

        patient = Row(
            *cols("col-md-6", "mrn", "date_of_birth", "first_name", "last_name"),
            *cols("col-md-4", "sex", "phone", "email"),
            Column("address", css_class="col-12"),
            Column("preferred_language", css_class="col-md-6"),
            Column("interpreter_needed", css_class="col-md-6 pt-md-4"),
            *cols("col-md-4", "emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone"),
            css_class="g-2",
        )
        case = Row(
            *cols("col-md-6", "program", "assigned_liaison", "priority", "referral_received_at"),
            Column("reason", css_class="col-12"),
            *cols("col-md-6", "referral_physician", "referral_institution"),
            Column("referral_source_other", css_class="col-12"),
            Column("expected_admission_date", css_class="col-md-6"),
            css_class="g-2",
        )
        return Layout(
            Row(
                Column(Fieldset("Patient", patient, css_class="card card-body"), css_class="col-12 col-lg-6"),
                Column(Fieldset("Case", case, css_class="card card-body"), css_class="col-12 col-lg-6"),
                css_class="g-4",
            )
        )

    def clean(self):
        data = super().clean()
        if not (
            data.get("referral_physician") or data.get("referral_institution") or data.get("referral_source_other")
        ):
            self.add_error("referral_source_other", "Give the referral source: a physician, an institution or other.")
        return data

    def patient_data(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.PATIENT_FIELDS}

    def case_data(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.CASE_FIELDS}

    def patient_choice(self) -> dict:
        """services.referral_patient's arguments: the patient on file the referral names, if any."""
        data = self.cleaned_data
        return {
            "use_patient": data.get("use_patient"),
            "use_mrn_patient": data.get("use_mrn_patient"),
            "mrn": data["mrn"],
        }

    def referral(self, existing) -> dict:
        """services.create_referral's arguments: the patient's fields unless it joins `existing`."""
        return {
            "case_fields": self.case_data(),
            "patient_fields": None if existing else self.patient_data(),
            "existing_patient": existing,
            "confirm_new": self.cleaned_data.get("confirm_new", False),
        }


class CaseDetailsForm(_Crispy, forms.ModelForm):
    autofocus = True
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Case
        fields = [
            "program",
            "priority",
            "reason",
            "expected_admission_date",
            "referral_physician",
            "referral_institution",
            "referral_source_other",
        ]
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3}),
            "expected_admission_date": DATE,
            "referral_physician": LookupSelect(PHYSICIANS, placeholder="Name or NPI…"),
            "referral_institution": LookupSelect(INSTITUTIONS, placeholder="Name or city…"),
        }
        labels = {"referral_physician": "Referring physician", "referral_institution": "Referring institution"}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version
        _referral_sources(self, user)


class AssignForm(_Crispy, forms.Form):
    assigned_liaison = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Liaison", widget=LookupSelect(LIAISONS)
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, user: User, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_liaison"].queryset = people_in_scope(user, User.Role.CLINICAL_LIAISON)
        self.fields["assigned_liaison"].initial = case.assigned_liaison_id
        self.fields["version"].initial = case.version


class TransitionForm(_Crispy, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DeclineForm(TransitionForm):
    reason = forms.ChoiceField(choices=[("", "— choose —"), *DeclineReason.choices])

    field_order = ["reason", "note"]


class DischargeForm(TransitionForm):
    disposition = forms.ChoiceField(choices=[("", "— choose —"), *DischargeDisposition.choices])
    summary = forms.CharField(label="Discharge summary", widget=forms.Textarea(attrs={"rows": 3}))
    discharged_at = forms.DateTimeField(widget=DATETIME, required=False)

    field_order = ["disposition", "summary", "discharged_at", "note"]


class EligibilityForm(_Crispy, forms.Form):
    eligibility = forms.ChoiceField(choices=Eligibility.choices)
    clinical_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RecordsReviewedForm(_Crispy, forms.Form):
    """What the "Medical records reviewed" tick records with it (services.EVIDENCE_FIELDS)."""

    records_review_note = forms.CharField(
        label="Records reviewed",
        required=False,  # services.records_review_missing says what is missing
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Which records: discharge summary, history and physical, labs, imaging…",
    )


class MedicationsReviewedForm(_Crispy, forms.Form):
    """What the "Medications reviewed" tick records with it (services.EVIDENCE_FIELDS)."""

    no_current_medications = forms.BooleanField(required=False, label="No current medications (the patient takes none)")


# The checklist items whose tick records more than who and when.
CHECKLIST_FORMS: dict[str, type[forms.Form]] = {
    "records_reviewed": RecordsReviewedForm,
    "medications_reviewed": MedicationsReviewedForm,
}


class TreatmentPlanForm(_Crispy, forms.ModelForm):
    autofocus = True

    class Meta:
        model = TreatmentPlan
        fields = ["goals", "planned_services", "expected_length_of_stay_days"]
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 2}),
            "planned_services": forms.Textarea(attrs={"rows": 2}),
        }


class MedicationForm(_Crispy, forms.ModelForm):
    autofocus = True

    class Meta:
        model = Medication
        fields = ["name", "dose", "route", "frequency", "reconciled"]


class CoverageForm(_Crispy, forms.ModelForm):
    autofocus = True
    verified = forms.BooleanField(required=False, label="Coverage verified")

    class Meta:
        model = InsuranceCoverage
        fields = [
            "payer",
            "plan",
            "member_id",
            "is_primary",
            "authorization_status",
            "authorization_number",
            "authorization_valid_from",
            "authorization_valid_to",
        ]
        widgets = {"authorization_valid_from": DATE, "authorization_valid_to": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verified"].initial = self.instance.verified_at is not None
        self.fields["authorization_status"].choices = AuthorizationStatus.choices


class ConsentAddForm(_Crispy, forms.Form):
    autofocus = True
    # Research consents are added from the case's trial participation (research app).
    form = forms.ModelChoiceField(queryset=ConsentForm.objects.filter(kind=ConsentKind.CARE), label="Consent form")
    procedure = forms.CharField(max_length=200)
    required = forms.BooleanField(required=False, initial=True, label="Required before admission")


def _this_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class _ConsentSignatureForm(_Crispy, forms.Form):
    """The safeguards of a signature, shared by the consent's update form and its re-consent:
    the services check them (services._signature_errors) and answer per field."""

    autofocus = True
    explained = forms.BooleanField(required=False, label="Procedure explained")
    teach_back_confirmed = forms.BooleanField(required=False, label="Patient understood (teach-back confirmed)")
    interpreter_used = forms.BooleanField(required=False)
    signed_by = forms.ChoiceField(choices=[("", "—"), *SignedBy.choices], required=False)
    representative_name = forms.CharField(max_length=120, required=False)
    representative_relationship = forms.CharField(max_length=60, required=False)
    witness_name = forms.CharField(max_length=120, required=False)
    signed_at = forms.DateTimeField(
        label="Signed at",
        widget=DATETIME,
        required=False,
        initial=_this_minute,
        help_text="When it was signed: now, or earlier since the referral was received.",
    )

    def get_layout(self) -> Layout:
        checks = ("explained", "teach_back_confirmed", "interpreter_used")
        return Layout(
            Row(
                *(Column(name, css_class="col-md-4") for name in checks),
                *(Column(name, css_class="col-md-6") for name in ("status", "signed_by") if name in self.fields),
                # data-representative: static/js/patients.js shows these only when a representative signs.
                Column("representative_name", css_class="col-md-6", data_representative=True),
                Column("representative_relationship", css_class="col-md-6", data_representative=True),
                Column("witness_name", css_class="col-md-6"),
                Column("signed_at", css_class="col-md-6"),
                css_class="g-2",
            )
        )


class ConsentUpdateForm(_ConsentSignatureForm):
    # Superseded is no choice: only a re-consent supersedes a consent.
    status = forms.ChoiceField(choices=[c for c in ConsentStatus.choices if c[0] != ConsentStatus.SUPERSEDED])

    def __init__(self, *args, consent=None, **kwargs):
        if consent is not None and "initial" not in kwargs:
            # A consent that needs renewing is explained and understood afresh, on the new version.
            fresh = consent.is_renewable
            kwargs["initial"] = {
                "explained": consent.explained_at is not None and not fresh,
                "teach_back_confirmed": consent.teach_back_confirmed and not fresh,
                "interpreter_used": consent.interpreter_used,
                "status": consent.status,
                "signed_by": consent.signed_by,
                "representative_name": consent.representative_name,
                "representative_relationship": consent.representative_relationship,
                "witness_name": consent.witness_name,
                "signed_at": timezone.localtime(consent.signed_at) if consent.signed_at else _this_minute(),
            }
        super().__init__(*args, **kwargs)


class ReconsentForm(_ConsentSignatureForm):
    """A new signature on the form's current version (services.reconsent)."""

    explained = forms.BooleanField(required=False, label="New version explained")


class CommunicationForm(_Crispy, forms.ModelForm):
    autofocus = True

    class Meta:
        model = Communication
        fields = ["occurred_at", "channel", "parties", "summary"]
        widgets = {"occurred_at": DATETIME, "summary": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class PatientForm(_Crispy, forms.ModelForm):
    autofocus = True
    # The case's version when the form was opened: demographics are a case-level write, so a
    # second editor working from an older page gets a conflict instead of overwriting.
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Patient
        fields = PATIENT_DETAILS
        widgets = {"date_of_birth": DATE, "address": forms.Textarea(attrs={"rows": 2})}


class FollowUpForm(_Crispy, forms.Form):
    autofocus = True
    title = forms.CharField(max_length=200)
    due_at = forms.DateTimeField(widget=DATETIME)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AuditFilterForm(forms.Form):
    """The audit log's filter bar (templates/patients/audit.html lays it out, crispy renders each field)."""

    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, widget=LookupSelect(AUDIT_PEOPLE))
    patient = forms.IntegerField(required=False, label="Patient id", min_value=1)
    action = forms.TypedChoiceField(
        choices=[("", "Any action"), (0, "Create"), (1, "Change"), (2, "Delete"), (3, "View")],
        required=False,
        coerce=int,
        empty_value=None,
    )
    kind = forms.ChoiceField(choices=[("", "Any page"), *AccessKind.choices], required=False, label="Viewed on")
    date_from = forms.DateField(required=False, widget=DATE, label="From")
    date_to = forms.DateField(required=False, widget=DATE, label="To")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = audit_people(user)
