from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.apps import apps
from django.utils import timezone

from .models import EventKind, OutreachEvent


def _default_due() -> datetime:
    tomorrow = timezone.localdate() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, time(9, 0)))


class QuickAddForm(forms.Form):
    title = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"autofocus": True, "placeholder": "What to do"})
    )
    due_at = forms.DateTimeField(
        label="Due", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Me")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_at"].initial = timezone.localtime(_default_due())
        if assignees is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = assignees


class SnoozeForm(forms.Form):
    days = forms.TypedChoiceField(choices=[("1", "1 day"), ("7", "1 week")], coerce=int, required=False)
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if not data.get("days") and not data.get("until"):
            raise forms.ValidationError("Pick 1 day, 1 week or a date.")
        until = data.get("until")
        if until and not data.get("days") and until <= timezone.localdate():
            self.add_error("until", "Pick a date after today.")
        return data


class OutreachEventForm(forms.ModelForm):
    referral_cases = forms.CharField(
        label="Referrals (case numbers)",
        required=False,
        help_text="Case numbers separated by commas, e.g. 123, 456.",
    )

    class Meta:
        model = OutreachEvent
        fields = ["title", "kind", "date", "place", "team", "audience_size", "contacts_made", "notes"]
        widgets = {
            "title": forms.TextInput(attrs={"autofocus": True}),
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        from accounts.models import Team

        scope = user.scope_team_ids
        teams = Team.objects.all() if scope is None else Team.objects.filter(pk__in=scope)
        self.fields["team"].queryset = teams
        self.fields["team"].required = False
        self.fields["team"].help_text = "Leave empty for your own team."
        self.fields["kind"].choices = EventKind.choices
        if not self.instance.pk:
            self.fields["date"].initial = timezone.localdate()
        if not user.sees_phi:
            del self.fields["referral_cases"]
        elif self.instance.pk:
            ids = self.instance.referrals.order_by("pk").values_list("pk", flat=True)
            self.fields["referral_cases"].initial = ", ".join(str(i) for i in ids)

    def clean_referral_cases(self):
        raw = self.cleaned_data.get("referral_cases", "")
        tokens = [t.strip().lstrip("#") for t in raw.replace(";", ",").split(",") if t.strip()]
        bad = [t for t in tokens if not t.isdigit()]
        if bad:
            raise forms.ValidationError(f"Not a case number: {', '.join(bad)}.")
        ids = {int(t) for t in tokens}
        Case = apps.get_model("patients", "Case")
        found = list(Case.objects.visible_to(self.user).filter(pk__in=ids))
        missing = sorted(ids - {c.pk for c in found})
        if missing:
            raise forms.ValidationError(f"No case you may see has the number {', '.join(map(str, missing))}.")
        return found
