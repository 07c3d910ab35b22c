"""The assignee picker (outreach.lookups.ASSIGNEES) and the follow-ups page's fields that use it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from liaison_crm.lookups import MAX_RESULTS
from outreach.models import FollowUp
from tests.factories import FollowUpFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("outreach:lookup_assignees")
LIST = reverse("outreach:follow_ups")


def values(client, **params) -> set[str]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return {r["value"] for r in response.json()["results"]}


def test_an_msl_may_pick_from_their_own_team_only(client_for, msl, msl_teammate, other_msl, nurse):
    UserFactory(username="gone", role=User.Role.MSL, team=msl.team, is_active=False)
    assert values(client_for(msl)) == {str(msl.pk), str(msl_teammate.pk)}


def test_a_manager_picks_from_the_teams_they_lead_and_themselves(
    client_for, manager, msl, msl_teammate, nurse, other_msl, other_nurse
):
    assert values(client_for(manager)) == {str(p.pk) for p in (manager, msl, msl_teammate, nurse)}


def test_an_admin_picks_anyone_on_a_team(client_for, admin_user, msl, other_msl, other_nurse):
    picked = values(client_for(admin_user))
    assert {str(msl.pk), str(other_msl.pk), str(other_nurse.pk)} <= picked
    assert str(admin_user.pk) not in picked  # no team: not someone follow-ups are handed to


def test_an_outsider_finds_nobody_of_another_team(client_for, other_msl, msl, msl_teammate):
    assert values(client_for(other_msl), q=msl.last_name) == set()
    assert values(client_for(other_msl)) == {str(other_msl.pk)}


def test_names_are_matched_from_their_start_and_labelled_as_the_select_was(client_for, msl, msl_team):
    ann = UserFactory(team=msl_team, first_name="Ann", last_name="Qwynthorpe")
    UserFactory(team=msl_team, first_name="Bob", last_name="Jones")
    nameless = UserFactory(team=msl_team, username="zed_only", first_name="", last_name="")
    client = client_for(msl)
    response = client.get(URL, {"q": "qwy"})
    assert response.json()["results"] == [{"value": str(ann.pk), "text": "Ann Qwynthorpe"}]
    assert values(client, q="Ann Qwy") == {str(ann.pk)}
    assert values(client, q="wynthorpe") == set()  # the beginning of a name, not anywhere in it
    assert client.get(URL, {"q": "zed"}).json()["results"] == [{"value": str(nameless.pk), "text": "zed_only"}]


def test_at_most_twenty_in_first_name_order_in_constant_queries(client_for, msl, msl_team):
    for i in range(MAX_RESULTS + 5):
        UserFactory(team=msl_team, first_name=f"Lee{i:02d}", last_name="Park")
    client = client_for(msl)
    client.get(URL)  # the session's activity stamp
    with CaptureQueriesContext(connection) as ctx:
        rows = client.get(URL, {"q": "lee"}).json()["results"]
    assert len(ctx.captured_queries) == 3  # session, user, the matches
    assert [r["text"] for r in rows] == [f"Lee{i:02d} Park" for i in range(MAX_RESULTS)]


def test_the_picker_needs_a_signed_in_user_and_a_get(client, client_for, msl):
    assert client.get(URL).status_code == 302
    assert client_for(msl).post(URL).status_code == 405


# --- where the page uses it -----------------------------------------------------------------------


def test_the_quick_add_owner_is_a_picker_that_says_me(client_for, manager, msl):
    html = client_for(manager).get(LIST).content.decode()
    quick_add = html[html.index('action="/outreach/follow-ups/add/"') :]
    quick_add = quick_add[: quick_add.index("</form>")]
    assert f'data-lookup-url="{URL}"' in quick_add and 'data-placeholder="Me"' in quick_add
    assert quick_add.count("<option") == 1  # only the empty choice: nobody's name is rendered
    assert msl.get_full_name() not in quick_add


def test_an_msl_has_no_owner_to_choose_in_the_quick_add(client_for, msl, msl_teammate):
    html = client_for(msl).get(LIST).content.decode()
    assert 'name="owner"' not in html[html.index('action="/outreach/follow-ups/add/"') :].split("</form>")[0]


def test_a_manager_adds_a_follow_up_for_someone_they_may_assign(client_for, manager, nurse):
    due = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(manager).post(
        reverse("outreach:follow_up_create"), {"title": "Call back", "due_at": due, "owner": nurse.pk}
    )
    assert response.status_code == 302
    assert FollowUp.objects.get().owner == nurse


def test_the_person_filter_is_a_picker_holding_only_the_chosen_person(client_for, manager, msl, msl_teammate):
    FollowUpFactory(owner=msl, title="Mine")
    FollowUpFactory(owner=msl_teammate, title="Teammate task")
    response = client_for(manager).get(LIST, {"owner": msl.pk})
    html = response.content.decode()
    filters = html[html.index('aria-label="Filter follow-ups"') :].split("</form>")[0]
    assert (
        f'<select name="owner" data-autosubmit="" class="lookupselect form-select" id="fu-owner" data-lookup-url="{URL}"'
        in filters
    )
    assert f'<option value="{msl.pk}" selected>{msl.get_full_name()}</option>' in filters
    assert msl_teammate.get_full_name() not in filters
    assert "Mine" in html and "Teammate task" not in html


def test_the_team_filter_offers_the_teams_of_the_people_the_manager_may_assign(
    client_for, manager, msl, nurse, other_msl
):
    html = client_for(manager).get(LIST).content.decode()
    team_select = html[html.index('id="fu-team"') :].split("</select>")[0]
    assert msl.team.name in team_select and nurse.team.name in team_select
    assert other_msl.team.name not in team_select


def test_a_person_outside_the_managers_teams_matches_nothing(client_for, manager, other_msl, msl):
    FollowUpFactory(owner=msl, title="Mine")
    FollowUpFactory(owner=other_msl, title="Elsewhere")
    response = client_for(manager).get(LIST, {"owner": other_msl.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mine" not in html and "Elsewhere" not in html
    assert "Select a valid choice" in html
