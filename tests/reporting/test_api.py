"""The dashboards' widgets on the REST API, against the known-answer world of conftest.py: the
figures, the filters, who may read which widget (as the pages decide) and bad input."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from reporting.api import WIDGET_KEYS
from reporting.filters import resolve_scope
from reporting.widgets import PAGES, REGISTRY

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports/"
MSL_WIDGETS = [k for k, w in REGISTRY.items() if w.side == "msl"]
CLINICAL_WIDGETS = [k for k, w in REGISTRY.items() if w.side == "clinical"]
JOINED_WIDGETS = [k for k, w in REGISTRY.items() if w.side == "joined"]


def report(client, key: str, **params):
    return client.get(f"{REPORTS}{key}/", {"range": "30d", **params})


def test_every_dashboard_widget_has_a_route():
    assert set(WIDGET_KEYS) == {key for keys in PAGES.values() for key in keys}


def test_interactions_per_msl_answers_the_widgets_figures(world, api_for, manager, msl, msl_teammate):
    response = report(api_for(manager), "interactions_per_msl")
    assert response.status_code == 200
    body = response.json()
    assert body["widget"] == "interactions_per_msl" and body["title"] == "Interactions per MSL"
    assert body["side"] == "msl"
    assert body["filters"] == {
        "range": "30d",
        "date_from": "2026-05-17",
        "date_to": "2026-06-15",
        "team": None,
        "person": None,
        "personal": False,
    }
    assert body["columns"] == ["MSL", "Interactions", "Physicians reached", "In person", "With tier-1 KOLs"]
    assert body["rows"] == [[msl.get_full_name(), 2, 1, 1, 2], [msl_teammate.get_full_name(), 1, 1, 0, 0]]
    assert [(r["msl_id"], r["total"]) for r in body["data"]] == [(msl.pk, 2), (msl_teammate.pk, 1)]


def test_stats_and_nested_data(world, api_for, manager):
    body = report(api_for(manager), "inquiries").json()
    assert {s["label"]: (s["value"], s["suffix"]) for s in body["stats"]} == {
        "Open": (2, ""),
        "Overdue": (1, ""),
        "Median turnaround": (10.0, " days"),
        "Answered within service level": (50.0, " %"),
    }
    assert body["data"]["received"] == 4
    funnel = report(api_for(manager), "referral_funnel").json()
    assert [(s["key"], s["count"]) for s in funnel["data"]["steps"]][:2] == [("referred", 4), ("evaluated", 3)]
    weeks = report(api_for(manager), "interactions_by_week").json()["data"]
    assert weeks["total"] == 3 and "2026-06-08" in weeks["weeks"]


@pytest.mark.parametrize("key", WIDGET_KEYS)
def test_a_manager_reads_every_widget(world, api_for, manager, key):
    response = report(api_for(manager), key)
    assert response.status_code == 200
    body = response.json()
    assert body["widget"] == key
    assert all(len(row) == len(body["columns"]) for row in body["rows"])


def test_the_figures_match_the_dashboards_for_the_same_filters(world, api_for, manager, msl):
    params = {"range": "custom", "date_from": "2026-06-01", "date_to": "2026-06-15", "person": str(msl.pk)}
    scope, _ = resolve_scope(manager, QueryDict(mutable=True) | params)
    expected = REGISTRY["interactions_per_msl"].fetch(scope, limit=None)
    body = api_for(manager).get(f"{REPORTS}interactions_per_msl/", params).json()
    assert body["filters"]["person"] == msl.pk and body["filters"]["date_from"] == "2026-06-01"
    assert [r["msl_id"] for r in body["data"]] == [r["msl_id"] for r in expected] == [msl.pk]
    assert body["rows"][0][1] == 2


def test_a_team_narrows_its_side(world, api_for, admin_user, msl, msl_teammate, other_msl):
    client = api_for(admin_user)
    everyone = [row[0] for row in report(client, "interactions_per_msl").json()["rows"]]
    assert sorted(everyone) == sorted(u.get_full_name() for u in (msl, msl_teammate, other_msl))
    body = report(client, "interactions_per_msl", team=msl.team_id).json()
    assert body["filters"]["team"] == msl.team_id
    assert [row[0] for row in body["rows"]] == [msl.get_full_name(), msl_teammate.get_full_name()]


def test_an_msl_reads_their_own_side_only(world, api_for, msl, msl_teammate):
    client = api_for(msl)
    body = report(client, "interactions_per_msl").json()
    assert body["filters"]["personal"] is True
    assert [row[0] for row in body["rows"]] == [msl.get_full_name()]
    for key in MSL_WIDGETS:
        assert report(client, key).status_code == 200, key
    for key in CLINICAL_WIDGETS + JOINED_WIDGETS:
        response = report(client, key)
        assert response.status_code == 403, key
        assert "data" not in response.json()


def test_a_liaison_reads_the_clinical_side_only(world, api_for, nurse):
    client = api_for(nurse)
    for key in CLINICAL_WIDGETS:
        assert report(client, key).status_code == 200, key
    for key in MSL_WIDGETS + JOINED_WIDGETS:
        assert report(client, key).status_code == 403, key
    caseload = report(client, "caseload").json()["data"]
    assert [r["liaison_id"] for r in caseload["liaisons"]] == [nurse.pk]


def test_the_index_lists_what_the_user_may_read(world, api_for, manager, msl):
    assert [r["widget"] for r in api_for(manager).get(REPORTS).json()] == WIDGET_KEYS
    links = api_for(msl).get(REPORTS).json()
    assert [r["widget"] for r in links] == MSL_WIDGETS
    assert links[0]["url"] == f"http://testserver{REPORTS}{MSL_WIDGETS[0]}/"


def test_an_unknown_widget_is_a_404(world, api_for, manager):
    assert report(api_for(manager), "salaries").status_code == 404


def test_a_team_or_person_outside_the_scope_is_a_404(world, api_for, manager, other_msl):
    client = api_for(manager)
    assert report(client, "interactions_per_msl", team=other_msl.team_id).status_code == 404
    assert report(client, "interactions_per_msl", person=other_msl.pk).status_code == 404
    # An MSL may not narrow to another team either.
    assert report(api_for(other_msl), "interactions_per_msl", team=world.p1.owner.team_id).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"range": "forever"}, "range"),
        ({"range": "custom"}, "non_field_errors"),
        ({"range": "custom", "date_from": "2026-06-10", "date_to": "2026-06-01"}, "non_field_errors"),
        ({"range": "custom", "date_from": "2010-01-01", "date_to": "2026-06-01"}, "non_field_errors"),
        ({"range": "custom", "date_from": "9999-12-30", "date_to": "9999-12-31"}, "date_from"),
        ({"date_to": "2026-02-30"}, "date_to"),
        ({"team": "x"}, "team"),
        ({"person": str(2**70)}, "person"),
        ({"team": "0"}, "team"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(world, api_for, manager, params, field):
    response = api_for(manager).get(f"{REPORTS}kol_coverage/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_widget_is_served_from_the_dashboards_cache(world, api_for, manager, django_assert_num_queries):
    client = api_for(manager)
    assert report(client, "follow_ups").status_code == 200
    # The token with its user; the managed teams and their kinds (the scope). The figures come
    # from the cache the first request (or the dashboard) filled.
    with django_assert_num_queries(3):
        assert report(client, "follow_ups").status_code == 200


def test_a_read_only_token_reads_reports(world, api_for, manager):
    assert report(api_for(manager, scope="read"), "caseload").status_code == 200


def test_anonymous_is_a_401(world, client):
    assert client.get(f"{REPORTS}caseload/").status_code == 401
