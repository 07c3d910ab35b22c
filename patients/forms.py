from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

from accounts.models import User
from physicians.models import Institution, Physician

from .choices import AuthorizationStatus, ConsentStatus, DeclineReason, DischargeDisposition, Eligibility, SignedBy
from .models import Case, Communication, ConsentForm, InsuranceCoverage, Medication, Patient

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class _Crispy:
    def _helper(self) -> None:
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


def _autofocus(form: forms.BaseForm) -> None:
    first = next(iter(form.fields.values()), None)
    if first is not None:
        first.widget.attrs["autofocus"] = True


class IdLookupWidget(forms.NumberInput):
    """Physicians and institutions run to tens of thousands: an id field with a search helper."""

    def __init__(self, kind: str):
        super().__init__(attrs={"data-lookup": kind, "min": 1, "placeholder": "id — search below"})


class ReferralForm(_Crispy, forms.Form):
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
    assigned_liaison = forms.ModelChoiceField(queryset=User.objects.none())
    priority = forms.ChoiceField(choices=Case._meta.get_field("priority").choices, initial="standard")
    reason = forms.CharField(label="Reason for referral / diagnosis", widget=forms.Textarea(attrs={"rows": 3}))
    referral_physician = forms.ModelChoiceField(
        queryset=Physician.objects.all(),
        required=False,
        widget=IdLookupWidget("physician"),
        label="Referring physician (id)",
    )
    referral_institution = forms.ModelChoiceField(
        queryset=Institution.objects.all(),
        required=False,
        widget=IdLookupWidget("institution"),
        label="Referring institution (id)",
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

    PATIENT_FIELDS = [
        "mrn",
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
        liaisons = User.objects.filter(role=User.Role.CLINICAL_LIAISON, is_active=True).select_related("team")
        if user.is_liaison:
            liaisons = liaisons.filter(team_id=user.team_id)
            self.fields["assigned_liaison"].initial = user.pk
        elif user.scope_team_ids is not None:
            liaisons = liaisons.filter(team__in=user.scope_team_ids)
        self.fields["assigned_liaison"].queryset = liaisons
        _autofocus(self)
        self._helper()

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


class CaseDetailsForm(_Crispy, forms.ModelForm):
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
            "referral_physician": IdLookupWidget("physician"),
            "referral_institution": IdLookupWidget("institution"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version
        _autofocus(self)
        self._helper()


class AssignForm(forms.Form):
    assigned_liaison = forms.ModelChoiceField(queryset=User.objects.none(), label="Liaison")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, user: User, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        qs = User.objects.filter(role=User.Role.CLINICAL_LIAISON, is_active=True)
        if user.scope_team_ids is not None:
            qs = qs.filter(team__in=user.scope_team_ids)
        self.fields["assigned_liaison"].queryset = qs
        self.fields["assigned_liaison"].initial = case.assigned_liaison_id
        self.fields["version"].initial = case.version


class TransitionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DeclineForm(TransitionForm):
    reason = forms.ChoiceField(choices=[("", "— choose —"), *DeclineReason.choices])


class DischargeForm(TransitionForm):
    disposition = forms.ChoiceField(choices=[("", "— choose —"), *DischargeDisposition.choices])
    summary = forms.CharField(label="Discharge summary", widget=forms.Textarea(attrs={"rows": 3}))
    discharged_at = forms.DateTimeField(widget=DATETIME, required=False)


class EligibilityForm(forms.Form):
    eligibility = forms.ChoiceField(choices=Eligibility.choices)
    clinical_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class MedicationForm(_Crispy, forms.ModelForm):
    class Meta:
        model = Medication
        fields = ["name", "dose", "route", "frequency", "reconciled"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _autofocus(self)
        self._helper()


class CoverageForm(_Crispy, forms.ModelForm):
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
        _autofocus(self)
        self._helper()


class ConsentAddForm(_Crispy, forms.Form):
    form = forms.ModelChoiceField(queryset=ConsentForm.objects.all(), label="Consent form")
    procedure = forms.CharField(max_length=200)
    required = forms.BooleanField(required=False, initial=True, label="Required before admission")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _autofocus(self)
        self._helper()


class ConsentUpdateForm(_Crispy, forms.Form):
    explained = forms.BooleanField(required=False, label="Procedure explained")
    teach_back_confirmed = forms.BooleanField(required=False, label="Patient understood (teach-back confirmed)")
    interpreter_used = forms.BooleanField(required=False)
    status = forms.ChoiceField(choices=ConsentStatus.choices)
    signed_by = forms.ChoiceField(choices=[("", "—"), *SignedBy.choices], required=False)
    representative_name = forms.CharField(max_length=120, required=False)
    representative_relationship = forms.CharField(max_length=60, required=False)
    witness_name = forms.CharField(max_length=120, required=False)

    def __init__(self, *args, consent=None, **kwargs):
        if consent is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "explained": consent.explained_at is not None,
                "teach_back_confirmed": consent.teach_back_confirmed,
                "interpreter_used": consent.interpreter_used,
                "status": consent.status,
                "signed_by": consent.signed_by,
                "representative_name": consent.representative_name,
                "representative_relationship": consent.representative_relationship,
                "witness_name": consent.witness_name,
            }
        super().__init__(*args, **kwargs)
        _autofocus(self)
        self._helper()


class CommunicationForm(_Crispy, forms.ModelForm):
    class Meta:
        model = Communication
        fields = ["occurred_at", "channel", "parties", "summary"]
        widgets = {"occurred_at": DATETIME, "summary": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        _autofocus(self)
        self._helper()


class PatientForm(_Crispy, forms.ModelForm):
    # The case's version when the form was opened: demographics are a case-level write, so a
    # second editor working from an older page gets a conflict instead of overwriting.
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Patient
        fields = [
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
        widgets = {"date_of_birth": DATE, "address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _autofocus(self)
        self._helper()


class FollowUpForm(_Crispy, forms.Form):
    title = forms.CharField(max_length=200)
    due_at = forms.DateTimeField(widget=DATETIME)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _autofocus(self)
        self._helper()


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    patient = forms.IntegerField(required=False, label="Patient id", min_value=1)
    action = forms.TypedChoiceField(
        choices=[("", "Any action"), (0, "Create"), (1, "Change"), (2, "Delete"), (3, "View")],
        required=False,
        coerce=int,
        empty_value=None,
    )
    date_from = forms.DateField(required=False, widget=DATE)
    date_to = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        qs = User.objects.filter(role__in=[User.Role.CLINICAL_LIAISON, User.Role.MANAGER, User.Role.ADMIN])
        if user.scope_team_ids is not None:
            from django.db.models import Q

            qs = qs.filter(Q(team__in=user.scope_team_ids) | Q(managed_teams__in=user.scope_team_ids)).distinct()
        self.fields["user"].queryset = qs
        for field in self.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = css
