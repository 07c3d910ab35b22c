"""Each dashboard issues the same number of queries at 2 and at 20 rows of everything."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import CaseFactory, FollowUpFactory, MedicalInquiryFactory, PhysicianFactory
from tests.physicians.factories import InsightFactory, InteractionFactory, TrainingAttendeeFactory
from tests.research.factories import ParticipationFactory

from .factories import ConsentFactory, TrialSiteFactory, ago

pytestmark = pytest.mark.django_db

# Every request: session, user, the manager's teams (scope_team_ids), their kinds (which side
# each team is on); rendering the filter bar: its team choices. Its person filter is a picker
# (reporting.lookups.DASHBOARD_PEOPLE) that reads nobody until a person is chosen. The session's
# activity stamp is written on the session's first request (then once a minute): the tests make
# that request first.
BASE = 4 + 1

# One query per widget of the page (widgets.PAGES), more for the two that name what they count.
# referrers × engagement (referrals per physician, the top ones' names, their interactions),
# silent KOLs, follow-ups (counts per owner and team, the owners, the teams), funnel, KOL
# coverage, per MSL, inquiries, caseload
OVERVIEW = BASE + 12
# per week, per MSL, coverage, not reached, by theme, by status, newest, inquiries, training,
# enrolment, sites
MSL = BASE + 11
CLINICAL = BASE + 6  # funnel, declines, discharges, caseload, top physicians, top institutions
# Trials (issue 17): recruitment per site, screen failures (reasons, the enrolled's days), site
# engagement (the sites, the visits to their investigators, their counts)
TRIALS = BASE + 6
# The service-level rules (outreach.rules.parameters, the figures' cadence, windows and gap): one
# query to fill their cache when it is cold, as here where the test clears it; none after that.
RULES = 1
MSL_PAGE = "/reporting/msl/"


def add_rows(n: int, *, msl, nurse, offset: int) -> None:
    for i in range(n):
        physician = PhysicianFactory(kol_tier=1 + i % 3, owner=msl, last_interaction_at=ago(i * 7))
        interaction = InteractionFactory(
            msl=msl, physician=physician, occurred_at=ago(i), channel=("phone", "virtual")[i % 2]
        )
        InsightFactory(
            captured_by=msl,
            physician=physician,
            interaction=interaction,
            captured_at=ago(i),
            theme=("safety", "dosing")[i % 2],
        )
        MedicalInquiryFactory(
            owner=msl, physician=physician, received_at=ago(i + 3), answered_at=ago(i), status="answered"
        )
        TrainingAttendeeFactory(session__trainer=msl, score_before=40, score_after=60 + i)
        site = TrialSiteFactory(
            trial__protocol_number=f"Q-{offset + i}", enrolment_target=10, principal_investigator=physician
        )
        ParticipationFactory.create_batch(i, site=site, enrolled=True, case__assigned_liaison=nurse)
        ParticipationFactory(site=site, failed=True, case__assigned_liaison=nurse)
        case = CaseFactory(
            assigned_liaison=nurse,
            referral_physician=physician,
            referral_institution=physician.institution,
            referral_received_at=ago(i + 2),
            evaluated_at=ago(i + 1),
            admitted_at=ago(i),
            stage="admitted",
        )
        ConsentFactory(case=case)
        FollowUpFactory(owner=(msl, nurse)[i % 2], due_at=ago(i - 3))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/reporting/", OVERVIEW),
        ("/reporting/msl/", MSL),
        ("/reporting/clinical/", CLINICAL),
        ("/reporting/trials/", TRIALS),
    ],
)
def test_dashboard_query_count_does_not_grow_with_data(
    url, expected, client_for, manager, msl, nurse, django_assert_num_queries
):
    client = client_for(manager)
    client.get("/")  # the session's activity stamp
    add_rows(2, msl=msl, nurse=nurse, offset=0)
    with django_assert_num_queries(expected + RULES):
        assert client.get(url, {"range": "90d"}).status_code == 200
    cache.clear()
    add_rows(18, msl=msl, nurse=nurse, offset=100)
    with django_assert_num_queries(expected + RULES):
        response = client.get(url, {"range": "90d"})
    assert response.status_code == 200
    # And the numbers did grow: the page is not empty at 20 rows.
    assert any(w["rows"] for w in response.context["widgets"])
    # From the cache: only the request's own queries are left.
    with django_assert_num_queries(BASE):
        client.get(url, {"range": "90d"})
    # Other figures (another range), the rules from the cache: each widget's own queries alone.
    with django_assert_num_queries(expected):
        client.get(url, {"range": "30d"})


def test_a_chosen_person_costs_two_queries_whatever_the_data(
    client_for, manager, msl, nurse, django_assert_num_queries
):
    client = client_for(manager)
    client.get("/")
    add_rows(2, msl=msl, nurse=nurse, offset=0)
    client.get(MSL_PAGE, {"range": "90d", "person": msl.pk})  # fills the cache
    # BASE; the person checked against the manager's people; the picker's label of that person.
    with django_assert_num_queries(BASE + 2):
        client.get(MSL_PAGE, {"range": "90d", "person": msl.pk})
    add_rows(18, msl=msl, nurse=nurse, offset=100)
    cache.clear()
    client.get(MSL_PAGE, {"range": "90d", "person": msl.pk})
    with django_assert_num_queries(BASE + 2):
        client.get(MSL_PAGE, {"range": "90d", "person": msl.pk})


def test_csv_export_query_count_does_not_grow_with_data(client_for, manager, msl, nurse, django_assert_num_queries):
    client = client_for(manager)
    url = reverse("reporting:export", args=["referrers_engagement"])
    client.get("/")  # the session's activity stamp
    # session, user, teams, kinds; the export's two queries (referrals, interactions).
    expected = 4 + 2
    add_rows(2, msl=msl, nurse=nurse, offset=0)
    with django_assert_num_queries(expected):
        b"".join(client.get(url, {"range": "90d"}).streaming_content)
    add_rows(18, msl=msl, nurse=nurse, offset=100)
    with django_assert_num_queries(expected):
        body = b"".join(client.get(url, {"range": "90d"}).streaming_content)
    assert body.count(b"\n") == 21
