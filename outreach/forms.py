from __future__ import annotations

from datetime import datetime, time, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.apps import apps
from django.utils import timezone

from accounts.models import Team
from liaison_crm.widgets import LookupSelect

from . import lookups, services
from .lookups import ASSIGNEES, assignee_label
from .models import EventKind, FollowUp, OutreachEvent


def _fields_only() -> FormHelper:
    """A helper for a form whose template writes the <form> element and {% csrf_token %}."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


def _filter_bar(form: forms.Form, columns: dict[str, str]) -> FormHelper:
    """A GET filter bar: each field in a grid column (the template writes the <form class="row">
    and its button); hidden fields only when they carry a value, so a bookmark stays short."""
    helper = _fields_only()
    parts = []
    for name, bound in ((name, form[name]) for name in form.fields):
        if bound.is_hidden:
            if bound.value():
                parts.append(Field(name))
        else:
            parts.append(Div(Field(name), css_class=columns[name]))
    helper.layout = Layout(*parts)
    return helper


AUTOSUBMIT = {"data-autosubmit": ""}


class FollowUpFilterForm(forms.Form):
    """The follow-ups page's search, and for managers its person and team filters (GET)."""

    q = forms.CharField(
        label="Search", required=False, widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title"})
    )
    owner = forms.ModelChoiceField(
        label="Person",
        queryset=None,
        required=False,
        empty_label="Everyone",
        widget=LookupSelect(ASSIGNEES, attrs=AUTOSUBMIT),
    )
    team = forms.ModelChoiceField(
        label="Team", queryset=None, required=False, empty_label="All my teams", widget=forms.Select(attrs=AUTOSUBMIT)
    )
    state = forms.CharField(required=False, widget=forms.HiddenInput)

    COLUMNS = {"q": "col-12 col-md", "owner": "col-6 col-md-3", "team": "col-6 col-md-3"}

    def __init__(self, *args, user, people: bool, **kwargs):
        """`people`: the user may look at other people's follow-ups (managers, administrators)."""
        kwargs.setdefault("auto_id", "fu-%s")
        super().__init__(*args, **kwargs)
        if people:
            self.fields["owner"].queryset = lookups.assignees(user)
            # The teams of those people (one query, when the select is drawn).
            self.fields["team"].queryset = Team.objects.filter(
                pk__in=services.assignable_users(user).values("team_id")
            ).order_by("name")
        else:
            del self.fields["owner"], self.fields["team"]
        self.helper = _filter_bar(self, self.COLUMNS)


class EventFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or place"}),
    )
    kind = forms.ChoiceField(label="Kind", required=False, widget=forms.Select(attrs=AUTOSUBMIT))
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    COLUMNS = {
        "q": "col-12 col-md",
        "kind": "col-6 col-md-3",
        "date_from": "col-6 col-md-2",
        "date_to": "col-6 col-md-2",
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "ev-%s")
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Any"), *EventKind.choices]
        self.helper = _filter_bar(self, self.COLUMNS)


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
    # A picker: the people a follow-up can be handed to run to hundreds for an administrator.
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Me", widget=LookupSelect(ASSIGNEES))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, assignees=None, **kwargs):
        """`assignees`: whom the owner may be chosen from (outreach.lookups.assignees(user));
        None leaves the owner out (the follow-up is the user's own)."""
        super().__init__(*args, **kwargs)
        self.fields["due_at"].initial = timezone.localtime(_default_due())
        if assignees is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = assignees
        self.helper = _fields_only()


class SnoozeForm(forms.Form):
    days = forms.TypedChoiceField(choices=[("1", "1 day"), ("7", "1 week")], coerce=int, required=False)
    until = forms.DateField(label="Snooze until", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    @classmethod
    def for_row(cls, follow_up: FollowUp) -> SnoozeForm:
        """The date part of a follow-up row's Snooze menu (its 1 day / 1 week part is two buttons)."""
        form = cls(auto_id=f"snooze-%s-{follow_up.pk}")
        form.fields["until"].required = True  # that form has nothing else to send
        return form

    def clean(self):
        data = super().clean()
        if not data.get("days") and not data.get("until"):
            raise forms.ValidationError("Pick 1 day, 1 week or a date.")
        until = data.get("until")
        if until and not data.get("days") and until <= timezone.localdate():
            self.add_error("until", "Pick a date after today.")
        return data


class ReassignForm(forms.Form):
    """A follow-up row's Reassign select, as shown: only the current owner, whom the row already
    loaded (Tom Select asks outreach.lookups.ASSIGNEES for the others). The view checks the
    choice against what the user may assign (outreach.services.reassign_follow_up)."""

    owner = forms.ChoiceField(label="Reassign to", widget=LookupSelect(ASSIGNEES))

    @classmethod
    def for_row(cls, follow_up: FollowUp) -> ReassignForm:
        form = cls(auto_id=f"reassign-%s-{follow_up.pk}", initial={"owner": follow_up.owner_id})
        # The empty choice first, so the select is `required` (and Tom Select offers no clear button).
        form.fields["owner"].choices = [("", ""), (follow_up.owner_id, assignee_label(follow_up.owner))]
        return form


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
        self.helper = _fields_only()

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
