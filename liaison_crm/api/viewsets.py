from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

# The largest id a PostgreSQL bigint holds: the bound of every id a request body or filter names.
ID_MAX = 2**63 - 1


class VisibleViewSetMixin:
    """A resource's rows start from `model.objects.visible_to(user)`, so a record outside the
    user's scope is a 404 on every route, as on the pages. `scoped(qs)` adds what the viewset reads
    with it (select_related, prefetches, annotations)."""

    model = None
    # A User property (sees_phi, sees_medical_affairs, ...) the role must have: 403 otherwise.
    role_sees: str | None = None
    # Ids in URLs are bigints: a longer number is a 404 from the router, not a database error.
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self) -> QuerySet:
        return self.scoped(self.model.objects.visible_to(self.request.user))

    def scoped(self, qs: QuerySet) -> QuerySet:
        return qs


class ViewSet(VisibleViewSetMixin, viewsets.GenericViewSet):
    """Pick the routes with DRF's mixins; writes go through the app's services."""
