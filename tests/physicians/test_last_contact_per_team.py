"""The "last contact" is the viewer's own teams' last contact: the one their timeline shows (issue 15).

Physicians are shared across MSL teams; interactions belong to the team of the MSL who logged
them. Each (physician, team) has its latest interaction in PhysicianTeamContact, kept by the
interaction services and read by the profile, the list (column, sort, filters, CSV) and the
dashboards' KOL coverage. A manager sees the latest among the teams they lead; an administrator
(or a manager of every medical-affairs team) every team's.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io

import pytest
from django.apps import apps
from django.http import QueryDict
from django.utils import timezone

from accounts.models import Team, User
from physicians import models as physician_models
from physicians import selectors, services
from physicians.choices import Channel
from physicians.models import PhysicianTeamContact
from reporting import selectors as reports
from reporting.filters import resolve_scope
from tests.factories import PhysicianFactory, TeamFactory, UserFactory
from tests.physicians.factories import InteractionFactory

pytestmark = pytest.mark.django_db

BASE = 5  # session, user (+team), savepoint, session update, release savepoint (test_queries.py)


def days_ago(n: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def visit(physician, msl, when):
    return services.log_interaction(physician=physician, msl=msl, channel=Channel.IN_PERSON, occurred_at=when)


def profile_date(client, physician) -> str:
    response = client.get(f"/physicians/{physician.pk}/")
    assert response.status_code == 200
    return response.context["physician"].last_contact_at


def list_rows(client, **params) -> dict[str, dt.datetime | None]:
    response = client.get("/physicians/", {"scope": "all", **params})
    assert response.status_code == 200
    return {p.last_name: p.last_contact_at for p in response.context["page_obj"].object_list}


@pytest.fixture
def physician(msl):
    return PhysicianFactory(last_name="Shared", owner=msl)


@pytest.fixture
def both_teams_manager(msl_team, other_msl_team) -> User:
    user = UserFactory(username="manager_both", role=User.Role.MANAGER, team=None)
    user.managed_teams.add(msl_team, other_msl_team)
    return user


# --- what each viewer sees -------------------------------------------------------------------


def test_another_msl_team_does_not_see_a_visit_its_timeline_does_not_show(physician, msl, other_msl, client_for):
    """The issue's case: msl2 saw the date of the other team's visit on the profile and list."""
    mine = visit(physician, msl, days_ago(3))
    theirs = client_for(other_msl)
    response = theirs.get(f"/physicians/{physician.pk}/")
    assert response.context["timeline"] == []  # msl2's timeline has no visit ...
    assert response.context["physician"].last_contact_at is None  # ... so no last contact either
    assert '<div class="stat-value" data-testid="last-contact">never</div>' in response.content.decode()
    assert list_rows(theirs) == {"Shared": None}
    # The team that made the visit sees it, as its timeline does.
    assert profile_date(client_for(msl), physician) == mine.occurred_at
    assert list_rows(client_for(msl)) == {"Shared": mine.occurred_at}


def test_each_team_sees_its_own_latest_visit_the_one_its_timeline_shows(
    physician, msl, msl_teammate, other_msl, client_for
):
    visit(physician, msl, days_ago(30))
    teammate_visit = visit(physician, msl_teammate, days_ago(20))
    other_visit = visit(physician, other_msl, days_ago(2))
    for user, expected in ((msl, teammate_visit), (other_msl, other_visit)):
        client = client_for(user)
        response = client.get(f"/physicians/{physician.pk}/")
        latest_on_timeline = next(e.when for e in response.context["timeline"] if e.kind == "interaction")
        assert response.context["physician"].last_contact_at == latest_on_timeline == expected.occurred_at
        assert list_rows(client) == {"Shared": expected.occurred_at}


def test_managers_see_the_latest_among_their_teams_and_admins_every_teams(
    physician, msl, other_msl, manager, both_teams_manager, admin_user, client_for
):
    own = visit(physician, msl, days_ago(9))
    other = visit(physician, other_msl, days_ago(1))
    third_team = TeamFactory(name="MA North", kind=Team.Kind.MEDICAL_AFFAIRS)
    third = visit(physician, UserFactory(username="msl_north", role=User.Role.MSL, team=third_team), days_ago(0.5))
    # `manager` leads msl's team only; the other leads two of the three teams.
    assert profile_date(client_for(manager), physician) == own.occurred_at
    assert list_rows(client_for(manager)) == {"Shared": own.occurred_at}
    assert profile_date(client_for(both_teams_manager), physician) == other.occurred_at
    assert list_rows(client_for(both_teams_manager)) == {"Shared": other.occurred_at}
    # An administrator sees every team's interactions, so every team's last contact.
    assert profile_date(client_for(admin_user), physician) == third.occurred_at
    assert list_rows(client_for(admin_user)) == {"Shared": third.occurred_at}


def test_a_manager_of_every_msl_team_reads_the_physicians_own_column(msl, other_msl, both_teams_manager):
    assert selectors.contact_team_ids(both_teams_manager) is None  # leads both medical-affairs teams
    TeamFactory(name="MA North", kind=Team.Kind.MEDICAL_AFFAIRS)
    both_teams_manager.refresh_from_db()
    assert selectors.contact_team_ids(both_teams_manager) == {msl.team_id, other_msl.team_id}


def test_many_teams_are_read_by_a_subquery_with_the_same_answer(
    physician, msl, other_msl, both_teams_manager, monkeypatch, client_for
):
    visit(physician, msl, days_ago(9))
    latest = visit(physician, other_msl, days_ago(1))
    TeamFactory(name="MA North", kind=Team.Kind.MEDICAL_AFFAIRS)  # so the manager's two are not "every team"
    client = client_for(both_teams_manager)
    joined = list_rows(client, sort="-last_interaction_at", not_contacted_days=0)
    monkeypatch.setattr(physician_models, "JOINED_CONTACT_TEAMS", 1)
    assert (
        list_rows(client, sort="-last_interaction_at", not_contacted_days=0) == joined == {"Shared": latest.occurred_at}
    )


def test_liaisons_see_no_last_contact_column(physician, msl, nurse, client_for):
    visit(physician, msl, days_ago(3))
    response = client_for(nurse).get("/physicians/", {"scope": "all"})
    html = response.content.decode()
    assert "Shared" in html
    assert "Last interaction" not in html and "never" not in html
    assert response.context["page_obj"].object_list[0].last_contact_at is None


# --- the list's filters, sort and CSV ---------------------------------------------------------


def test_filters_and_sort_read_the_viewers_teams_last_contact(msl, other_msl, client_for):
    recent_for_msl = PhysicianFactory(last_name="Alpha", owner=msl)
    recent_for_other = PhysicianFactory(last_name="Bravo", owner=msl)
    never = PhysicianFactory(last_name="Charlie", owner=msl)
    visit(recent_for_msl, msl, days_ago(2))
    visit(recent_for_other, msl, days_ago(200))
    visit(recent_for_other, other_msl, days_ago(1))
    mine, theirs = client_for(msl), client_for(other_msl)

    assert set(list_rows(mine, not_contacted_days=30)) == {"Bravo", "Charlie"}
    assert set(list_rows(theirs, not_contacted_days=30)) == {"Alpha", "Charlie"}
    assert set(list_rows(mine, contacted_within_days=30)) == {"Alpha"}
    assert set(list_rows(theirs, contacted_within_days=30)) == {"Bravo"}
    assert list(list_rows(mine, sort="-last_interaction_at")) == ["Alpha", "Bravo", "Charlie"]
    # For the other team only Bravo was contacted; the never-contacted come last (newest id first).
    assert list(list_rows(theirs, sort="-last_interaction_at")) == ["Bravo", "Charlie", "Alpha"]
    assert list(list_rows(theirs, sort="last_interaction_at")) == ["Alpha", "Charlie", "Bravo"]
    assert list_rows(theirs)["Charlie"] is None and never.pk > recent_for_msl.pk


def test_deep_pages_of_the_sorted_list_follow_the_teams_order(msl, other_msl, client_for, settings):
    settings.PAGE_SIZE = 2
    for k in range(5):
        p = PhysicianFactory(last_name=f"Page{k}", owner=msl)
        visit(p, msl, days_ago(10 + k))  # Page0 the most recent for msl's team
        visit(p, other_msl, days_ago(10 - k))  # Page4 the most recent for the other team
    client = client_for(other_msl)
    order = []
    for page in (1, 2, 3):
        response = client.get("/physicians/", {"scope": "all", "sort": "-last_interaction_at", "page": page})
        order += [p.last_name for p in response.context["page_obj"].object_list]
    assert order == ["Page4", "Page3", "Page2", "Page1", "Page0"]


def test_the_csv_has_the_viewers_teams_last_contact(physician, msl, other_msl, client_for):
    visit(physician, msl, days_ago(3))
    response = client_for(other_msl).get("/physicians/export.csv", {"scope": "all"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(r["Last name"], r["Last interaction"]) for r in rows] == [("Shared", "")]


@pytest.mark.parametrize("size", [2, 20])
def test_the_managers_sorted_list_query_count_does_not_grow(
    size, msl, other_msl, client_for, django_assert_num_queries
):
    manager = UserFactory(username="manager_two", role=User.Role.MANAGER, team=None)
    manager.managed_teams.add(msl.team, other_msl.team)
    TeamFactory(name="MA North", kind=Team.Kind.MEDICAL_AFFAIRS)  # two of three teams: the joined path
    for k in range(size):
        visit(PhysicianFactory(owner=msl), msl if k % 2 else other_msl, days_ago(k + 1))
    client = client_for(manager)
    # BASE; managed teams (scope); medical-affairs teams (whose contacts); page; area select
    with django_assert_num_queries(BASE + 4):
        response = client.get("/physicians/?scope=all&sort=-last_interaction_at&not_contacted_days=0")
    assert len(response.context["page_obj"].object_list) == size


@pytest.mark.parametrize("size", [2, 20])
def test_the_msls_profile_query_count_does_not_grow_with_teams(size, msl, client_for, django_assert_num_queries):
    physician = PhysicianFactory(owner=msl)
    for k in range(size):
        team = TeamFactory(name=f"MA {k}", kind=Team.Kind.MEDICAL_AFFAIRS)
        visit(physician, UserFactory(role=User.Role.MSL, team=team), days_ago(k + 1))
    own = visit(physician, msl, days_ago(50))
    client = client_for(msl)
    with django_assert_num_queries(BASE + 9):  # as test_queries.py's profile: the contact is in its query
        response = client.get(f"/physicians/{physician.pk}/")
    assert response.context["physician"].last_contact_at == own.occurred_at


# --- kept by the services ---------------------------------------------------------------------


def contacts(physician) -> dict[int, dt.datetime]:
    return dict(PhysicianTeamContact.objects.filter(physician=physician).values_list("team_id", "last_interaction_at"))


def test_logging_keeps_each_teams_latest_and_an_older_visit_changes_nothing(physician, msl, other_msl):
    latest = visit(physician, msl, days_ago(5))
    visit(physician, msl, days_ago(40))  # logged later, happened earlier
    other = visit(physician, other_msl, days_ago(7))
    assert contacts(physician) == {msl.team_id: latest.occurred_at, other_msl.team_id: other.occurred_at}


def test_editing_the_latest_visit_to_an_earlier_date_moves_the_teams_last_contact_back(physician, msl, other_msl):
    earlier = visit(physician, msl, days_ago(20))
    latest = visit(physician, msl, days_ago(2))
    other = visit(physician, other_msl, days_ago(10))
    services.update_interaction(interaction=latest, by=msl, occurred_at=days_ago(30))
    assert contacts(physician) == {msl.team_id: earlier.occurred_at, other_msl.team_id: other.occurred_at}
    physician.refresh_from_db()
    assert physician.last_interaction_at == other.occurred_at


def test_deleting_the_latest_visit_falls_back_to_the_one_before_and_the_only_one_to_never(physician, msl, other_msl):
    earlier = visit(physician, msl, days_ago(20))
    latest = visit(physician, msl, days_ago(2))
    only = visit(physician, other_msl, days_ago(10))
    services.delete_interaction(interaction=latest, by=msl)
    assert contacts(physician) == {msl.team_id: earlier.occurred_at, other_msl.team_id: only.occurred_at}
    services.delete_interaction(interaction=only, by=other_msl)
    assert contacts(physician) == {msl.team_id: earlier.occurred_at}
    physician.refresh_from_db()
    assert physician.last_interaction_at == earlier.occurred_at


def test_only_the_author_or_an_admin_deletes_and_a_refusal_deletes_nothing(physician, msl, msl_teammate, admin_user):
    logged = visit(physician, msl, days_ago(2))
    with pytest.raises(services.ValidationError, match="Only the MSL who logged"):
        services.delete_interaction(interaction=logged, by=msl_teammate)
    assert physician.interactions.count() == 1 and contacts(physician) == {msl.team_id: logged.occurred_at}
    services.delete_interaction(interaction=logged, by=admin_user)
    assert physician.interactions.count() == 0 and contacts(physician) == {}


def test_a_refused_visit_writes_no_last_contact(physician, msl):
    with pytest.raises(services.ValidationError):
        services.log_interaction(
            physician=physician, msl=msl, channel=Channel.IN_PERSON, occurred_at=timezone.now() + dt.timedelta(days=2)
        )
    assert PhysicianTeamContact.objects.count() == 0


def test_the_admin_keeps_the_last_contacts_when_it_deletes_or_edits(physician, msl, admin_user, client_for):
    earlier = visit(physician, msl, days_ago(20))
    latest = visit(physician, msl, days_ago(2))
    client = client_for(admin_user)
    response = client.post(f"/admin/physicians/interaction/{latest.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert contacts(physician) == {msl.team_id: earlier.occurred_at}
    response = client.post(
        "/admin/physicians/interaction/",
        {"action": "delete_selected", "_selected_action": [earlier.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert contacts(physician) == {}


# --- data written before this table existed ---------------------------------------------------


def test_the_backfill_and_the_rebuild_compute_each_teams_latest_from_the_interactions(msl, other_msl):
    a, b = PhysicianFactory(), PhysicianFactory()
    # The factory writes interactions as a bulk load would: past the services, no contact rows.
    InteractionFactory(physician=a, msl=msl, occurred_at=days_ago(9))
    newest = InteractionFactory(physician=a, msl=msl, occurred_at=days_ago(3))
    other = InteractionFactory(physician=a, msl=other_msl, occurred_at=days_ago(6))
    only_b = InteractionFactory(physician=b, msl=other_msl, occurred_at=days_ago(1))
    expected = {
        (a.pk, msl.team_id): newest.occurred_at,
        (a.pk, other_msl.team_id): other.occurred_at,
        (b.pk, other_msl.team_id): only_b.occurred_at,
    }

    def table():
        return {(c.physician_id, c.team_id): c.last_interaction_at for c in PhysicianTeamContact.objects.all()}

    assert table() == {}
    migration = importlib.import_module("physicians.migrations.0012_backfill_team_contacts")
    migration.backfill(apps, None)
    assert table() == expected
    PhysicianTeamContact.objects.all().delete()
    assert services.rebuild_last_contacts() == 3
    assert table() == expected


# --- the dashboards count "reached" by the same last contact ----------------------------------


def test_kol_coverage_counts_a_kol_reached_only_by_the_teams_in_scope(msl, other_msl, other_manager, client_for):
    kol = PhysicianFactory(last_name="Kol", kol_tier=1, owner=other_msl)
    visit(kol, msl, days_ago(3))  # msl's team visited a KOL the other team owns ...
    own = visit(kol, other_msl, days_ago(200))  # ... whose own last visit is past the 45-day cadence

    def tier1(user):
        scope = resolve_scope(user, QueryDict("range=30d"))[0]
        coverage = next(r for r in reports.kol_coverage(scope) if r["tier"] == 1)
        not_reached = [(r["name"], r["last_interaction_at"]) for r in reports.kols_not_reached(scope)]
        return coverage["total"], coverage["reached"], not_reached

    # The other team's manager, and its MSL on their own dashboard: not reached, last contact 200 days.
    for user in (other_manager, other_msl):
        assert tier1(user) == (1, 0, [(str(kol), own.occurred_at)])
    # The physician list that the "not reached" figure links to says the same to the same viewer.
    rows = list_rows(client_for(other_msl), scope="mine", tier=1, not_contacted_days=45)
    assert rows == {"Kol": own.occurred_at}
