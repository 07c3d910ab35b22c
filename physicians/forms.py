from __future__ import annotations

from functools import cached_property

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms
from django.forms import formset_factory, inlineformset_factory
from django.utils import timezone

from accounts.lookups import ALL_MSLS, active_msls
from liaison_crm.widgets import LookupSelect, LookupSelectMultiple

from . import conf
from .choices import Channel, ConsentChannel, ConsentStatus, DeliveryMethod, InquiryPriority, Sentiment, Theme
from .lookups import INSTITUTIONS, PHYSICIANS, PRODUCTS, TRIAL_SITES
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


class CrispyMixin:
    """Rendered by crispy-forms inside the template's own <form> element, which writes
    `{% csrf_token %}`: `{% crispy form %}`, or `|as_crispy_field` field by field in a grid.
    `layout()` places the fields where the form wants a grid (None: one under the other)."""

    label_class = ""

    def layout(self) -> Layout | None:
        return None

    @cached_property
    def helper(self) -> FormHelper:
        # Built when first rendered, so that it sees the fields as __init__ left them.
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        helper.label_class = self.label_class
        helper.layout = self.layout()
        return helper


def _picker(field: forms.ModelChoiceField, widget: forms.Widget, queryset) -> None:
    """Give a model field a picker whose choices are `queryset` (the widget before the queryset:
    the queryset hands the widget its choices, which label the chosen option)."""
    widget.is_required = field.required
    field.widget = widget
    field.queryset = queryset


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


class PhysicianForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
    class Meta:
        model = Physician
        fields = [
            "first_name",
            "last_name",
            "credentials",
            "npi",
            "specialty",
            "taxonomy_code",
            "institution",
            "practice_address",
            "practice_city",
            "practice_state",
            "practice_postal_code",
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


class ConsentForm(CrispyMixin, forms.Form):
    channel = forms.ChoiceField(choices=ConsentChannel.choices)
    status = forms.ChoiceField(choices=ConsentStatus.choices)
    recorded_on = forms.DateField(label="Date", widget=DATE, initial=timezone.localdate)

    label_class = "small"

    def layout(self) -> Layout:
        return Layout(
            Row(
                Column("channel", css_class="col-4"),
                Column("status", css_class="col-4"),
                Column("recorded_on", css_class="col-4"),
                css_class="g-2",
            )
        )

    def clean_recorded_on(self):
        value = self.cleaned_data["recorded_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date consent was recorded cannot be in the future.")
        return value


class InteractionForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
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
        widgets = {"occurred_at": DATETIME, "products": LookupSelectMultiple(PRODUCTS), "summary": TEXTAREA}

    def __init__(self, *args, physician: Physician, with_follow_up: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.physician = physician
        self.fields["occurred_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if not self.instance.pk:
            self.fields["occurred_at"].initial = _now_local
            self.fields["channel"].initial = Channel.IN_PERSON
        self.fields["products"].queryset = Product.objects.all()
        # Only sites this physician is concerned by (their institution's, or theirs as
        # investigator): what the picker offers, and what the field accepts.
        _picker(
            self.fields["trial_site"],
            LookupSelect(TRIAL_SITES, params={"physician": physician.pk}),
            TrialSite.objects.concerning(physician).select_related("trial", "institution"),
        )
        if with_follow_up:
            self.fields["follow_up_days"].initial = conf.follow_up_default_days()
        else:
            del self.fields["follow_up_days"]

    def layout(self) -> Layout:
        last = [Column("trial_site", css_class="col-md-6")]
        if "follow_up_days" in self.fields:
            last.append(Column("follow_up_days", css_class="col-md-6"))
        return Layout(
            Row(
                Column("occurred_at", css_class="col-md-4"),
                Column("channel", css_class="col-6 col-md-4"),
                Column("duration_minutes", css_class="col-6 col-md-4"),
                css_class="g-2",
            ),
            "products",
            "topics",
            "summary",
            Row(
                Column("unsolicited_request", css_class="col-md-6"),
                Column("off_label_discussed", css_class="col-md-6"),
                css_class="g-2",
            ),
            Row(*last, css_class="g-2"),
        )

    def clean(self):
        data = super().clean()
        if data.get("off_label_discussed") and not data.get("unsolicited_request"):
            self.add_error(
                "off_label_discussed", "Off-label information may only be discussed on an unsolicited request."
            )
        return data


class InlineInsightForm(CrispyMixin, forms.Form):
    theme = forms.ChoiceField(choices=[("", "—"), *Theme.choices])
    product = forms.ModelChoiceField(queryset=Product.objects.all(), required=False, widget=LookupSelect(PRODUCTS))
    sentiment = forms.ChoiceField(choices=Sentiment.choices, initial=Sentiment.NEUTRAL)
    text = forms.CharField(label="What the physician said", widget=forms.Textarea(attrs={"rows": 2}))

    def layout(self) -> Layout:
        return Layout(
            Row(
                Column("theme", css_class="col-md-4"),
                Column("product", css_class="col-6 col-md-4"),
                Column("sentiment", css_class="col-6 col-md-4"),
                css_class="g-2",
            ),
            "text",
        )


# absolute_max: a forged TOTAL_FORMS is refused instead of building (and rendering) 1,000 forms.
InlineInsightFormSet = formset_factory(InlineInsightForm, extra=1, max_num=10, validate_max=True, absolute_max=10)


class InsightForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
    class Meta:
        model = Insight
        fields = ["theme", "product", "sentiment", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4}), "product": LookupSelect(PRODUCTS)}


class InsightReviewForm(CrispyMixin, forms.Form):
    note = forms.CharField(label="Review note", widget=TEXTAREA, required=False)

    card = False  # the review queue's card: one line, small

    @classmethod
    def for_card(cls, insight: Insight, data=None) -> InsightReviewForm:
        """The form of one card of the review queue: ids of its own, as a page has many cards."""
        form = cls(data, auto_id=f"review-{insight.pk}-%s")
        form.card = True
        form.label_class = "small"
        return form

    def layout(self) -> Layout | None:
        return Layout(Field("note", rows=1)) if self.card else None


class InquiryForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
    class Meta:
        model = MedicalInquiry
        fields = ["question", "product", "priority", "received_at"]
        widgets = {
            "question": forms.Textarea(attrs={"rows": 4}),
            "product": LookupSelect(PRODUCTS),
            "received_at": DATETIME,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if not self.instance.pk:
            self.fields["received_at"].initial = _now_local
            self.fields["priority"].initial = InquiryPriority.STANDARD
        self.fields["priority"].help_text = (
            f"Due in {conf.inquiry_sla_days(InquiryPriority.URGENT):g} days when urgent, "
            f"{conf.inquiry_sla_days(InquiryPriority.STANDARD):g} days otherwise."
        )

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("An inquiry is recorded after it was received: the date is in the future.")
        return value


class InquiryAnswerForm(CrispyMixin, AutofocusMixin, forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    delivery_method = forms.ChoiceField(choices=[("", "—"), *DeliveryMethod.choices], label="Delivered by")
    delivered_at = forms.DateTimeField(
        label="Delivered on", widget=DATETIME, required=False, help_text="Leave blank for now."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delivered_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class FollowUpForm(CrispyMixin, forms.Form):
    title = forms.CharField(max_length=200, required=False, help_text="Leave blank for a standard title.")
    days = forms.IntegerField(label="Due in (days)", min_value=0, max_value=365, initial=conf.follow_up_default_days)


class TrainingForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
    class Meta:
        model = TrainingSession
        fields = ["title", "held_on", "products", "topics", "materials_note"]
        widgets = {"held_on": DATE, "products": LookupSelectMultiple(PRODUCTS), "materials_note": TEXTAREA}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["held_on"].initial = timezone.localdate


class AttendeeForm(CrispyMixin, forms.ModelForm):
    """A row of the attendee table: the column headers say what each cell is, so the labels are
    for screen readers only (`|as_crispy_field` reads them from the helper)."""

    label_class = "visually-hidden"

    class Meta:
        model = TrainingAttendee
        fields = ["name", "email", "region", "attended", "score_before", "score_after"]


AttendeeFormSet = inlineformset_factory(
    TrainingSession,
    TrainingAttendee,
    form=AttendeeForm,
    extra=3,
    can_delete=True,
    max_num=300,
    validate_max=True,
    absolute_max=300,
)


class TrialForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
    class Meta:
        model = ClinicalTrial
        fields = [
            "protocol_number",
            "nct_number",
            "title",
            "phase",
            "status",
            "product",
            "sponsor_type",
            "sponsor_name",
        ]
        widgets = {
            "product": LookupSelect(PRODUCTS),
            "nct_number": forms.TextInput(attrs={"placeholder": "NCT01234567"}),
        }
        labels = {"sponsor_type": "Sponsorship"}
        help_texts = {"nct_number": "The ClinicalTrials.gov identifier: NCT and 8 digits."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["nct_number"].required = True

    def clean_nct_number(self) -> str:
        return (self.cleaned_data["nct_number"] or "").strip().upper()


class SiteForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
    class Meta:
        model = TrialSite
        fields = ["trial", "institution", "principal_investigator", "enrolment_target"]
        widgets = {"institution": LookupSelect(INSTITUTIONS)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = Institution.objects.all()
        # The investigator of a site that has its institution works there; a new site's may be
        # any physician.
        pi = Physician.objects.select_related("institution")
        params = {}
        if self.instance.pk and self.instance.institution_id:
            pi = pi.filter(institution_id=self.instance.institution_id)
            params = {"institution": self.instance.institution_id}
        _picker(self.fields["principal_investigator"], LookupSelect(PHYSICIANS, params=params), pi)


class SiteStatusForm(CrispyMixin, forms.Form):
    to = forms.CharField(widget=forms.HiddenInput)
    activated_on = forms.DateField(label="Activation date", widget=DATE, required=False)

    label_class = "small"

    @classmethod
    def for_step(cls, to: str) -> SiteStatusForm:
        """The form that moves a site on to `to`: the activation date is asked only for that step."""
        form = cls(initial={"to": to, "activated_on": timezone.localdate()})
        if to != "activated":
            del form.fields["activated_on"]
        return form

    def layout(self) -> Layout:
        if "activated_on" not in self.fields:
            return Layout("to")
        return Layout("to", "activated_on")


class InstitutionForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
    class Meta:
        model = Institution
        fields = ["name", "kind", "city", "state", "country"]


class ProductForm(CrispyMixin, AutofocusMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = ["name", "generic_name", "therapeutic_area", "status", "indications"]
        widgets = {"indications": TEXTAREA}


class ImportUploadForm(CrispyMixin, forms.Form):
    file = forms.FileField(
        label="CSV or JSON file",
        help_text="The NPPES data dissemination file (or an extract with its columns), a CSV with the "
        "columns NPI, first name, last name, credential, taxonomy/specialty, organisation, city, state, "
        "or a saved NPPES Registry API answer (JSON).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.json,text/csv,application/json", "autofocus": True}),
    )

    MAX_BYTES = 50 * 1024 * 1024

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB: split it.")
        return f
