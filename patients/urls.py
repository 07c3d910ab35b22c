from django.urls import path

from . import lookups, views

app_name = "patients"


urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("export.csv", views.worklist_export, name="worklist_export"),
    path("referrals/new/", views.referral_new, name="referral_new"),
    path("audit/", views.audit, name="audit"),
    path("lookups/audit-people/", lookups.AUDIT_PEOPLE.as_view(), name="lookup_audit_people"),
    path("<int:pk>/", views.patient_detail, name="patient_detail"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/print/", views.case_print, name="case_print"),
    path("cases/<int:pk>/stage-bar/", views.stage_bar, name="stage_bar"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/patient/", views.patient_edit, name="patient_edit"),
    path("cases/<int:pk>/transition/<slug:action>/", views.case_transition, name="case_transition"),
    path("cases/<int:pk>/forms/<slug:kind>/", views.case_form, name="case_form"),
    path("cases/<int:pk>/evaluation/eligibility/", views.eligibility, name="eligibility"),
    path("cases/<int:pk>/evaluation/<slug:item>/", views.checklist_item, name="checklist_item"),
    # The case page's lists (views.sections.SECTIONS): one view adds a row to any of them, one
    # edits a row in place; `kind` says which list.
    path("cases/<int:pk>/medications/", views.section_add, {"kind": "medication"}, name="medication_add"),
    path(
        "cases/<int:pk>/medications/<int:item_pk>/",
        views.section_edit,
        {"kind": "medication"},
        name="medication_edit",
    ),
    path("cases/<int:pk>/coverages/", views.section_add, {"kind": "coverage"}, name="coverage_add"),
    path("cases/<int:pk>/coverages/<int:item_pk>/", views.section_edit, {"kind": "coverage"}, name="coverage_edit"),
    path("cases/<int:pk>/consents/", views.section_add, {"kind": "consent"}, name="consent_add"),
    path("cases/<int:pk>/consents/<int:item_pk>/", views.section_edit, {"kind": "consent"}, name="consent_edit"),
    path("cases/<int:pk>/consents/<int:item_pk>/reconsent/", views.consent_reconsent, name="consent_reconsent"),
    path("cases/<int:pk>/communications/", views.section_add, {"kind": "communication"}, name="communication_add"),
    path("cases/<int:pk>/follow-ups/", views.section_add, {"kind": "follow_up"}, name="follow_up_add"),
    path("cases/<int:pk>/treatment-plan/", views.section_add, {"kind": "treatment_plan"}, name="treatment_plan_add"),
]
