import datetime as dt

from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm
from axes.handlers.proxy import AxesProxyHandler
from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.conf import settings
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import ApiToken, NotificationPreferences, User
from .services import assignable_roles, assignable_teams


class CrispyMixin:
    """A FormHelper that leaves the <form> tag to the template (its buttons live there)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class LoginForm(CrispyMixin, AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autofocus": True, "autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class StyledPasswordChangeForm(CrispyMixin, PasswordChangeForm):
    pass


class StyledPasswordResetForm(CrispyMixin, PasswordResetForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autofocus": True})


class StyledSetPasswordForm(CrispyMixin, SetPasswordForm):
    pass


def _locked_out(user) -> bool:
    return settings.AXES_ENABLED and AxesProxyHandler.is_locked(context.request, {"username": user.username})


class LockoutAwareCodeMixin(CrispyMixin):
    """A second-factor code form (at sign-in, or to confirm a change) that refuses while
    django-axes has the account locked: the wrong codes that locked it counted as failed sign-ins
    (accounts.security.on_second_factor_failed)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = "Code from your authenticator app, or a recovery code"
        self.fields["code"].widget.attrs.update({"autofocus": True})

    def clean_code(self):
        if _locked_out(self.user):
            raise ValidationError(
                "Too many failed attempts: sign-in for this account is locked. Try again later.", code="locked"
            )
        return super().clean_code()


class SecondFactorForm(LockoutAwareCodeMixin, AuthenticateForm):
    """The code asked after the password: from the authenticator app, or one recovery code."""


class SecondFactorReauthenticateForm(LockoutAwareCodeMixin, ReauthenticateForm):
    """The same code, asked again before a second factor is changed."""


class EnrolAuthenticatorForm(CrispyMixin, ActivateTOTPForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = "The 6-digit code your app shows now"
        self.fields["code"].widget.attrs.update({"autofocus": True, "inputmode": "numeric"})


def _default_token_expiry():
    return timezone.localdate() + dt.timedelta(days=90)


class ApiTokenForm(CrispyMixin, forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, such as “Warehouse export”.")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, widget=forms.RadioSelect)
    expires_on = forms.DateField(
        label="Expires on",
        initial=_default_token_expiry,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The token stops working at the end of this day.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout("name", InlineRadios("scope"), "expires_on")


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


class UserFormMixin(CrispyMixin):
    """Role and team limited to what the acting user may give (accounts.services)."""

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = assignable_roles(actor)
        self.fields["team"].queryset = assignable_teams(actor)
        self.fields["team"].required = not actor.is_admin_role
        self.fields["email"].required = True

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError("Another user has this email address.")
        return email


class InviteUserForm(UserFormMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "username", "role", "team", "job_title", "credentials"]


class EditUserForm(UserFormMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "role", "team", "job_title", "credentials"]
