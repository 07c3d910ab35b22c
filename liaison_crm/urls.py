from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import home

from .health import healthz

admin.site.site_header = "Liaison CRM administration"
admin.site.site_title = "Liaison CRM admin"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("physicians/", include("physicians.urls")),
    path("patients/", include("patients.urls")),
    path("outreach/", include("outreach.urls")),
    path("reporting/", include("reporting.urls")),
    path("documents/", include("documents.urls")),
    path("research/", include("research.urls")),
    path("api/v1/", include("liaison_crm.api.urls")),
    # One way in: the admin's own login would take a password without the second factor.
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="login", query_string=True)),
        name="admin_login",
    ),
    path("admin/", admin.site.urls),
]

handler400 = "liaison_crm.views.bad_request"
handler500 = "liaison_crm.views.server_error"
