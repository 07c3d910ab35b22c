"""A small hand-built world with known answers (see each number's derivation in test_selectors.py).

Time is frozen at NOW; the default range in these tests is `30d` (2026-05-17 .. 2026-06-15).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine

from outreach.models import FollowUp
from patients.models import Case
from tests.factories import (
    CaseFactory,
    FollowUpFactory,
    InstitutionFactory,
    MedicalInquiryFactory,
    PhysicianFactory,
    ProductFactory,
)
from tests.physicians.factories import (
    InsightFactory,
    InteractionFactory,
    TrainingAttendeeFactory,
    TrainingSessionFactory,
)
from tests.research.factories import ParticipationFactory

from .factories import ConsentFactory, TrialSiteFactory, ago

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(frozen, msl, msl_teammate, other_msl, nurse, nurse_teammate, other_nurse, manager, other_manager):
    inst_a, inst_b, inst_c, inst_d = (InstitutionFactory(name=f"Institution {x}") for x in "ABCD")
    prod_x = ProductFactory(name="Cardiolex")

    p1 = PhysicianFactory(last_name="One", kol_tier=1, owner=msl, institution=inst_a, last_interaction_at=ago(10))
    p2 = PhysicianFactory(last_name="Two", kol_tier=1, owner=msl, institution=inst_b, last_interaction_at=ago(60))
    p3 = PhysicianFactory(
        last_name="Three", kol_tier=2, owner=msl_teammate, institution=inst_a, last_interaction_at=ago(100)
    )
    p4 = PhysicianFactory(
        last_name="Four", kol_tier=3, owner=msl_teammate, institution=inst_a, last_interaction_at=None
    )
    p5 = PhysicianFactory(last_name="Five", kol_tier=1, owner=other_msl, institution=inst_c, last_interaction_at=ago(1))
    PhysicianFactory(last_name="Unranked", kol_tier=0, owner=msl, institution=inst_b)

    InteractionFactory(msl=msl, physician=p1, channel="in_person", occurred_at=ago(2))
    InteractionFactory(msl=msl, physician=p1, channel="phone", occurred_at=ago(3))
    InteractionFactory(msl=msl_teammate, physician=p3, channel="virtual", occurred_at=ago(10))
    InteractionFactory(msl=msl, physician=p2, channel="in_person", occurred_at=ago(40))  # before the period
    InteractionFactory(msl=other_msl, physician=p5, channel="in_person", occurred_at=ago(1))  # other team

    InsightFactory(
        captured_by=msl,
        physician=p1,
        theme="efficacy",
        product=prod_x,
        captured_at=ago(20),
        review_started_at=ago(18),
        status="under_review",
    )
    InsightFactory(
        captured_by=msl,
        physician=p1,
        theme="efficacy",
        product=prod_x,
        captured_at=ago(10),
        review_started_at=ago(6),
        status="actioned",
    )
    InsightFactory(captured_by=msl_teammate, physician=p3, theme="safety", product=None, captured_at=ago(5))
    InsightFactory(captured_by=other_msl, physician=p5, theme="efficacy", captured_at=ago(3))

    MedicalInquiryFactory(
        owner=msl, physician=p1, received_at=ago(20), due_at=ago(10), answered_at=ago(12), status="answered"
    )
    MedicalInquiryFactory(
        owner=msl, physician=p1, received_at=ago(15), due_at=ago(5), answered_at=ago(3), status="answered"
    )
    MedicalInquiryFactory(owner=msl, physician=p2, received_at=ago(8), due_at=ago(1))  # open, overdue
    MedicalInquiryFactory(owner=msl_teammate, physician=p3, received_at=ago(2), due_at=ago(-5))  # open, not due
    MedicalInquiryFactory(
        owner=msl, physician=p2, received_at=ago(100), due_at=ago(90), answered_at=ago(90), status="answered"
    )
    MedicalInquiryFactory(owner=other_msl, physician=p5, received_at=ago(8), due_at=ago(1))

    session = TrainingSessionFactory(trainer=msl, held_on=ago(5).date())
    TrainingAttendeeFactory(session=session, score_before=50, score_after=70)
    TrainingAttendeeFactory(session=session, score_before=60, score_after=70)
    TrainingAttendeeFactory(session=session, attended=False, score_before=0, score_after=100)
    TrainingSessionFactory(trainer=msl, held_on=ago(40).date())
    TrainingSessionFactory(trainer=other_msl, held_on=ago(5).date())

    site_a = TrialSiteFactory(
        trial__protocol_number="CX-0001", status="enrolling", enrolment_target=10, principal_investigator=p2
    )
    site_b = TrialSiteFactory(trial=site_a.trial, status="activated", enrolment_target=5)

    TrialSiteFactory(trial__protocol_number="CX-0002", status="identified")

    c1 = CaseFactory(
        assigned_liaison=nurse,
        referral_physician=p1,
        referral_institution=inst_a,
        referral_received_at=ago(20),
        evaluated_at=ago(19),
        accepted_at=ago(18),
        admitted_at=ago(15),
        discharged_at=ago(5),
        discharge_disposition="home",
        stage="discharged",
        last_communication_at=ago(5),
    )
    c2 = CaseFactory(
        assigned_liaison=nurse,
        referral_physician=p1,
        referral_institution=inst_a,
        referral_received_at=ago(10),
        evaluated_at=ago(7),
        accepted_at=ago(6),
        admitted_at=ago(4),
        stage="admitted",
        last_communication_at=ago(1),
    )
    CaseFactory(
        assigned_liaison=nurse_teammate,
        referral_physician=p3,
        referral_institution=inst_a,
        referral_received_at=ago(6),
        evaluated_at=ago(4),
        stage="declined",
        decline_reason="insurance_denied",
    )
    c4 = CaseFactory(assigned_liaison=nurse, referral_institution=inst_d, referral_received_at=ago(2), stage="referred")
    CaseFactory(
        assigned_liaison=other_nurse, referral_physician=p5, referral_institution=inst_c, referral_received_at=ago(3)
    )
    CaseFactory(assigned_liaison=nurse_teammate, referral_received_at=ago(60), stage="evaluating")

    # Enrolment is counted from the participations enrolled (on the world's own cases, so the
    # clinical figures stay as they are): 4 at site A, 1 at site B, and a screen failure at A,
    # which enrols no one.
    world_cases = list(Case.objects.order_by("pk"))
    for case, site in zip(world_cases, [site_a] * 4 + [site_b], strict=False):
        ParticipationFactory(case=case, site=site, enrolled=True, screened_by=case.assigned_liaison)
    ParticipationFactory(case=world_cases[5], site=site_a, failed=True, screened_by=world_cases[5].assigned_liaison)

    ConsentFactory(case=c2)
    ConsentFactory(case=c2, procedure="Anaesthesia")
    ConsentFactory(case=c2, procedure="Imaging", status="signed")
    ConsentFactory(case=c4)
    ConsentFactory(case=c1)  # the case is closed: not in the caseload

    FollowUpFactory(owner=msl, due_at=ago(2), escalated_at=ago(1))
    FollowUpFactory(owner=msl, due_at=ago(-2))
    FollowUpFactory(owner=nurse, due_at=ago(1), case=c2)
    FollowUpFactory(owner=nurse, due_at=ago(3), status="done", completed_at=ago(1))
    FollowUpFactory(owner=other_msl, due_at=ago(3))
    assert FollowUp.objects.count() == 5
    return SimpleNamespace(
        p1=p1,
        p2=p2,
        p3=p3,
        p4=p4,
        p5=p5,
        inst_a=inst_a,
        inst_b=inst_b,
        inst_d=inst_d,
        prod_x=prod_x,
        c1=c1,
        c2=c2,
        c4=c4,
        trial=site_a.trial,
    )
