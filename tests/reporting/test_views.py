"""Dashboards and exports over HTTP: roles, scoping, filters, links, CSV, cache and query counts."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.urls import reverse

from liaison_crm.csv_export import csv_safe

pytestmark = pytest.mark.django_db

OVERVIEW = "/reporting/"
MSL_PAGE = "/reporting/msl/"
CLINICAL_PAGE = "/reporting/clinical/"


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body)))


def widget_html(response, key: str) -> str:
    html = response.content.decode()
    start = html.index(f'id="widget-{key}"')
    return html[start : html.find("</section>", start)]


# --- pages and roles ------------------------------------------------------------------------


def test_manager_overview_centres_on_the_joined_report(world, client_for, manager):
    response = client_for(manager).get(OVERVIEW, {"range": "30d"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Where the two sides meet" in html
    # The join comes first on the page, before either side's summary.
    assert html.index('id="widget-referrers_engagement"') < html.index('id="widget-referral_funnel"')
    assert html.index('id="widget-referrers_engagement"') < html.index('id="widget-kol_coverage"')
    joined = widget_html(response, "referrers_engagement")
    assert "Dr. " + world.p1.first_name in joined
    assert "Institution A" in joined


@pytest.mark.parametrize("url", [OVERVIEW, MSL_PAGE, CLINICAL_PAGE])
def test_admin_opens_every_dashboard(world, client_for, admin_user, url):
    assert client_for(admin_user).get(url).status_code == 200


def test_msl_gets_the_personal_msl_side_and_no_patient_figure(world, client_for, msl):
    client = client_for(msl)
    response = client.get(OVERVIEW)
    assert response.status_code == 302 and response["Location"].startswith(MSL_PAGE)
    response = client.get(MSL_PAGE, {"range": "30d"})
    assert response.status_code == 200
    html = response.content.decode()
    for word in ("Referral", "referral", "Caseload", "Admission", "/patients/", "Discharge", "Consent"):
        assert word not in html, word
    assert client.get(CLINICAL_PAGE).status_code == 403
    for key in ("referral_funnel", "caseload", "referrers_engagement", "follow_ups", "top_referring_physicians"):
        assert client.get(reverse("reporting:export", args=[key])).status_code == 403, key


def test_msl_personal_numbers_are_their_own(world, client_for, msl):
    response = client_for(msl).get(MSL_PAGE, {"range": "30d"})
    per_msl = widget_html(response, "interactions_per_msl")
    assert msl.get_full_name() in per_msl
    assert "msl_mate" not in per_msl


def test_liaison_gets_the_personal_clinical_side_only(world, client_for, nurse):
    client = client_for(nurse)
    response = client.get(OVERVIEW)
    assert response.status_code == 302 and response["Location"].startswith(CLINICAL_PAGE)
    assert client.get(CLINICAL_PAGE).status_code == 200
    assert client.get(MSL_PAGE).status_code == 403
    assert client.get(reverse("reporting:export", args=["interactions_per_msl"])).status_code == 403


def test_outsider_manager_sees_nothing_of_other_teams(
    world, client_for, other_manager, msl_team, cl_team, msl, other_msl
):
    client = client_for(other_manager)
    for team in (msl_team, cl_team):
        assert client.get(OVERVIEW, {"team": team.pk}).status_code == 404
        assert client.get(reverse("reporting:export", args=["follow_ups"]), {"team": team.pk}).status_code == 404
    assert client.get(OVERVIEW, {"person": msl.pk}).status_code == 404
    response = client.get(OVERVIEW, {"range": "30d"})
    html = response.content.decode()
    assert world.p1.last_name not in html and msl.get_full_name() not in html
    rows = read_csv(client.get(reverse("reporting:export", args=["follow_ups"]), {"range": "30d"}))
    assert [r[0] for r in rows[1:]] == [other_msl.get_full_name()]


def test_anonymous_is_sent_to_login(client):
    response = client.get(OVERVIEW)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- filters ----------------------------------------------------------------------------------


def test_presets_set_the_period(world, client_for, manager):
    client = client_for(manager)
    expectations = {
        "30d": ("2026-05-17", "2026-06-15"),
        "90d": ("2026-03-18", "2026-06-15"),
        "365d": ("2025-06-16", "2026-06-15"),
        "quarter": ("2026-04-01", "2026-06-15"),
    }
    for key, (start, end) in expectations.items():
        scope = client.get(OVERVIEW, {"range": key}).context["scope"]
        assert (scope.date_from.isoformat(), scope.date_to.isoformat()) == (start, end), key


def test_custom_range_changes_the_numbers(world, client_for, manager):
    client = client_for(manager)
    response = client.get(CLINICAL_PAGE, {"range": "custom", "date_from": "2026-06-06", "date_to": "2026-06-15"})
    funnel = next(w for w in response.context["widgets"] if w["widget"].key == "referral_funnel")
    assert funnel["data"]["referred"] == 2  # c3 (9 June) and c4 (13 June); not c2 (5 June)


def test_bad_custom_range_falls_back_with_a_message(world, client_for, manager):
    response = client_for(manager).get(
        OVERVIEW, {"range": "custom", "date_from": "2026-06-10", "date_to": "2026-06-01"}
    )
    assert response.status_code == 200
    assert "The start date must be on or before the end date." in response.content.decode()
    assert response.context["scope"].range_key == "90d"


def test_team_filter_narrows_its_side(world, client_for, manager, admin_user, msl_team, other_msl_team):
    response = client_for(admin_user).get(MSL_PAGE, {"range": "30d", "team": other_msl_team.pk})
    weeks = next(w for w in response.context["widgets"] if w["widget"].key == "interactions_by_week")
    assert weeks["data"]["total"] == 1
    response = client_for(manager).get(MSL_PAGE, {"range": "30d", "team": msl_team.pk})
    weeks = next(w for w in response.context["widgets"] if w["widget"].key == "interactions_by_week")
    assert weeks["data"]["total"] == 3


def test_person_filter(world, client_for, manager, msl_teammate):
    response = client_for(manager).get(MSL_PAGE, {"range": "30d", "person": msl_teammate.pk})
    per_msl = next(w for w in response.context["widgets"] if w["widget"].key == "interactions_per_msl")
    assert [r["msl_id"] for r in per_msl["data"]] == [msl_teammate.pk]


# --- drill-down links -----------------------------------------------------------------------


def test_numbers_link_to_their_filtered_lists(world, client_for, manager, cl_team):
    response = client_for(manager).get(OVERVIEW, {"range": "30d", "team": cl_team.pk})
    joined = next(w for w in response.context["widgets"] if w["widget"].key == "referrers_engagement")
    first = joined["rows"][0]
    referrals, interactions = first[4], first[6]
    url = urlsplit(referrals.url)
    assert url.path == "/patients/"
    assert parse_qs(url.query) == {
        "date_from": ["2026-05-17"],
        "date_to": ["2026-06-15"],
        "team": [str(cl_team.pk)],
        "referral_physician": [str(world.p1.pk)],
    }
    url = urlsplit(interactions.url)
    assert url.path == "/physicians/interactions/"
    assert parse_qs(url.query)["physician"] == [str(world.p1.pk)]
    assert f'href="{referrals.url.replace("&", "&amp;")}"' in response.content.decode()

    follow = next(w for w in response.context["widgets"] if w["widget"].key == "follow_ups")
    overdue = urlsplit(follow["rows"][0][4].url)
    assert overdue.path == reverse("outreach:follow_ups")
    assert parse_qs(overdue.query)["state"] == ["overdue"]


def test_kol_rows_link_to_each_physician(world, client_for, manager):
    response = client_for(manager).get(reverse("reporting:msl"), {"range": "365d"})
    kols = next(w for w in response.context["widgets"] if w["widget"].key == "kols_not_reached")
    ids = [r["physician_id"] for r in kols["data"]]
    assert len(ids) == 3
    assert [row[0].url for row in kols["rows"]] == [f"/physicians/{pk}/" for pk in ids]
    assert all(f'href="/physicians/{pk}/"' in response.content.decode() for pk in ids)


# --- CSV ------------------------------------------------------------------------------------


def test_csv_export_has_every_row_with_the_same_filters(world, client_for, manager):
    response = client_for(manager).get(reverse("reporting:export", args=["referrers_engagement"]), {"range": "30d"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="referrers_engagement_2026-05-17_2026-06-15.csv"' in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == [
        "Physician",
        "Institution",
        "Tier",
        "Owning MSL",
        "Referrals",
        "Admissions",
        "MSL interactions",
        "Last MSL contact",
    ]
    assert [r[4:7] for r in rows[1:]] == [["2", "2", "2"], ["1", "0", "1"]]
    assert rows[1][7].startswith("2026-06-05")

    shorter = read_csv(
        client_for(manager).get(
            reverse("reporting:export", args=["referrers_engagement"]),
            {"range": "custom", "date_from": "2026-06-08", "date_to": "2026-06-15"},
        )
    )
    assert [r[4] for r in shorter[1:]] == ["1"]  # only Three's declined referral of 9 June


def test_every_widget_exports(world, client_for, admin_user):
    from reporting.widgets import REGISTRY

    client = client_for(admin_user)
    for key, widget in REGISTRY.items():
        rows = read_csv(client.get(reverse("reporting:export", args=[key]), {"range": "30d"}))
        assert rows[0] == list(widget.columns), key
        assert len(rows) > 1, key


def test_unknown_export_is_404(client_for, manager):
    assert client_for(manager).get("/reporting/export/nope.csv").status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Dr. Ann", "Dr. Ann"),
        (-3, -3),
        (None, ""),
    ],
)
def test_csv_cells_cannot_be_formulas(value, expected):
    assert csv_safe(value) == expected


def test_formula_in_data_is_neutralised_in_the_export(world, client_for, manager):
    world.inst_a.name = "=cmd|' /C calc'!A0"
    world.inst_a.save()
    rows = read_csv(
        client_for(manager).get(reverse("reporting:export", args=["top_referring_institutions"]), {"range": "30d"})
    )
    assert rows[1][0] == "'=cmd|' /C calc'!A0"


# --- charts ---------------------------------------------------------------------------------


def test_charts_carry_json_data_and_a_table_fallback(world, client_for, manager):
    response = client_for(manager).get(CLINICAL_PAGE, {"range": "30d"})
    html = response.content.decode()
    assert '<script id="chart-data-referral_funnel" type="application/json">' in html
    assert 'data-chart="chart-data-referral_funnel"' in html
    funnel = widget_html(response, "referral_funnel")
    # The table of the chart's figures is not on the page: it loads when its <details> opens.
    table_url = reverse("reporting:widget_table", args=["referral_funnel"]) + "?range=30d"
    assert "<table" not in funnel
    assert re.search(rf'<details[^>]*hx-get="{re.escape(table_url)}"[^>]*hx-trigger="toggle once"', funnel)
    assert "<script>" not in html  # no inline code


def test_a_charts_table_of_figures_is_the_widgets_rows_with_the_same_filters(
    world, client_for, manager, django_assert_num_queries
):
    client = client_for(manager)
    client.get(CLINICAL_PAGE, {"range": "30d"})  # fills the widgets' cache, as opening the page does
    url = reverse("reporting:widget_table", args=["referral_funnel"])
    with django_assert_num_queries(4):  # session, user, session update, managed teams: the data is cached
        response = client.get(url, {"range": "30d"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="table-responsive">')
    page = client.get(CLINICAL_PAGE, {"range": "30d"})
    funnel = next(w for w in page.context["widgets"] if w["widget"].key == "referral_funnel")
    rows = list(funnel["widget"].rows(funnel["data"], page.context["scope"]))
    heads = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r'<th scope="row"[^>]*>(.*?)</th>', html)]
    assert heads == [str(row[0].value) for row in rows] and len(heads) >= 5


def test_a_charts_table_of_figures_keeps_to_the_users_scope(world, client_for, msl, nurse, other_manager):
    url = reverse("reporting:widget_table", args=["referral_funnel"])
    assert client_for(msl).get(url).status_code == 403  # a clinical figure
    assert client_for(nurse).get(reverse("reporting:widget_table", args=["no_such_widget"])).status_code == 404
    # Another team's case is not counted in the other manager's table.
    assert client_for(other_manager).get(url, {"range": "30d"}).status_code == 200


def test_drill_links_follow_the_script_prefix(world, client_for, manager):
    from django.urls import set_script_prefix

    from reporting.links import list_url

    assert list_url("physicians:interactions", msl=3) == "/physicians/interactions/?msl=3"
    try:
        set_script_prefix("/crm/")
        assert list_url("physicians:interactions", msl=3) == "/crm/physicians/interactions/?msl=3"
    finally:
        set_script_prefix("/")


# --- cache ----------------------------------------------------------------------------------


def test_widget_results_are_cached_per_scope(world, client_for, manager, other_manager, django_assert_num_queries):
    client = client_for(manager)
    first = client.get(MSL_PAGE, {"range": "30d"})
    with django_assert_num_queries(5):
        # Cached widgets: only the request's own queries remain (see test_query_counts.BASE).
        second = client.get(MSL_PAGE, {"range": "30d"})
    assert [w["data"] for w in first.context["widgets"]] == [w["data"] for w in second.context["widgets"]]
    # Another manager's scope has its own cache entries: their numbers, not ours.
    response = client_for(other_manager).get(MSL_PAGE, {"range": "30d"})
    weeks = next(w for w in response.context["widgets"] if w["widget"].key == "interactions_by_week")
    assert weeks["data"]["total"] == 1
    # Another period is another cache entry.
    response = client.get(MSL_PAGE, {"range": "custom", "date_from": "2026-06-14", "date_to": "2026-06-15"})
    weeks = next(w for w in response.context["widgets"] if w["widget"].key == "interactions_by_week")
    assert weeks["data"]["total"] == 0
    cache.clear()


def test_a_referrer_without_msl_contact_is_flagged(world, client_for, manager, nurse):
    from tests.factories import CaseFactory

    CaseFactory(assigned_liaison=nurse, referral_physician=world.p4, referral_received_at=world.c4.referral_received_at)
    response = client_for(manager).get(OVERVIEW, {"range": "30d"})
    joined = widget_html(response, "referrers_engagement")
    row = joined[joined.index(world.p4.last_name) :]
    row = row[: row.index("</tr>")]
    assert "No MSL contact" in row
    assert joined.count("No MSL contact") == 1


def test_msl_cannot_ask_for_another_team(world, client_for, msl, other_msl_team, other_msl):
    client = client_for(msl)
    assert client.get(MSL_PAGE, {"team": other_msl_team.pk}).status_code == 404
    assert client.get(MSL_PAGE, {"person": other_msl.pk}).status_code == 404
    rows = read_csv(client.get(reverse("reporting:export", args=["interactions_per_msl"]), {"range": "30d"}))
    assert [r[0] for r in rows[1:]] == [msl.get_full_name()]


def test_the_overview_lists_its_joined_widgets_together_under_one_heading(world, client_for, manager):
    from reporting.widgets import PAGES, REGISTRY

    joined = [REGISTRY[key].is_joined for key in PAGES["overview"]]
    assert joined == sorted(joined, reverse=True), "the joined widgets come first, together"
    html = client_for(manager).get(OVERVIEW).content.decode()
    assert html.count("Where the two sides meet") == 1
