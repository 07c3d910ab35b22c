"""Role checks for views. Querysets scope records (`visible_to`); these guard whole sections."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def require(predicate: Callable, message: str = "Your role does not have access to this page."):
    """Decorator: a logged-in user failing `predicate(user)` gets a 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not predicate(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


medical_affairs_required = require(
    lambda u: u.sees_medical_affairs, "Only medical affairs staff and managers may open this page."
)
phi_required = require(lambda u: u.sees_phi, "Patient information is only for clinical liaisons and their managers.")
# Trials and sites: the medical-affairs side, and the clinical side for screening.
trials_required = require(lambda u: u.sees_medical_affairs or u.sees_phi, "Your role does not see clinical trials.")
manager_required = require(lambda u: u.is_manager or u.is_admin_role, "Only managers may open this page.")
admin_required = require(lambda u: u.is_admin_role, "Only administrators may open this page.")
