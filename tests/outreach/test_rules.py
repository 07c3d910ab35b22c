"""Service-level rules: each creates the right follow-ups, only once, with admin settings."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from outreach.models import FollowUp, ServiceLevelRule
from outreach.rules import registry, run_rules
from patients.models import Consent
from tests.factories import CaseFactory, ConsentFormFactory, MedicalInquiryFactory, PhysicianFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def test_every_rule_of_the_issue_is_registered_from_its_own_app():
    assert set(registry()) >= {
        "kol_cadence",
        "inquiry_due_soon",
        "referral_not_evaluated",
        "consent_superseded",
        "admitted_no_communication",
    }
    assert registry()["kol_cadence"].func.__module__ == "physicians.rules"
    assert registry()["consent_superseded"].func.__module__ == "patients.rules"


def test_kol_cadence_uses_the_tier_defaults_and_is_idempotent(msl):
    due1 = PhysicianFactory(kol_tier=1, owner=msl, last_interaction_at=days_ago(46))
    PhysicianFactory(kol_tier=1, owner=msl, last_interaction_at=days_ago(44))
    due2 = PhysicianFactory(kol_tier=2, owner=msl, last_interaction_at=days_ago(91))
    PhysicianFactory(kol_tier=2, owner=msl, last_interaction_at=days_ago(89))
    due3 = PhysicianFactory(kol_tier=3, owner=msl, last_interaction_at=None)
    PhysicianFactory(kol_tier=3, owner=msl, last_interaction_at=days_ago(179))
    PhysicianFactory(kol_tier=0, owner=msl, last_interaction_at=None)  # unranked: no cadence
    PhysicianFactory(kol_tier=1, owner=None, last_interaction_at=None)  # nobody to tell

    assert run_rules(only=["kol_cadence"]) == {"kol_cadence": 3}
    assert run_rules(only=["kol_cadence"]) == {"kol_cadence": 0}
    fus = FollowUp.objects.filter(rule="kol_cadence")
    assert {f.physician_id for f in fus} == {due1.pk, due2.pk, due3.pk}
    assert {f.owner_id for f in fus} == {msl.pk} and {f.team_id for f in fus} == {msl.team_id}


def test_kol_cadence_does_not_reopen_a_completed_follow_up_until_the_next_lapse(msl, clock):
    physician = PhysicianFactory(kol_tier=1, owner=msl, last_interaction_at=days_ago(50))
    run_rules(only=["kol_cadence"])
    FollowUp.objects.filter(rule="kol_cadence").update(status="done", completed_at=NOW)
    assert run_rules(only=["kol_cadence"])["kol_cadence"] == 0
    # Contacted again, and 46 days later the cadence lapses again: a new follow-up.
    physician.last_interaction_at = NOW
    physician.save()
    clock.shift(dt.timedelta(days=46))
    assert run_rules(only=["kol_cadence"])["kol_cadence"] == 1


def test_an_admin_changes_the_cadence_or_disables_a_rule(msl):
    PhysicianFactory(kol_tier=1, owner=msl, last_interaction_at=days_ago(20))
    assert run_rules(only=["kol_cadence"])["kol_cadence"] == 0
    rule = ServiceLevelRule.objects.get(key="kol_cadence")
    rule.parameters = {"tier1_days": 14}
    rule.full_clean()
    rule.enabled = False
    rule.save()
    assert run_rules(only=["kol_cadence"]) == {}
    rule.enabled = True
    rule.save()
    assert run_rules(only=["kol_cadence"])["kol_cadence"] == 1


def test_rule_parameters_are_validated():
    run_rules(only=[])  # creates the rows
    rule = ServiceLevelRule.objects.get(key="kol_cadence")
    rule.parameters = {"tier9_days": 3}
    with pytest.raises(ValidationError, match="Unknown parameter"):
        rule.full_clean()
    rule.parameters = {"tier1_days": "soon"}
    with pytest.raises(ValidationError, match="must be a number"):
        rule.full_clean()


def test_inquiry_nearing_its_due_date_unanswered(msl):
    soon = MedicalInquiryFactory(owner=msl, received_at=days_ago(9), due_at=NOW + dt.timedelta(hours=20))
    MedicalInquiryFactory(owner=msl, received_at=days_ago(1), due_at=NOW + dt.timedelta(days=5))
    MedicalInquiryFactory(
        owner=msl, received_at=days_ago(9), due_at=NOW + dt.timedelta(hours=2), status="answered", answered_at=NOW
    )
    assert run_rules(only=["inquiry_due_soon"]) == {"inquiry_due_soon": 1}
    assert run_rules(only=["inquiry_due_soon"]) == {"inquiry_due_soon": 0}
    fu = FollowUp.objects.get(rule="inquiry_due_soon")
    assert fu.inquiry_id == soon.pk and fu.owner == msl


def test_referral_not_evaluated_within_its_window(nurse):
    late_urgent = CaseFactory(
        assigned_liaison=nurse, priority="urgent", referral_received_at=NOW - dt.timedelta(hours=3)
    )
    CaseFactory(assigned_liaison=nurse, priority="urgent", referral_received_at=NOW - dt.timedelta(hours=1))
    late_std = CaseFactory(
        assigned_liaison=nurse, priority="standard", referral_received_at=NOW - dt.timedelta(hours=49)
    )
    CaseFactory(assigned_liaison=nurse, priority="standard", referral_received_at=NOW - dt.timedelta(hours=47))
    CaseFactory(
        assigned_liaison=nurse,
        priority="standard",
        referral_received_at=NOW - dt.timedelta(hours=60),
        stage="evaluating",
        evaluated_at=NOW,
    )
    assert run_rules(only=["referral_not_evaluated"]) == {"referral_not_evaluated": 2}
    assert run_rules(only=["referral_not_evaluated"]) == {"referral_not_evaluated": 0}
    fus = FollowUp.objects.filter(rule="referral_not_evaluated")
    assert {f.case_id for f in fus} == {late_urgent.pk, late_std.pk}
    for f in fus:
        assert f.title.startswith(f"Case #{f.case_id}:")  # no patient name in the title
        assert f.case.patient.last_name not in f.title


def test_signed_consent_superseded_before_admission(nurse):
    form = ConsentFormFactory(current_version="2.0")
    pre = CaseFactory(assigned_liaison=nurse, stage="accepted")
    admitted = CaseFactory(assigned_liaison=nurse, stage="admitted", admitted_at=NOW)
    stale = Consent.objects.create(case=pre, procedure="Admission", form=form, form_version="1.0", status="signed")
    Consent.objects.create(case=pre, procedure="Therapy", form=form, form_version="2.0", status="signed")
    Consent.objects.create(case=pre, procedure="Imaging", form=form, form_version="1.0", status="pending")
    Consent.objects.create(case=admitted, procedure="Admission", form=form, form_version="1.0", status="signed")
    assert run_rules(only=["consent_superseded"]) == {"consent_superseded": 1}
    assert run_rules(only=["consent_superseded"]) == {"consent_superseded": 0}
    fu = FollowUp.objects.get(rule="consent_superseded")
    assert fu.case_id == pre.pk and fu.rule_key.startswith(f"{stale.pk}:")
    # A further version needs another re-consent.
    form.current_version = "3.0"
    form.save()
    assert run_rules(only=["consent_superseded"]) == {"consent_superseded": 2}


def test_admitted_case_without_communication_for_three_days(nurse):
    quiet = CaseFactory(
        assigned_liaison=nurse, stage="admitted", admitted_at=days_ago(5), last_communication_at=days_ago(4)
    )
    never = CaseFactory(assigned_liaison=nurse, stage="admitted", admitted_at=days_ago(4), last_communication_at=None)
    CaseFactory(assigned_liaison=nurse, stage="admitted", admitted_at=days_ago(5), last_communication_at=days_ago(1))
    CaseFactory(assigned_liaison=nurse, stage="discharged", admitted_at=days_ago(9), last_communication_at=days_ago(8))
    assert run_rules(only=["admitted_no_communication"]) == {"admitted_no_communication": 2}
    assert run_rules(only=["admitted_no_communication"]) == {"admitted_no_communication": 0}
    assert {f.case_id for f in FollowUp.objects.filter(rule="admitted_no_communication")} == {quiet.pk, never.pk}


def test_running_all_rules_twice_creates_nothing_the_second_time(msl, nurse):
    PhysicianFactory(kol_tier=1, owner=msl, last_interaction_at=None)
    CaseFactory(assigned_liaison=nurse, priority="urgent", referral_received_at=days_ago(1))
    first = run_rules()
    assert sum(first.values()) == 2
    assert sum(run_rules().values()) == 0
    assert FollowUp.objects.count() == 2


def test_rules_query_count_does_not_grow_with_rows(msl, django_assert_max_num_queries):
    for _ in range(30):
        PhysicianFactory(kol_tier=1, owner=msl, last_interaction_at=None)
    run_rules(only=[])
    # rows ensure + rule rows + per rule: reads and one existence check and inserts per chunk
    with django_assert_max_num_queries(40):
        run_rules()
    assert FollowUp.objects.count() == 30
