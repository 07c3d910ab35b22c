from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from .models import NotificationPreferences


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autofocus": True, "autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
        self.helper = FormHelper()
        self.helper.form_tag = False


class StyledPasswordChangeForm(PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class NotificationPreferencesForm(forms.ModelForm):
    """Per kind of notification the user can receive: "In-app only" or "Email too"."""

    class Meta:
        model = NotificationPreferences
        fields = list(NotificationPreferences.KINDS)
        widgets = dict.fromkeys(NotificationPreferences.KINDS, forms.RadioSelect)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = NotificationPreferences.kinds_for(user)
        for name in [name for name in self.fields if name not in kinds]:
            del self.fields[name]  # a kind this user never receives keeps its stored value
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*(InlineRadios(name) for name in self.fields))
