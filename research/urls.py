from django.urls import path

from . import lookups, views

app_name = "research"

urlpatterns = [
    path("cases/<int:case_pk>/screen/", views.start_screening, name="start_screening"),
    path("participations/<int:pk>/", views.participation, name="participation"),
    path("participations/<int:pk>/answers/", views.answers, name="answers"),
    path("participations/<int:pk>/conclude/", views.conclude, name="conclude"),
    path("participations/<int:pk>/research-consent/", views.add_consent, name="add_consent"),
    path("participations/<int:pk>/consented/", views.consented, name="consented"),
    path("participations/<int:pk>/enrol/", views.enrol, name="enrol"),
    path("participations/<int:pk>/complete/", views.complete, name="complete"),
    path("participations/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("trials/<int:pk>/criteria/", views.criteria, name="criteria"),
    path("trials/<int:pk>/irb-approvals/new/", views.irb_approval, name="irb_approval"),
    path("lookups/open-sites/", lookups.OPEN_SITES.as_view(), name="lookup_open_sites"),
]
