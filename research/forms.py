"""Forms of the trial participation pages; each step's rules are in research.services."""

from __future__ import annotations

from django import forms

from liaison_crm.widgets import LookupSelect
from physicians.forms import DATE, CrispyMixin
from physicians.models import TrialSite

from .choices import Answer, ScreenFailureReason
from .lookups import OPEN_SITES


class StartScreeningForm(CrispyMixin, forms.Form):
    site = forms.ModelChoiceField(
        queryset=TrialSite.objects.none(),
        label="Trial site",
        help_text="Sites open for screening: activated or enrolling, of a recruiting trial.",
        widget=LookupSelect(OPEN_SITES, placeholder="Protocol, NCT number or institution…"),
    )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Any visible site validates, so that a closed one is refused by the service, by name.
        self.fields["site"].queryset = TrialSite.objects.visible_to(request.user).select_related("trial", "institution")


class AnswersForm(CrispyMixin, forms.Form):
    """One choice (met, not met, unknown) per criterion of the protocol, in the protocol's order."""

    def __init__(self, *args, criteria_with_answers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = []
        for criterion, answer in criteria_with_answers:
            name = f"c{criterion.pk}"
            self.fields[name] = forms.ChoiceField(
                choices=Answer.choices,
                widget=forms.RadioSelect,
                label=f"{criterion.get_kind_display()} {criterion.position}: {criterion.text}",
                initial=answer.answer if answer else Answer.UNKNOWN,
            )
            self.criteria.append((criterion, answer, name))

    def answers(self) -> dict[int, str]:
        return {criterion.pk: self.cleaned_data[name] for criterion, _answer, name in self.criteria}


class ConcludeForm(CrispyMixin, forms.Form):
    outcome = forms.ChoiceField(
        choices=[("eligible", "Eligible"), ("screen_failure", "Screen failure")], widget=forms.RadioSelect
    )
    reason = forms.ChoiceField(
        choices=[("", "—")] + ScreenFailureReason.choices, required=False, label="Screen-failure reason"
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EnrolForm(CrispyMixin, forms.Form):
    participant_id = forms.CharField(
        max_length=40, label="Participant id", help_text="The study's subject id (never the MRN)."
    )
    enrolled_on = forms.DateField(label="Enrolment date", widget=DATE)


class WithdrawForm(CrispyMixin, forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Reason for withdrawal")


class CompleteForm(CrispyMixin, forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CriteriaForm(CrispyMixin, forms.Form):
    inclusion = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, help_text="One criterion per line, in order."
    )
    exclusion = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, help_text="One criterion per line, in order."
    )


class IrbApprovalForm(CrispyMixin, forms.Form):
    version = forms.CharField(max_length=20, label="Consent version")
    approved_on = forms.DateField(label="IRB approval date", widget=DATE)
