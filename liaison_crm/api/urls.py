"""/api/v1/: each app's resources (its api.py registers them on the router), the OpenAPI schema
and its Swagger UI."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers

import outreach.api
import patients.api
import physicians.api
import reporting.api

app_name = "api"  # every route is api:<name>: the router's names (case-list) stay clear of the pages'
router = routers.DefaultRouter()
for app in (physicians.api, outreach.api, patients.api):
    app.register(router)


@login_not_required
def not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """Any other path under /api/v1/: a JSON 404, as an API client expects, not the HTML page."""
    return JsonResponse({"detail": "There is no such API route."}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page for people: signed out, it sends to the login page as every page does.
    path(
        "docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api:schema", title="Liaison CRM API")),
        name="docs",
    ),
    path("reports/", include(reporting.api.urlpatterns)),
    path("", include(router.urls)),
    re_path(r"^(?P<rest>[\s\S]*)$", not_found, name="not-found"),  # newlines too
]
