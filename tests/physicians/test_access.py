"""Who may open what: outsiders get 404 on records of another team, forbidden roles 403."""

from __future__ import annotations

import pytest

from tests.factories import MedicalInquiryFactory, PhysicianFactory
from tests.physicians.factories import (
    InsightFactory,
    InteractionFactory,
    TrainingSessionFactory,
    TrialSiteFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(msl):
    physician = PhysicianFactory(owner=msl)
    interaction = InteractionFactory(physician=physician, msl=msl)
    return {
        "physician": physician,
        "interaction": interaction,
        "insight": InsightFactory(physician=physician, captured_by=msl, interaction=interaction),
        "inquiry": MedicalInquiryFactory(physician=physician, owner=msl),
        "training": TrainingSessionFactory(trainer=msl),
        "site": TrialSiteFactory(principal_investigator=physician),
    }


TEAM_DETAILS = [
    ("interaction", "/physicians/interactions/{}/"),
    ("interaction", "/physicians/interactions/{}/edit/"),
    ("insight", "/physicians/insights/{}/"),
    ("insight", "/physicians/insights/{}/edit/"),
    ("inquiry", "/physicians/inquiries/{}/"),
    ("inquiry", "/physicians/inquiries/{}/edit/"),
    ("training", "/physicians/trainings/{}/"),
    ("training", "/physicians/trainings/{}/edit/"),
]


@pytest.mark.parametrize(("key", "pattern"), TEAM_DETAILS)
def test_an_msl_of_another_team_gets_404(key, pattern, records, other_msl, client_for):
    assert client_for(other_msl).get(pattern.format(records[key].pk)).status_code == 404


@pytest.mark.parametrize(("key", "pattern"), TEAM_DETAILS)
def test_a_manager_of_other_teams_gets_404(key, pattern, records, other_manager, client_for):
    assert client_for(other_manager).get(pattern.format(records[key].pk)).status_code == 404


@pytest.mark.parametrize(("key", "pattern"), [(k, p) for k, p in TEAM_DETAILS if not p.endswith("edit/")])
def test_teammates_and_their_manager_see_team_records(key, pattern, records, msl_teammate, manager, client_for):
    for user in (msl_teammate, manager):
        assert client_for(user).get(pattern.format(records[key].pk)).status_code == 200


MSL_ONLY = [
    "/physicians/interactions/",
    "/physicians/insights/",
    "/physicians/inquiries/",
    "/physicians/trainings/",
    "/physicians/products/",
    "/physicians/import/",
    "/physicians/new/",
    "/physicians/trainings/new/",
]


@pytest.mark.parametrize("url", MSL_ONLY)
def test_a_clinical_liaison_gets_403_on_medical_affairs_pages(url, nurse, client_for):
    assert client_for(nurse).get(url).status_code == 403


@pytest.mark.parametrize(("key", "pattern"), TEAM_DETAILS)
def test_a_clinical_liaison_gets_403_on_medical_records_even_of_any_team(key, pattern, records, nurse, client_for):
    assert client_for(nurse).get(pattern.format(records[key].pk)).status_code == 403


def test_a_liaison_sees_the_physician_list_and_profile_but_no_medical_records(records, nurse, client_for):
    client = client_for(nurse)
    physician = records["physician"]
    listing = client.get("/physicians/?scope=all")
    assert listing.status_code == 200
    assert physician.last_name in listing.content.decode()
    profile = client.get(f"/physicians/{physician.pk}/")
    assert profile.status_code == 200
    html = profile.content.decode()
    assert physician.last_name in html
    assert records["insight"].text not in html
    assert records["inquiry"].question not in html
    assert "interaction" not in html.lower().replace("physicians:interaction", "")
    assert "Log interaction" not in html
    assert "Records" not in html  # the counts card
    assert client.get(f"/physicians/institutions/{physician.institution_id}/").status_code == 200


def test_a_liaison_cannot_log_an_interaction(records, nurse, client_for):
    url = f"/physicians/{records['physician'].pk}/log/"
    assert client_for(nurse).get(url).status_code == 403
    assert client_for(nurse).post(url, {"channel": "in_person"}).status_code == 403


def test_the_review_queue_is_for_managers(msl, nurse, manager, client_for):
    assert client_for(msl).get("/physicians/insights/review/").status_code == 403
    assert client_for(nurse).get("/physicians/insights/review/").status_code == 403
    assert client_for(manager).get("/physicians/insights/review/").status_code == 200


def test_liaisons_read_trials_and_sites_for_screening_but_change_nothing(records, nurse, client_for):
    """Clinical roles see trials and sites (they screen patients for them), read-only: no edit
    link, no status step, the investigator by name without a link to the MSL side's profile."""
    client = client_for(nurse)
    site = records["site"]
    for url in (
        "/physicians/trials/",
        "/physicians/sites/",
        f"/physicians/sites/{site.pk}/",
        f"/physicians/trials/{site.trial_id}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "/edit/" not in body and "/physicians/sites/new/" not in body and "Record approval" not in body, url
    site_page = client.get(f"/physicians/sites/{site.pk}/").content.decode()
    assert "Mark " not in site_page
    if site.principal_investigator_id:
        assert f'href="/physicians/{site.principal_investigator_id}/"' not in site_page
    assert client.get(f"/physicians/trials/{site.trial_id}/edit/").status_code == 403
    assert client.post(f"/physicians/sites/{site.pk}/status/", {"to": "selected"}).status_code == 403


def test_unknown_physician_is_404(msl, client_for):
    assert client_for(msl).get("/physicians/999999/").status_code == 404


def test_lists_hide_other_teams_records(records, other_msl, client_for):
    client = client_for(other_msl)
    assert records["insight"].text not in client.get("/physicians/insights/").content.decode()
    assert records["inquiry"].question not in client.get("/physicians/inquiries/").content.decode()
    assert records["training"].title not in client.get("/physicians/trainings/").content.decode()
    html = client.get("/physicians/interactions/").content.decode()
    assert f"/physicians/interactions/{records['interaction'].pk}/" not in html


def test_an_anonymous_visitor_is_sent_to_log_in(client, records):
    response = client.get(f"/physicians/{records['physician'].pk}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_only_the_author_edits_an_interaction(records, msl_teammate, client_for):
    assert (
        client_for(msl_teammate).get(f"/physicians/interactions/{records['interaction'].pk}/edit/").status_code == 403
    )
