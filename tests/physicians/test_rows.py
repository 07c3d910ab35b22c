"""The rows of the physician, interaction and inquiry lists (template loops): what each row shows,
where it links, its badges, dates in the current time zone, and data that looks like HTML shown as
text."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertInHTML

from physicians.choices import Channel, InquiryPriority, InquiryStatus, KolTier
from tests.factories import InstitutionFactory, MedicalInquiryFactory, PhysicianFactory, ProductFactory, UserFactory
from tests.physicians.factories import InteractionFactory

from .html import body_rows

pytestmark = pytest.mark.django_db

# Not UTC, so that a value's local date differs from its UTC date: 03:30 UTC is the previous
# evening in New York.
ZONE = "America/New_York"
LATE = dt.datetime(2024, 3, 5, 3, 30, 15, 123456, tzinfo=dt.UTC)
ON_THE_SECOND = dt.datetime(2024, 7, 1, 14, 5, tzinfo=dt.UTC)
XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _new_york(settings):
    settings.TIME_ZONE = ZONE


def _page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


# --- physicians -------------------------------------------------------------------------------


def test_a_physician_row_shows_and_links_the_physician(msl, client_for):
    institution = InstitutionFactory(name="Mercy General", city="Boston")
    p = PhysicianFactory(
        first_name="Ann", last_name="Byrne", credentials="MD", npi="1234567893", specialty="Cardiology",
        institution=institution, owner=msl, kol_tier=KolTier.TIER_1, last_interaction_at=LATE,
    )  # fmt: skip
    html = _page(client_for(msl), "/physicians/", scope="all")
    (row,) = body_rows(html)
    assert row.attrs == {}  # an active physician's row is not greyed
    assert row.cells == [
        "Byrne, Ann MD", "1234567893", "Cardiology", "Mercy General Boston", "Tier 1", msl.get_full_name(),
        "2024-03-04",  # New York's date of LATE, not UTC's
    ]  # fmt: skip
    assertInHTML(f'<a href="{reverse("physicians:detail", args=[p.pk])}">Byrne, Ann</a>', html)
    assertInHTML('<span class="badge tier-badge tier-1">Tier 1</span>', html)
    assertInHTML('<time datetime="2024-03-04T22:30:15.123456-05:00">2024-03-04</time>', html)


def test_an_inactive_physician_without_details_shows_dashes_and_never(msl, client_for):
    PhysicianFactory(
        last_name="Quiet", first_name="Q", is_active=False, credentials="", npi=None, specialty="",
        institution=None, owner=None, kol_tier=KolTier.UNRANKED, last_interaction_at=None,
    )  # fmt: skip
    html = _page(client_for(msl), "/physicians/", scope="all")
    (row,) = body_rows(html)
    assert row.attrs == {"class": "text-body-secondary"}
    assert row.cells == ["Quiet, Q inactive", "—", "—", "—", KolTier.UNRANKED.label, "—", "never"]
    assertInHTML('<span class="badge text-bg-secondary">inactive</span>', html)
    assertInHTML(f'<span class="badge tier-badge tier-0">{KolTier.UNRANKED.label}</span>', html)


def test_physician_rows_show_html_in_data_as_text(msl, client_for):
    odd = InstitutionFactory(name="Smith & Sons <Clinic>", city='"Old" Town')
    nameless = UserFactory(username="nameless", first_name="", last_name="")
    PhysicianFactory(
        last_name="O'Brien <b>", first_name='"Ann" & co', credentials="MD <i>x</i>", specialty=XSS,
        institution=odd, owner=nameless, npi=None,
    )  # fmt: skip
    html = _page(client_for(msl), "/physicians/", scope="all")
    (row,) = body_rows(html)
    assert row.cells[0] == 'O\'Brien <b>, "Ann" & co MD <i>x</i>'
    assert row.cells[1:4] == ["—", XSS, 'Smith & Sons <Clinic> "Old" Town']
    assert row.cells[5] == "—"  # an owner without names
    for raw in (XSS, "<b>", "<i>x</i>", "<Clinic>"):
        assert raw not in html
    assert "O&#x27;Brien &lt;b&gt;, &quot;Ann&quot; &amp; co" in html


def test_the_physician_rows_follow_the_sort(msl, client_for):
    # Contacts by msl's team (the factory writes the team's last contact): what msl's list shows.
    PhysicianFactory(last_name="Later", owner=msl, last_interaction_at=ON_THE_SECOND)
    PhysicianFactory(last_name="Earlier", owner=msl, last_interaction_at=LATE)
    html = _page(client_for(msl), "/physicians/", scope="all", sort="-last_interaction_at")
    assert [r.cells[6] for r in body_rows(html)] == ["2024-07-01", "2024-03-04"]


# --- interactions -----------------------------------------------------------------------------


def test_an_interaction_row_shows_and_links_the_visit_and_the_physician(msl, client_for):
    doctor = PhysicianFactory(first_name="Ann", last_name="Byrne")
    visit = InteractionFactory(msl=msl, physician=doctor, occurred_at=LATE, topics="Dosing in CKD")
    html = _page(client_for(msl), "/physicians/interactions/")
    (row,) = body_rows(html)
    assert row.cells == ["2024-03-04 22:30", "Byrne, Ann", "In person", msl.get_full_name(), "Dosing in CKD"]
    url = reverse("physicians:interaction_detail", args=[visit.pk])
    assertInHTML(f'<a href="{url}">2024-03-04 22:30</a>', html)
    assertInHTML(f'<a href="{reverse("physicians:detail", args=[doctor.pk])}">Byrne, Ann</a>', html)


def test_an_unsolicited_request_is_badged_and_long_topics_are_cut(msl, client_for):
    InteractionFactory(
        msl=msl, occurred_at=ON_THE_SECOND, channel=Channel.ADVISORY_BOARD, unsolicited_request=True,
        topics="Long " * 30,
    )  # fmt: skip
    html = _page(client_for(msl), "/physicians/interactions/")
    (row,) = body_rows(html)
    assert row.cells[0] == "2024-07-01 10:05"
    assert row.cells[2] == "Advisory board unsolicited"
    assertInHTML('<span class="badge text-bg-warning">unsolicited</span>', html)
    assert row.cells[4] == "Long " * 15 + "Long…"  # 80 characters, the ellipsis included


def test_interaction_rows_show_html_in_data_as_text(msl, msl_team, client_for):
    odd_msl = UserFactory(username="odd", first_name="Zoë <i>", last_name="D'Arcy & co", team=msl_team)
    doctor = PhysicianFactory(last_name="O'Brien <b>", first_name='"Ann"')
    InteractionFactory(msl=odd_msl, physician=doctor, topics=f"Short {XSS} & more")
    html = _page(client_for(msl), "/physicians/interactions/")
    (row,) = body_rows(html)
    assert row.cells[1] == 'O\'Brien <b>, "Ann"'
    assert row.cells[3] == "Zoë <i> D'Arcy & co"
    assert row.cells[4] == f"Short {XSS} & more"
    for raw in (XSS, "<b>", "<i>", "D'Arcy"):
        assert raw not in html


# --- inquiries --------------------------------------------------------------------------------


def test_an_overdue_urgent_inquiry_row(msl, client_for):
    doctor = PhysicianFactory(first_name="Ann", last_name="Byrne")
    product = ProductFactory(name="Cardiolex")
    inquiry = MedicalInquiryFactory(
        owner=msl, physician=doctor, product=product, priority=InquiryPriority.URGENT, question="Dose in CKD?",
        received_at=LATE - dt.timedelta(days=3), due_at=LATE,
    )  # fmt: skip
    html = _page(client_for(msl), "/physicians/inquiries/")
    (row,) = body_rows(html)
    assert row.attrs == {"class": "row-overdue"}
    assert row.cells == [
        "2024-03-01", "Byrne, Ann", "Dose in CKD?", "Cardiolex", "Urgent", "2024-03-04 overdue", "Open",
        msl.get_full_name(),
    ]  # fmt: skip
    assertInHTML(f'<a href="{reverse("physicians:inquiry_detail", args=[inquiry.pk])}">2024-03-01</a>', html)
    assertInHTML(f'<a href="{reverse("physicians:detail", args=[doctor.pk])}">Byrne, Ann</a>', html)
    assertInHTML('<span class="badge text-bg-danger">Urgent</span>', html)
    assertInHTML('<span class="badge badge-overdue">overdue</span>', html)
    assertInHTML('<span class="badge status-open">Open</span>', html)


def test_inquiries_not_overdue_show_their_status_and_standard_priority(msl, client_for):
    later = timezone.now() + dt.timedelta(days=2)
    MedicalInquiryFactory(owner=msl, product=None, question="Long " * 30, received_at=ON_THE_SECOND, due_at=later)
    # Past due but answered or closed: not overdue.
    for status in (InquiryStatus.ANSWERED, InquiryStatus.CLOSED):
        MedicalInquiryFactory(owner=msl, status=status, received_at=LATE, due_at=LATE)
    html = _page(client_for(msl), "/physicians/inquiries/")
    rows = body_rows(html)
    assert [r.attrs for r in rows] == [{}, {}, {}]
    assert "badge-overdue" not in html
    assert [r.cells[4] for r in rows] == ["Standard"] * 3
    assert [r.cells[6] for r in rows] == ["Open", "Answered", "Closed"]  # open first
    assert rows[0].cells[2] == "Long " * 15 + "Long…" and rows[0].cells[3] == "—"
    for status in InquiryStatus:
        assertInHTML(f'<span class="badge status-{status}">{status.label}</span>', html)


def test_inquiry_rows_show_html_in_data_as_text(msl, msl_team, client_for):
    odd_owner = UserFactory(username="odd", first_name="Zoë <i>", last_name="D'Arcy & co", team=msl_team)
    MedicalInquiryFactory(
        owner=odd_owner, physician=PhysicianFactory(last_name="O'Brien <b>", first_name='"Ann"'),
        product=ProductFactory(name="Cardio <x> & co"), question=f'Dose {XSS} & "HD"?',
    )  # fmt: skip
    html = _page(client_for(msl), "/physicians/inquiries/")
    (row,) = body_rows(html)
    assert row.cells[1:4] == ['O\'Brien <b>, "Ann"', f'Dose {XSS} & "HD"?', "Cardio <x> & co"]
    assert row.cells[7] == "Zoë <i> D'Arcy & co"
    for raw in (XSS, "<b>", "<x>", "D'Arcy", '"HD"'):
        assert raw not in html
