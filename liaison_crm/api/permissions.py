from __future__ import annotations

from rest_framework import permissions

from accounts.models import ApiToken


class TokenScope(permissions.BasePermission):
    """A read-only token reads: any other method is a 403, whatever the user's role allows."""

    message = "This token is read-only."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS or not isinstance(request.auth, ApiToken):
            return True
        return request.auth.can_write


class RoleSees(permissions.BasePermission):
    """A resource that a role never sees (an MSL's cases, a nurse's interactions) is a 403 for
    that role, before any query: the viewset names the User property in `role_sees`."""

    message = "Your role does not have access to this resource."

    def has_permission(self, request, view) -> bool:
        attribute = getattr(view, "role_sees", None)
        return attribute is None or bool(getattr(request.user, attribute))
