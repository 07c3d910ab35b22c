"""Every refusal as a JSON answer with its reason: a service's ValidationError is a 400 with
field errors, a stale version a 409, Django's PermissionDenied and Http404 (DRF maps those) a 403
and a 404. Anything else is a bug, and stays a 500 for the error log."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from patients.services import StaleCaseError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record changed since you read it: read it again and retry."
    default_code = "conflict"


def service_errors(exc: DjangoValidationError) -> dict:
    """A service's ValidationError as DRF's field errors: Django's "__all__" is DRF's non-field key."""
    errors = serializers.as_serializer_error(exc)
    if NON_FIELD_ERRORS in errors:
        errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
    return errors


def exception_handler(exc, context):
    if isinstance(exc, StaleCaseError):
        exc = Conflict(" ".join(exc.messages))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(service_errors(exc))
    return drf_exception_handler(exc, context)
