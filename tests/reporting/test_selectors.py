"""Every selector against the hand-built world of conftest.py, whose right answers are known."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from outreach.models import ServiceLevelRule
from reporting import selectors
from reporting.filters import resolve_scope

pytestmark = pytest.mark.django_db


def scope_for(user, query: str = "range=30d"):
    return resolve_scope(user, QueryDict(query))[0]


def test_interactions_by_week_counts_the_period_and_teams_in_scope(world, manager):
    data = selectors.interactions_by_week(scope_for(manager))
    # In the period, MA East: in person (2 days ago), phone (3 days ago), virtual (10 days ago).
    assert data["total"] == 3
    assert set(data["channels"]) == {"In person", "Phone", "Virtual"}
    # 2026-06-15 is a Monday: 2 and 3 days ago fall in the week of 2026-06-08.
    week = [w.isoformat() for w in data["weeks"]].index("2026-06-08")
    assert data["channels"]["In person"][week] == 1 and data["channels"]["Phone"][week] == 1
    assert sum(sum(v) for v in data["channels"].values()) == 3


def test_interactions_per_msl(world, manager, msl, msl_teammate):
    rows = selectors.interactions_per_msl(scope_for(manager))
    assert [(r["msl_id"], r["total"], r["physicians"], r["in_person"], r["tier1"]) for r in rows] == [
        (msl.pk, 2, 1, 1, 2),
        (msl_teammate.pk, 1, 1, 0, 0),
    ]


def test_kol_coverage_uses_each_tiers_cadence(world, manager):
    rows = selectors.kol_coverage(scope_for(manager))
    assert [(r["tier"], r["cadence_days"], r["total"], r["reached"], r["share"]) for r in rows] == [
        (1, 45, 2, 1, 50.0),  # One reached 10 days ago; Two 60 days ago is past 45
        (2, 90, 1, 0, 0.0),  # Three: 100 days
        (3, 180, 1, 0, 0.0),  # Four: never
    ]


def test_kol_cadence_comes_from_the_rule_the_admin_edits(world, manager):
    ServiceLevelRule.objects.update_or_create(
        key="kol_cadence", defaults={"parameters": {"tier1_days": 90, "tier2_days": 120}}
    )
    rows = selectors.kol_coverage(scope_for(manager))
    assert [(r["tier"], r["cadence_days"]) for r in rows] == [(1, 90), (2, 120), (3, 180)]
    assert (rows[0]["reached"], rows[1]["reached"]) == (2, 1)


def test_kols_not_reached_longest_silent_first(world, manager):
    names = [r["name"] for r in selectors.kols_not_reached(scope_for(manager))]
    assert [n.split()[-2].rstrip(",") for n in names] == ["Four", "Three", "Two"]


def test_insights_by_theme_product_status_and_median_review(world, manager):
    scope = scope_for(manager)
    by = selectors.insights_by_theme_product(scope)
    assert [(r["theme"], r["product"], r["count"]) for r in by["rows"]] == [
        ("efficacy", "Cardiolex", 2),
        ("safety", "No product", 1),
    ]
    status = selectors.insight_status(scope)
    assert status["total"] == 3
    assert {r["status"]: r["count"] for r in status["by_status"]} == {
        "new": 1,
        "under_review": 1,
        "actioned": 1,
        "closed": 0,
    }
    assert status["median_days_to_review"] == 3.0  # median of 2 and 4 days
    newest = selectors.newest_insights(scope)
    assert [r["theme"] for r in newest] == ["Safety", "Efficacy", "Efficacy"]


def test_inquiries_open_overdue_turnaround_and_service_level(world, manager):
    data = selectors.inquiry_stats(scope_for(manager))
    assert data == {
        "open": 2,
        "overdue": 1,
        "received": 4,
        "answered": 2,
        "within_sla": 1,
        "within_sla_share": 50.0,
        "median_turnaround_days": 10.0,  # 8 and 12 days
    }


def test_training_sessions_attendees_and_improvement(world, manager):
    assert selectors.training_stats(scope_for(manager)) == {"sessions": 1, "attendees": 2, "avg_improvement": 15.0}


def test_trial_sites_and_enrolment(world, manager):
    scope = scope_for(manager)
    assert {r["status"]: r["count"] for r in selectors.trial_sites_by_status(scope)} == {
        "identified": 1,
        "selected": 0,
        "activated": 1,
        "enrolling": 1,
        "closed": 0,
    }
    rows = selectors.trial_enrolment(scope)
    assert [(r["protocol_number"], r["sites"], r["target"], r["actual"], r["share"]) for r in rows] == [
        ("CX-0001", 2, 15, 5, 33.3),
        ("CX-0002", 1, 0, 0, None),
    ]


def test_referral_funnel_conversions_and_timings(world, manager):
    data = selectors.referral_funnel(scope_for(manager))
    assert [(s["key"], s["count"], s["conversion"]) for s in data["steps"]] == [
        ("referred", 4, None),
        ("evaluated", 3, 75.0),
        ("accepted", 2, 66.7),
        ("admitted", 2, 100.0),
        ("discharged", 1, 50.0),
    ]
    assert data["declined"] == 1
    assert data["evaluated_in_window"] == 2  # 1 day and exactly 48 hours; 3 days is late
    assert data["evaluated_in_window_share"] == 50.0
    assert data["median_days_to_evaluation"] == 2.0  # 1, 2, 3
    assert data["median_days_to_admission"] == 5.5  # 5, 6


def test_declines_discharges_and_caseload(world, manager, nurse, nurse_teammate):
    scope = scope_for(manager)
    assert [(r["reason"], r["count"]) for r in selectors.declines_by_reason(scope)] == [("insurance_denied", 1)]
    discharged = selectors.discharges(scope)
    assert discharged["total"] == 1
    assert discharged["avg_length_of_stay_days"] == 10.0
    assert [(d["disposition"], d["count"]) for d in discharged["dispositions"]] == [("home", 1)]

    load = selectors.caseload(scope)
    by_liaison = {r["liaison_id"]: r for r in load["liaisons"]}
    # stages: referred, evaluating, accepted, admitted
    assert by_liaison[nurse.pk]["stages"] == [1, 0, 0, 1]
    assert by_liaison[nurse.pk]["consents_pending"] == 3
    assert by_liaison[nurse.pk]["gaps"] == 1  # c4 never contacted; c2 yesterday
    assert by_liaison[nurse_teammate.pk]["stages"] == [0, 1, 0, 0]
    assert (load["total"], load["gaps"], load["consents_pending"]) == (3, 2, 3)


def test_referral_sources(world, manager):
    scope = scope_for(manager)
    phys = selectors.top_referring_physicians(scope)
    assert [(r["physician_id"], r["referrals"], r["admissions"]) for r in phys] == [
        (world.p1.pk, 2, 2),
        (world.p3.pk, 1, 0),
    ]
    inst = selectors.top_referring_institutions(scope)
    assert [(r["institution_id"], r["referrals"], r["admissions"]) for r in inst] == [
        (world.inst_a.pk, 3, 2),
        (world.inst_d.pk, 1, 0),
    ]


def test_referrers_engagement_joins_referrals_with_msl_interactions(world, manager, msl):
    rows = list(selectors.referrers_engagement(scope_for(manager)))
    assert [(r["physician_id"], r["referrals"], r["admissions"], r["interactions"], r["tier"]) for r in rows] == [
        (world.p1.pk, 2, 2, 2, 1),
        (world.p3.pk, 1, 0, 1, 2),
    ]
    assert rows[0]["owner"] == msl.get_full_name()
    assert rows[0]["last_interaction_at"] == world.p1.last_interaction_at
    # The dashboard's top rows count the interactions of those rows only: the same figures.
    assert list(selectors.referrers_engagement(scope_for(manager), limit=1)) == rows[:1]
    assert list(selectors.referrers_engagement(scope_for(manager), limit=5)) == rows


def test_the_page_s_top_referrers_are_the_first_rows_of_the_csv(world, manager, nurse):
    """The page's top rows are counted per physician id, then named: they are the CSV's first
    rows (one ordered query), ties included: level physicians come in their records' order."""
    from tests.factories import CaseFactory, PhysicianFactory

    from .factories import ago

    tied = [PhysicianFactory(last_name=name) for name in ("Zeta", "Alpha", "Mu")]
    for physician in tied:
        for _ in range(2):
            CaseFactory(assigned_liaison=nurse, referral_physician=physician, referral_received_at=ago(3))
    every_row = list(selectors.referrers_engagement(scope_for(manager)))
    # world.p1 has as many referrals and more admissions; world.p3 fewer referrals.
    assert [r["physician_id"] for r in every_row] == [world.p1.pk, *(p.pk for p in tied), world.p3.pk]
    for limit in (1, 2, 3, 4, 5, 50):
        assert list(selectors.referrers_engagement(scope_for(manager), limit=limit)) == every_row[:limit], limit


def test_silent_kol_institutions(world, manager):
    rows = list(selectors.silent_kol_institutions(scope_for(manager)))
    assert [r["physician_id"] for r in rows] == [world.p2.pk]  # Institution B referred nothing


def test_follow_ups_per_person(world, manager, msl, nurse):
    rows = selectors.follow_ups_per_person(scope_for(manager))
    assert [(r["owner_id"], r["open"], r["overdue"], r["escalated"]) for r in rows] == [
        (msl.pk, 2, 1, 1),
        (nurse.pk, 1, 1, 0),
    ]
    assert [(r["name"], r["role"]) for r in rows] == [
        (msl.get_full_name(), "Medical Science Liaison"),
        (nurse.get_full_name(), "Clinical liaison"),
    ]
    assert all(r["team"] for r in rows)


def test_admin_sees_every_team(world, admin_user):
    scope = scope_for(admin_user)
    assert selectors.interactions_by_week(scope)["total"] == 4
    assert selectors.referral_funnel(scope)["referred"] == 5
    assert len(selectors.follow_ups_per_person(scope)) == 3


def test_outsider_manager_gets_only_their_teams(world, other_manager, other_msl):
    scope = scope_for(other_manager)
    assert selectors.interactions_by_week(scope)["total"] == 1
    assert selectors.referral_funnel(scope)["referred"] == 1
    assert [r["owner_id"] for r in selectors.follow_ups_per_person(scope)] == [other_msl.pk]
    assert [r["physician_id"] for r in selectors.referrers_engagement(scope)] == [world.p5.pk]


def test_msl_personal_scope_is_their_own_work(world, msl):
    scope = scope_for(msl)
    assert scope.show_msl and not scope.show_clinical and not scope.show_joined
    assert selectors.interactions_by_week(scope)["total"] == 2
    assert selectors.inquiry_stats(scope)["open"] == 1
    assert [r["tier"] for r in selectors.kol_coverage(scope) if r["total"]] == [1]


def test_liaison_personal_scope_is_their_own_cases(world, nurse):
    scope = scope_for(nurse)
    assert scope.show_clinical and not scope.show_msl
    assert selectors.referral_funnel(scope)["referred"] == 3  # c1, c2, c4
