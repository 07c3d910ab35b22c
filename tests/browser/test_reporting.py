"""A manager reads the dashboard in real Chromium: period change, charts drawn, drill-down."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import CaseFactory, PhysicianFactory
from tests.physicians.factories import InteractionFactory
from tests.reporting.factories import ago

from .conftest import login
from .tablet import demo_page, overflow, seed_demo

pytestmark = pytest.mark.django_db(transaction=True)

CANVAS_HAS_PIXELS = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { return true; } }
  return false;
}"""


def test_manager_changes_the_period_sees_charts_and_follows_a_number(page, manager, msl, nurse, cl_team):
    physician = PhysicianFactory(last_name="Referrer", kol_tier=1, owner=msl, last_interaction_at=ago(3))
    InteractionFactory(msl=msl, physician=physician, occurred_at=ago(3))
    InteractionFactory(msl=msl, physician=physician, occurred_at=ago(60), channel="phone")
    CaseFactory(assigned_liaison=nurse, referral_physician=physician, referral_received_at=ago(5), evaluated_at=ago(4))
    CaseFactory(assigned_liaison=nurse, referral_physician=physician, referral_received_at=ago(50))

    login(page, "manager")
    assert urlsplit(page.url).path == "/reporting/"
    page.get_by_role("heading", name="Where the two sides meet").wait_for()

    # Change the period: a preset applies at once and lands in the URL.
    page.get_by_label("Period").select_option("30d")
    page.wait_for_url("**/reporting/?*range=30d*")
    assert "range=30d" in page.url

    funnel_canvas = page.locator('canvas[data-chart="chart-data-referral_funnel"]')
    funnel_canvas.wait_for()
    page.wait_for_function("document.querySelector('canvas[data-chart]').dataset.rendered === 'true'")
    assert funnel_canvas.evaluate(CANVAS_HAS_PIXELS)

    # The MSL tab keeps the filters and draws its stacked weekly chart too.
    page.get_by_role("link", name="Medical affairs").click()
    page.wait_for_url("**/reporting/msl/?*range=30d*")
    weekly = page.locator('canvas[data-chart="chart-data-interactions_by_week"]')
    page.wait_for_function(
        "[...document.querySelectorAll('canvas[data-chart]')].every(c => c.dataset.rendered === 'true')"
    )
    assert weekly.evaluate(CANVAS_HAS_PIXELS)

    # Back to the overview; the joined table's referral count leads to the filtered worklist.
    page.get_by_role("link", name="Overview").click()
    page.wait_for_url("**/reporting/?*")
    row = page.locator("#widget-referrers_engagement tbody tr", has_text="Referrer")
    referrals = row.locator("td a[data-drill]").first
    assert referrals.inner_text().strip() == "1"  # only the referral within the last 30 days
    referrals.click()
    page.wait_for_url("**/patients/?*")
    url = urlsplit(page.url)
    assert url.path == "/patients/"
    params = parse_qs(url.query)
    assert params["referral_physician"] == [str(physician.pk)]
    assert params["date_from"] and params["date_to"]


def test_manager_narrows_the_dashboard_to_a_person_through_the_picker(page, manager, msl, msl_teammate, nurse):
    msl_teammate.first_name, msl_teammate.last_name = "Quilla", "Vandermeer"
    msl_teammate.save()
    InteractionFactory(msl=msl, occurred_at=ago(3))
    InteractionFactory(msl=msl_teammate, occurred_at=ago(4))
    login(page, "manager")
    page.goto("/reporting/msl/?range=30d")
    # The person filter is a picker: nobody is listed until one types.
    assert page.locator("#id_person option").count() == 1
    control = page.locator("#report-filters .ts-wrapper").filter(has=page.locator("#id_person-ts-control"))
    with page.expect_response(lambda r: "/reporting/lookups/people/" in r.url and r.url.endswith("q=")):
        control.click()  # focusing preloads the list
    with page.expect_response(lambda r: "/reporting/lookups/people/" in r.url and "q=Vand" in r.url):
        page.locator("#id_person-ts-control").press_sequentially("Vand")
    page.locator(".ts-dropdown .option", has_text="Quilla Vandermeer (MA East)").click()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/reporting/msl/?*person={msl_teammate.pk}*")
    per_msl = page.locator("#widget-interactions_per_msl tbody")
    assert per_msl.get_by_text("Quilla Vandermeer").is_visible()
    assert msl.get_full_name() not in per_msl.inner_text()
    # The chosen person stays chosen on the page it led to.
    assert page.locator("#id_person option:checked").inner_text() == "Quilla Vandermeer (MA East)"


@pytest.mark.parametrize("username", ["manager", "msl", "nurse"])
def test_no_dashboard_is_wider_than_a_tablet(browser, live_server, username):
    seed_demo()
    page = demo_page(browser, live_server, username)
    wide = {}
    for url in ("/reporting/", "/reporting/msl/", "/reporting/clinical/", "/reporting/?range=365d"):
        page.goto(url)
        # The charts' table fallbacks are open too: a table must fit (or scroll in its card) when shown.
        page.evaluate("document.querySelectorAll('.report-widget details').forEach((d) => { d.open = true; })")
        if found := overflow(page):
            wide[url] = found
    page.context.close()
    assert not wide, wide
