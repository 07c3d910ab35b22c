from __future__ import annotations

from django import forms
from django.forms import formset_factory, inlineformset_factory
from django.utils import timezone

from accounts.lookups import ALL_MSLS, active_msls
from liaison_crm.widgets import LookupSelect

from . import conf
from .choices import Channel, ConsentChannel, ConsentStatus, DeliveryMethod, InquiryPriority, Sentiment, Theme
from .lookups import INSTITUTIONS
from .models import (
    ClinicalTrial,
    Insight,
    Institution,
    Interaction,
    MedicalInquiry,
    Physician,
    Product,
    TrainingAttendee,
    TrainingSession,
    TrialSite,
)

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXTAREA = forms.Textarea(attrs={"rows": 3})


class AutofocusMixin:
    """The first visible field gets the keyboard focus."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not field.widget.is_hidden:
                field.widget.attrs.setdefault("autofocus", True)
                break


def _now_local():
    return timezone.localtime().replace(second=0, microsecond=0)


class PhysicianForm(AutofocusMixin, forms.ModelForm):
    class Meta:
        model = Physician
        fields = [
            "first_name",
            "last_name",
            "credentials",
            "npi",
            "specialty",
            "institution",
            "email",
            "phone",
            "kol_tier",
            "therapeutic_areas",
            "scientific_interests",
            "owner",
            "is_active",
        ]
        widgets = {
            "therapeutic_areas": forms.CheckboxSelectMultiple,
            "scientific_interests": TEXTAREA,
            "institution": LookupSelect(INSTITUTIONS),
            "owner": LookupSelect(ALL_MSLS),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_msls()
        self.fields["institution"].queryset = Institution.objects.all()


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(choices=ConsentChannel.choices, widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=ConsentStatus.choices)
    recorded_on = forms.DateField(widget=DATE, initial=timezone.localdate)

    def clean_recorded_on(self):
        value = self.cleaned_data["recorded_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date consent was recorded cannot be in the future.")
        return value


class InteractionForm(AutofocusMixin, forms.ModelForm):
    follow_up_days = forms.IntegerField(
        label="Follow up in (days)",
        required=False,
        min_value=0,
        max_value=365,
        help_text="Leave blank for no follow-up.",
    )

    class Meta:
        model = Interaction
        fields = [
            "occurred_at",
            "channel",
            "duration_minutes",
            "products",
            "topics",
            "summary",
            "unsolicited_request",
            "off_label_discussed",
            "trial_site",
        ]
        widgets = {"occurred_at": DATETIME, "products": forms.CheckboxSelectMultiple, "summary": TEXTAREA}

    def __init__(self, *args, physician: Physician, with_follow_up: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.physician = physician
        self.fields["occurred_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if not self.instance.pk:
            self.fields["occurred_at"].initial = _now_local
            self.fields["channel"].initial = Channel.IN_PERSON
        self.fields["products"].queryset = Product.objects.order_by("name")
        # Only sites this physician is concerned by: their institution's, or theirs as investigator.
        site_filter = {"principal_investigator": physician}
        sites = TrialSite.objects.select_related("trial", "institution")
        if physician.institution_id:
            sites = sites.filter(institution_id=physician.institution_id) | sites.filter(**site_filter)
        else:
            sites = sites.filter(**site_filter)
        self.fields["trial_site"].queryset = sites
        if with_follow_up:
            self.fields["follow_up_days"].initial = conf.follow_up_default_days()
        else:
            del self.fields["follow_up_days"]

    def clean(self):
        data = super().clean()
        if data.get("off_label_discussed") and not data.get("unsolicited_request"):
            self.add_error(
                "off_label_discussed", "Off-label information may only be discussed on an unsolicited request."
            )
        return data


class InlineInsightForm(forms.Form):
    theme = forms.ChoiceField(choices=[("", "—"), *Theme.choices])
    product = forms.ModelChoiceField(queryset=Product.objects.order_by("name"), required=False)
    sentiment = forms.ChoiceField(choices=Sentiment.choices, initial=Sentiment.NEUTRAL)
    text = forms.CharField(label="What the physician said", widget=forms.Textarea(attrs={"rows": 2}))


# absolute_max: a forged TOTAL_FORMS is refused instead of building (and rendering) 1,000 forms.
InlineInsightFormSet = formset_factory(InlineInsightForm, extra=1, max_num=10, validate_max=True, absolute_max=10)


class InsightForm(AutofocusMixin, forms.ModelForm):
    class Meta:
        model = Insight
        fields = ["theme", "product", "sentiment", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}


class InsightReviewForm(forms.Form):
    note = forms.CharField(label="Review note", widget=TEXTAREA, required=False)


class InquiryForm(AutofocusMixin, forms.ModelForm):
    class Meta:
        model = MedicalInquiry
        fields = ["question", "product", "priority", "received_at"]
        widgets = {"question": forms.Textarea(attrs={"rows": 4}), "received_at": DATETIME}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if not self.instance.pk:
            self.fields["received_at"].initial = _now_local
            self.fields["priority"].initial = InquiryPriority.STANDARD
        self.fields["priority"].help_text = (
            f"Due in {conf.inquiry_sla_days(InquiryPriority.URGENT)} days when urgent, "
            f"{conf.inquiry_sla_days(InquiryPriority.STANDARD)} days otherwise."
        )

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("An inquiry is recorded after it was received: the date is in the future.")
        return value


class InquiryAnswerForm(AutofocusMixin, forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    delivery_method = forms.ChoiceField(choices=[("", "—"), *DeliveryMethod.choices], label="Delivered by")
    delivered_at = forms.DateTimeField(
        label="Delivered on", widget=DATETIME, required=False, help_text="Leave blank for now."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivered_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class FollowUpForm(forms.Form):
    title = forms.CharField(max_length=200, required=False, help_text="Leave blank for a standard title.")
    days = forms.IntegerField(label="Due in (days)", min_value=0, max_value=365, initial=conf.follow_up_default_days)


class TrainingForm(AutofocusMixin, forms.ModelForm):
    class Meta:
        model = TrainingSession
        fields = ["title", "held_on", "products", "topics", "materials_note"]
        widgets = {"held_on": DATE, "products": forms.CheckboxSelectMultiple, "materials_note": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["held_on"].initial = timezone.localdate


AttendeeFormSet = inlineformset_factory(
    TrainingSession,
    TrainingAttendee,
    fields=["name", "email", "region", "attended", "score_before", "score_after"],
    extra=3,
    can_delete=True,
    max_num=300,
    validate_max=True,
    absolute_max=300,
)


class TrialForm(AutofocusMixin, forms.ModelForm):
    class Meta:
        model = ClinicalTrial
        fields = ["protocol_number", "title", "phase", "product", "sponsor_type", "sponsor_name"]


class SiteForm(AutofocusMixin, forms.ModelForm):
    class Meta:
        model = TrialSite
        fields = ["trial", "institution", "principal_investigator", "enrolment_target", "enrolment_actual"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pi = Physician.objects.select_related("institution")
        if self.instance.pk and self.instance.institution_id:
            pi = pi.filter(institution_id=self.instance.institution_id)
        self.fields["principal_investigator"].queryset = pi
        self.fields["principal_investigator"].widget = forms.NumberInput()
        self.fields["principal_investigator"].help_text = "The physician's id (shown on the profile URL)."


class SiteStatusForm(forms.Form):
    to = forms.CharField(widget=forms.HiddenInput)
    activated_on = forms.DateField(widget=DATE, required=False)


class InstitutionForm(AutofocusMixin, forms.ModelForm):
    class Meta:
        model = Institution
        fields = ["name", "kind", "city", "state", "country"]


class ProductForm(AutofocusMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = ["name", "generic_name", "therapeutic_area", "status", "indications"]
        widgets = {"indications": TEXTAREA}


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns as in the NPI registry export: NPI, first name, last name, credential, "
        "taxonomy/specialty, organisation, city, state.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv", "autofocus": True}),
    )

    MAX_BYTES = 50 * 1024 * 1024

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB: split it.")
        return f
