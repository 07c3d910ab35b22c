"""The list filters behind the dashboards' numbers: each returns exactly the records counted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patients.choices import ConsentStatus, Stage
from patients.models import Case, Consent
from physicians import services as physician_services
from physicians.choices import Channel
from physicians.models import MedicalInquiry
from tests.factories import CaseFactory, ConsentFormFactory, MedicalInquiryFactory, PhysicianFactory

pytestmark = pytest.mark.django_db


def worklist_ids(client, **params) -> set[int]:
    response = client.get("/patients/", {"scope": "team", "stage": "all", **params})
    assert response.status_code == 200
    return {c.pk for group in response.context["groups"] for c in group["cases"]}


def test_worklist_reached_consent_and_gap_filters(client_for, nurse):
    now = timezone.now()
    referred = CaseFactory(assigned_liaison=nurse)
    evaluated = CaseFactory(assigned_liaison=nurse, stage=Stage.EVALUATING, evaluated_at=now)
    admitted = CaseFactory(
        assigned_liaison=nurse, stage=Stage.ADMITTED, evaluated_at=now, accepted_at=now, admitted_at=now,
        last_communication_at=now - dt.timedelta(days=5),
    )  # fmt: skip
    talked_to = CaseFactory(assigned_liaison=nurse, stage=Stage.ADMITTED, admitted_at=now, last_communication_at=now)
    Consent.objects.create(case=referred, procedure="Admission", form=ConsentFormFactory(), form_version="1.0")
    Consent.objects.create(
        case=evaluated,
        procedure="Admission",
        form=ConsentFormFactory(),
        form_version="1.0",
        status=ConsentStatus.SIGNED,
    )
    client = client_for(nurse)
    assert worklist_ids(client, reached="evaluated") == {evaluated.pk, admitted.pk}
    assert worklist_ids(client, reached="admitted") == {admitted.pk, talked_to.pk}
    assert worklist_ids(client, consent="pending") == {referred.pk}
    # Open cases with no communication, or none for 3 days: the referral never contacted, the
    # evaluation never contacted, the admission contacted 5 days ago; not the one contacted today.
    assert worklist_ids(client, gap="true") == {referred.pk, evaluated.pk, admitted.pk}
    assert talked_to.pk in worklist_ids(client)
    assert Case.objects.count() == 4


def test_physicians_contacted_within_and_interactions_by_tier(client_for, msl):
    recent = PhysicianFactory(owner=msl, kol_tier=1)
    stale = PhysicianFactory(owner=msl, kol_tier=2)
    physician_services.log_interaction(physician=recent, msl=msl, channel=Channel.PHONE)
    physician_services.log_interaction(
        physician=stale, msl=msl, channel=Channel.PHONE, occurred_at=timezone.now() - dt.timedelta(days=100)
    )
    client = client_for(msl)
    listed = client.get("/physicians/", {"contacted_within_days": 45}).context["page_obj"].object_list
    assert [p.pk for p in listed] == [recent.pk]
    interactions = client.get("/physicians/interactions/", {"tier": 1}).context["page_obj"].object_list
    assert [i.physician_id for i in interactions] == [recent.pk]


def test_inquiries_answered_and_answered_within_service_level(client_for, msl):
    now = timezone.now()
    on_time = MedicalInquiryFactory(owner=msl, answered_at=now - dt.timedelta(days=1), due_at=now)
    late = MedicalInquiryFactory(owner=msl, answered_at=now, due_at=now - dt.timedelta(days=1))
    MedicalInquiryFactory(owner=msl)  # open
    client = client_for(msl)

    def ids(**params):
        return {i.pk for i in client.get("/physicians/inquiries/", params).context["page_obj"].object_list}

    assert ids(answered="1") == {on_time.pk, late.pk}
    assert ids(answered="in_sla") == {on_time.pk}
    assert MedicalInquiry.objects.count() == 3


def test_the_dashboard_links_its_counts_to_these_lists(client_for, manager, nurse, msl):
    CaseFactory(assigned_liaison=nurse)
    body = client_for(manager).get("/reporting/clinical/").content.decode()
    assert "consent=pending" in body and "gap=true" in body
    # The funnel is a chart: its figures, and their links, load when its table is opened.
    assert "reached=evaluated" not in body
    assert 'hx-get="/reporting/widgets/referral_funnel/table/' in body
    table = client_for(manager).get("/reporting/widgets/referral_funnel/table/").content.decode()
    assert "reached=evaluated" in table
    body = client_for(manager).get("/reporting/msl/").content.decode()
    assert "answered=in_sla" in body
    coverage = client_for(manager).get("/reporting/widgets/kol_coverage/table/").content.decode()
    assert "tier=1" in coverage and "contacted_within_days=45" in coverage


def test_discharges_link_to_the_cases_discharged_in_the_period(client_for, nurse, manager):
    now = timezone.now()
    this_month = CaseFactory(
        assigned_liaison=nurse, stage=Stage.DISCHARGED, admitted_at=now - dt.timedelta(days=9),
        discharged_at=now - dt.timedelta(days=2), discharge_disposition="home",
    )  # fmt: skip
    CaseFactory(
        assigned_liaison=nurse, stage=Stage.DISCHARGED, admitted_at=now - dt.timedelta(days=200),
        discharged_at=now - dt.timedelta(days=190), discharge_disposition="home",
    )  # fmt: skip
    start = (now - dt.timedelta(days=29)).date().isoformat()
    end = now.date().isoformat()
    assert worklist_ids(client_for(nurse), discharged_from=start, discharged_to=end) == {this_month.pk}
    body = client_for(manager).get("/reporting/clinical/", {"range": "30d"}).content.decode()
    assert f"discharged_from={start}" in body
