"""What a dashboard table shows (templates/reporting/widgets/table.html): headers, values, links,
badges, meters, dashes, dates in the site's time zone, and escaping."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.template.loader import render_to_string

from reporting.widgets import Cell


class FakeWidget:
    title = "Referrers <and> friends"
    columns = ["Physician", "Referrals", "Last contact"]


def table(rows) -> str:
    return " ".join(
        render_to_string("reporting/widgets/table.html", {"w": {"widget": FakeWidget(), "rows": rows}}).split()
    )


def test_headers_have_scopes_and_the_caption_names_the_widget():
    html = table([[Cell("Ann"), Cell(1, num=True), Cell(None)]])
    assert '<caption class="visually-hidden">Referrers &lt;and&gt; friends</caption>' in html
    assert '<th scope="col">Physician</th><th scope="col">Referrals</th><th scope="col">Last contact</th>' in html
    assert '<tr><th scope="row" class="fw-normal">Ann</th><td class="text-end">1</td><td>—</td></tr>' in html
    assert html.startswith('<div class="table-responsive">')  # wide tables scroll inside their card


def test_values_are_escaped_and_links_keep_their_query():
    html = table([[Cell("<b>Ann</b>", "/x/?a=1&b=2"), Cell(3, "/y/?q=<z>", num=True), Cell("ok")]])
    assert '<a href="/x/?a=1&amp;b=2" data-drill>&lt;b&gt;Ann&lt;/b&gt;</a>' in html
    assert '<a href="/y/?q=&lt;z&gt;" data-drill>3</a>' in html
    assert "<b>" not in html


def test_a_cell_without_a_value_is_a_dash_and_not_a_link():
    html = table([[Cell("Ann"), Cell(None, "/never/", num=True), Cell("")]])
    assert "/never/" not in html
    assert html.count("—") == 2


def test_zero_is_a_number_and_a_link():
    html = table([[Cell("Ann"), Cell(0, "/zero/", num=True), Cell(0.5, num=True)]])
    assert '<a href="/zero/" data-drill>0</a>' in html
    assert '<td class="text-end">0.5</td>' in html


def test_floats_lose_trailing_zeros():
    assert '<td class="text-end">12</td>' in table([[Cell("A"), Cell(12.0, num=True), Cell(None)]])


def test_flags_and_meters():
    html = table([[Cell("Ann"), Cell(3, bar=10, num=True), Cell(0, flag="No <contact>")]])
    assert '<meter class="report-meter" min="0" max="10" value="3" aria-hidden="true"></meter>' in html
    assert '<span class="badge text-bg-warning ms-1">No &lt;contact&gt;</span>' in html


@pytest.mark.parametrize(
    ("zone", "shown"), [("UTC", "2026-06-05"), ("America/Los_Angeles", "2026-06-04"), ("Asia/Tokyo", "2026-06-05")]
)
def test_timestamps_show_the_day_where_the_site_is(settings, zone, shown):
    settings.TIME_ZONE = zone
    stamp = dt.datetime(2026, 6, 5, 3, 0, tzinfo=dt.UTC)
    html = table([[Cell("Ann"), Cell(1, num=True), Cell(stamp)]])
    assert f"<td>{shown}</td>" in html


def test_dates_are_written_as_iso_days():
    assert "<td>2026-01-09</td>" in table([[Cell("Ann"), Cell(1, num=True), Cell(dt.date(2026, 1, 9))]])


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/reporting/", "/reporting/msl/", "/reporting/clinical/"])
def test_every_dashboard_table_shows_its_rows(page, world, client_for, manager):
    response = client_for(manager).get(page, {"range": "90d"})
    html = response.content.decode()
    tables = [w for w in response.context["widgets"] if w["rows"]]
    assert tables
    for w in tables:
        key = w["widget"].key
        card = html[html.index(f'id="widget-{key}"') :]
        card = card[: card.index("</section>")]
        body = card[card.index("<tbody>") : card.index("</tbody>")]
        assert len(re.findall(r"<tr>", body)) == len(w["rows"]), key
        assert card.count('<th scope="col">') == len(w["widget"].columns), key
        for row in w["rows"]:
            for c in row:
                if c.url and c.value is not None:
                    assert f'href="{c.url.replace("&", "&amp;")}"' in card, (key, c)
