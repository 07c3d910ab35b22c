from django.urls import path

from . import lookups, views

app_name = "reporting"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("msl/", views.msl_dashboard, name="msl"),
    path("clinical/", views.clinical_dashboard, name="clinical"),
    path("trials/", views.trials_dashboard, name="trials"),
    path("export/<slug:key>.csv", views.export_csv, name="export"),
    path("widgets/<slug:key>/table/", views.widget_table, name="widget_table"),
    path("lookups/people/", lookups.DASHBOARD_PEOPLE.as_view(), name="lookup_people"),
]
