"""The trial widgets: recruitment per site, screen failures by reason with the median days to
enrolment, and each site's MSL visits to its investigator next to its screenings and enrolments.
Counts only: no dashboard shows who."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from physicians.choices import SiteStatus
from reporting import selectors
from reporting.filters import resolve_scope
from research import services
from research.models import Participation
from tests.factories import CaseFactory, PhysicianFactory
from tests.physicians.factories import InteractionFactory, TrialSiteFactory

from .conftest import consented, enrolled

pytestmark = pytest.mark.django_db


def scope_for(user, query: str = "range=30d"):
    return resolve_scope(user, QueryDict(query))[0]


@pytest.fixture
def recruiting(site, nurse, msl, other_nurse):
    """At `site`: two enrolled (one screened 10 days before enrolment), one consented, one screen
    failure, one still screening; another team's enrolment, outside the nurse's teams."""
    pi = PhysicianFactory(first_name="Ines", last_name="Investigator")
    site.principal_investigator = pi
    site.save()
    first = enrolled(CaseFactory(assigned_liaison=nurse), site, nurse, participant_id="P-1")
    Participation.objects.filter(pk=first.pk).update(screened_at=timezone.now() - dt.timedelta(days=10))
    enrolled(CaseFactory(assigned_liaison=nurse), site, nurse, participant_id="P-2")
    consented(CaseFactory(assigned_liaison=nurse), site, nurse)
    failed = services.start_screening(case=CaseFactory(assigned_liaison=nurse), site=site, by=nurse)
    services.conclude_screening(participation=failed, by=nurse, eligible=False, reason="exclusion_met")
    services.start_screening(case=CaseFactory(assigned_liaison=nurse), site=site, by=nurse)
    enrolled(CaseFactory(assigned_liaison=other_nurse), site, other_nurse, participant_id="P-9")
    InteractionFactory(physician=pi, msl=msl, occurred_at=timezone.now() - dt.timedelta(days=3))
    InteractionFactory(physician=pi, msl=msl, occurred_at=timezone.now() - dt.timedelta(days=60))
    return site


def test_recruitment_funnel_counts_each_step_reached_in_the_teams_in_scope(recruiting, manager):
    (row,) = selectors.recruitment_funnel(scope_for(manager))
    assert (row["screened"], row["eligible"], row["consented"], row["enrolled"], row["screen_failures"]) == (
        5,
        3,
        3,
        2,
        1,
    )
    assert row["enrolled_share"] == 40.0


def test_screening_outcomes_give_failures_by_reason_and_the_median_days_to_enrolment(recruiting, manager):
    data = selectors.screening_outcomes(scope_for(manager))
    assert {r["reason"]: r["count"] for r in data["reasons"]}["exclusion_met"] == 1
    assert sum(r["count"] for r in data["reasons"]) == 1
    assert data["enrolled"] == 2 and data["median_days_to_enrolment"] == 5.0  # 10 and 0 days


def test_site_engagement_puts_the_pi_visits_next_to_the_sites_screenings(recruiting, manager):
    (row,) = selectors.site_engagement(scope_for(manager))
    assert (row["name"], row["interactions"], row["screened"], row["enrolled"]) == (
        "Dr. Ines Investigator, MD",
        1,
        5,
        2,
    )
    longer = selectors.site_engagement(scope_for(manager, "range=365d"))
    assert longer[0]["interactions"] == 2


def test_the_trial_widgets_show_counts_never_who(recruiting, manager, msl, nurse, client_for):
    for outsider in (msl, nurse):  # a page of both sides: managers and admins
        assert client_for(outsider).get(reverse("reporting:trials")).status_code == 403
    client = client_for(manager)
    page = client.get(reverse("reporting:trials"), {"range": "30d"}).content.decode()
    for key in ("recruitment_funnel", "screening_outcomes", "site_engagement"):
        assert f'data-widget="{key}"' in page
    for participant_id in Participation.objects.exclude(participant_id="").values_list("participant_id", flat=True):
        assert participant_id not in page
    csv = b"".join(
        client.get(reverse("reporting:export", args=["recruitment_funnel"]), {"range": "30d"}).streaming_content
    )
    assert b"LCX-301" in csv and b"P-1" not in csv


def test_a_site_counts_its_enrolment_and_failures_per_period_for_the_msl_side(recruiting, msl, client_for):
    other = TrialSiteFactory(trial=recruiting.trial, status=SiteStatus.ACTIVATED)
    body = client_for(msl).get(reverse("physicians:site_detail", args=[recruiting.pk])).content.decode()
    assert "Screening and enrolment" in body
    for participant_id in ("P-1", "P-2", "P-9"):
        assert participant_id not in body
    page = client_for(msl).get(reverse("physicians:sites"), {"trial": recruiting.trial_id})
    rows = {s.pk: s for s in page.context["page_obj"]}
    # Every team's participations count on the MSL side: 3 enrolled, 1 failure of 5 concluded.
    site = rows[recruiting.pk]
    assert (site.enrolled, site.screen_failures, site.concluded) == (3, 1, 5)
    assert rows[other.pk].enrolled == 0
