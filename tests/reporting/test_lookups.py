"""The dashboards' person picker (reporting.lookups.DASHBOARD_PEOPLE) and the filter bar that uses it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from liaison_crm.lookups import MAX_RESULTS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("reporting:lookup_people")


def results(client, **params) -> list[dict]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.json()["results"]


def test_a_manager_picks_the_msls_and_liaisons_of_the_teams_they_lead(
    client_for, manager, msl, msl_teammate, nurse, other_msl, other_nurse, msl_team
):
    UserFactory(username="gone", role=User.Role.MSL, team=msl_team, is_active=False)
    UserFactory(username="boss2", role=User.Role.MANAGER, team=msl_team)
    picked = {r["value"] for r in results(client_for(manager))}
    assert picked == {str(msl.pk), str(msl_teammate.pk), str(nurse.pk)}


def test_people_are_labelled_with_their_team_in_last_name_order(client_for, manager, msl_team, cl_team):
    a = UserFactory(role=User.Role.MSL, team=msl_team, first_name="Zoe", last_name="Aardvark")
    b = UserFactory(role=User.Role.CLINICAL_LIAISON, team=cl_team, first_name="Al", last_name="Abbott")
    assert results(client_for(manager), q="a")[:2] == [
        {"value": str(a.pk), "text": "Zoe Aardvark (MA East)"},
        {"value": str(b.pk), "text": "Al Abbott (CL North)"},
    ]


def test_an_admin_picks_from_every_team(client_for, admin_user, msl, other_msl, other_nurse):
    picked = {r["value"] for r in results(client_for(admin_user))}
    assert {str(msl.pk), str(other_msl.pk), str(other_nurse.pk)} <= picked


def test_another_teams_manager_finds_nobody_of_ours(client_for, other_manager, msl, nurse):
    assert {r["value"] for r in results(client_for(other_manager))}.isdisjoint({str(msl.pk), str(nurse.pk)})


@pytest.mark.parametrize("role", ["msl", "nurse"])
def test_msls_and_liaisons_may_not_ask(client_for, request, role):
    assert client_for(request.getfixturevalue(role)).get(URL).status_code == 403


def test_at_most_twenty_in_constant_queries(client_for, manager, msl_team):
    for i in range(MAX_RESULTS + 5):
        UserFactory(role=User.Role.MSL, team=msl_team, first_name="Kim", last_name=f"Lund{i:02d}")
    client = client_for(manager)
    client.get(URL)  # the session's activity stamp
    with CaptureQueriesContext(connection) as ctx:
        rows = results(client, q="lund")
    # session, user, the manager's teams (scope), the matches with their teams
    assert len(ctx.captured_queries) == 4
    assert [r["text"] for r in rows] == [f"Kim Lund{i:02d} (MA East)" for i in range(MAX_RESULTS)]


# --- the filter bar -------------------------------------------------------------------------------


def filter_bar(response) -> str:
    html = response.content.decode()
    return " ".join(html[html.index('id="report-filters"') :].split("</form>")[0].split())


def test_the_person_filter_holds_only_the_chosen_person(world, client_for, manager, msl, msl_teammate):
    bar = filter_bar(client_for(manager).get("/reporting/msl/", {"range": "30d", "person": msl.pk}))
    assert f'data-lookup-url="{URL}"' in bar and 'data-placeholder="Everyone"' in bar
    assert f'<option value="{msl.pk}" selected>{msl.get_full_name()} (MA East)</option>' in bar
    assert msl_teammate.get_full_name() not in bar


def test_the_filter_bar_is_crispy_and_shows_the_period_it_resolved_to(world, client_for, manager):
    bar = filter_bar(client_for(manager).get("/reporting/", {"range": "30d"}))
    for name, label in (("range", "Period"), ("date_from", "From"), ("date_to", "To"), ("team", "Team")):
        assert f'<label for="id_{name}" class="form-label"> {label} </label>' in bar, name
    assert '<option value="30d" selected>Last 30 days</option>' in bar
    assert "data-range-select" in bar
    # A preset's dates are in the (hidden) custom inputs, ready for a switch to a custom period.
    assert 'value="2026-05-17"' in bar and 'value="2026-06-15"' in bar
    assert bar.count("data-custom-dates") == 2


def test_msls_and_liaisons_have_no_team_or_person_to_choose(world, client_for, msl, nurse):
    for user, page in ((msl, "/reporting/msl/"), (nurse, "/reporting/clinical/")):
        bar = filter_bar(client_for(user).get(page))
        assert 'name="range"' in bar
        assert 'name="team"' not in bar and 'name="person"' not in bar


def test_a_bad_custom_period_keeps_what_was_typed(world, client_for, manager):
    response = client_for(manager).get(
        "/reporting/", {"range": "custom", "date_from": "2026-06-10", "date_to": "2026-06-01"}
    )
    bar = filter_bar(response)
    assert '<option value="custom" selected>Custom</option>' in bar
    assert 'value="2026-06-10"' in bar
    assert "The start date must be on or before the end date. Showing 18 Mar 2026 – 15 Jun 2026 instead." in bar
