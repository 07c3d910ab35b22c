"""A page's Django form run on an API request: the rules the page validates with, in one place."""

from __future__ import annotations

from django import forms
from rest_framework import exceptions
from rest_framework.settings import api_settings


def form_errors(form: forms.BaseForm) -> dict[str, list[str]]:
    """The form's errors as DRF field errors, in the form's own words."""
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if name == "__all__" else name): list(errors)
        for name, errors in form.errors.items()
    }


def cleaned(form: forms.BaseForm) -> dict:
    """The form's cleaned data, or a 400 naming its fields' errors."""
    if not form.is_valid():
        raise exceptions.ValidationError(form_errors(form))
    return form.cleaned_data
