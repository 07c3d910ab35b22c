from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("msl/", views.msl_dashboard, name="msl"),
    path("clinical/", views.clinical_dashboard, name="clinical"),
    path("export/<slug:key>.csv", views.export_csv, name="export"),
]
