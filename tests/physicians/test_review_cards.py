"""The insight review queue's cards (one partial, physicians/_insight_review_row.html, that the
queue's loop includes and a review action answers with over htmx): what a card shows, its review
form for each status, and data that looks like HTML shown as text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from pytest_django.asserts import assertHTMLEqual, assertInHTML

from physicians.choices import InsightStatus, Theme
from tests.factories import PhysicianFactory, ProductFactory, UserFactory
from tests.physicians.factories import InsightFactory

from .html import element

pytestmark = pytest.mark.django_db

ZONE = "America/New_York"
LATE = dt.datetime(2024, 3, 5, 3, 30, tzinfo=dt.UTC)  # the evening of 4 March in New York
XSS = "<script>alert(1)</script>"
QUEUE = "/physicians/insights/review/"
TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


@pytest.fixture(autouse=True)
def _new_york(settings):
    settings.TIME_ZONE = ZONE


@pytest.fixture
def captor(msl_team):
    return UserFactory(username="captor", first_name="Zoë", last_name="Arcy", team=msl_team)


def _transition(client, insight, to: str, note: str = ""):
    return client.post(
        reverse("physicians:insight_transition", args=[insight.pk]), {"to": to, "note": note}, HTTP_HX_REQUEST="true"
    )


def _buttons(card: str) -> list[tuple[str, str]]:
    """(value, text) of each button of the card's form."""
    return re.findall(r'<button[^>]*value="([^"]+)"[^>]*>([^<]+)</button>', card)


def test_the_queue_shows_new_and_under_review_insights_oldest_first(manager, captor, client_for):
    doctor = PhysicianFactory(first_name="Ann", last_name="Byrne", credentials="MD")
    product = ProductFactory(name="Cardiolex")
    first = InsightFactory(
        captured_by=captor, physician=doctor, product=product, theme=Theme.SAFETY, captured_at=LATE,
        text="Bleeds more often",
    )  # fmt: skip
    second = InsightFactory(
        captured_by=captor, physician=doctor, product=None, theme=Theme.DOSING, captured_at=LATE + dt.timedelta(days=1),
        status=InsightStatus.UNDER_REVIEW, review_note="Asked the team", text="Long " * 100,
    )  # fmt: skip
    InsightFactory(captured_by=captor, status=InsightStatus.ACTIONED)
    InsightFactory(captured_by=captor, status=InsightStatus.CLOSED)
    html = client_for(manager).get(QUEUE).content.decode()
    assert re.findall(r'<div class="card mb-2" id="insight-(\d+)"', html) == [str(first.pk), str(second.pk)]

    card = element(html, f"insight-{first.pk}")
    url = reverse("physicians:insight_detail", args=[first.pk])
    assertInHTML(f'<a class="fw-semibold" href="{url}">Safety · Cardiolex</a>', card)
    assertInHTML('<span class="badge status-new">New</span>', card)
    # The physician, who captured it, and the local date (not UTC's 5 March).
    assertInHTML('<div class="small text-body-secondary">Dr. Ann Byrne, MD · Zoë Arcy · 2024-03-04</div>', card)
    assertInHTML('<p class="mb-2 mt-1">Bleeds more often</p>', card)
    assert "Review note:" not in card
    assert _buttons(card) == [("under_review", "Start review")]

    card = element(html, f"insight-{second.pk}")
    assertInHTML(f'<a class="fw-semibold" href="{reverse("physicians:insight_detail", args=[second.pk])}">'
                 "Dosing and administration</a>", card)  # fmt: skip
    assertInHTML('<p class="small mb-2"><strong>Review note:</strong> Asked the team</p>', card)
    assertInHTML(f'<p class="mb-2 mt-1">{"Long " * 79}Long…</p>', card)  # 400 characters, the ellipsis included
    assert _buttons(card) == [("actioned", "Actioned"), ("closed", "Close")]
    assert 'data-confirm="Close this insight without action?"' in card


def test_each_card_posts_its_own_review_and_loads_its_own_labelled_note(manager, captor, client_for):
    insights = InsightFactory.create_batch(3, captured_by=captor)
    client = client_for(manager)
    response = client.get(QUEUE)
    html = response.content.decode()
    token = str(response.context["csrf_token"])
    # The queue renders no note field: each card's loads when its "Review note" is opened.
    assert "<textarea" not in html
    notes = set()
    for insight in insights:
        card = element(html, f"insight-{insight.pk}")
        url = reverse("physicians:insight_transition", args=[insight.pk])
        assert (
            f'<form method="post" action="{url}" hx-post="{url}" hx-target="#insight-{insight.pk}" hx-swap="outerHTML"'
            in card
        )
        assert card.count('name="csrfmiddlewaretoken"') == 1 and token
        assert re.search(rf'<details[^>]*hx-get="{url}"[^>]*hx-trigger="toggle once"', card)
        field = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        note = f"review-{insight.pk}-note"
        assert re.search(rf'<label\s+for="{note}"[^>]*>\s*Review note', field)
        assert re.search(rf'<textarea name="note"[^>]*id="{note}"', field)
        notes.add(note)
    assert len(notes) == 3  # no id twice on the page, whichever notes are opened


def test_the_note_field_is_for_the_managers_of_the_insight_s_team(manager, other_manager, msl, captor, client_for):
    insight = InsightFactory(captured_by=captor)
    url = reverse("physicians:insight_transition", args=[insight.pk])
    assert client_for(manager).get(url).status_code == 200
    assert client_for(other_manager).get(url).status_code == 404
    assert client_for(msl).get(url).status_code == 403


def test_a_review_action_answers_with_the_card_as_the_queue_shows_it(manager, captor, client_for):
    insight = InsightFactory(captured_by=captor, product=ProductFactory(name="Cardiolex"), captured_at=LATE)
    client = client_for(manager)
    in_queue = element(client.get(QUEUE).content.decode(), f"insight-{insight.pk}")

    refused = _transition(client, insight, "closed")  # a new insight is reviewed before it is closed
    assert refused.status_code == 422
    alert = re.search(r'<div class="alert alert-danger py-1 small" role="alert">[^<]*</div>', refused.content.decode())
    assert alert and "An insight that is new cannot be moved to" in alert[0]
    alert = alert[0]
    # The same card (one partial), the error added and its note field shown, ready for the note.
    shown = re.search(r'<div class="col-md-8">.*?</textarea>\s*</div>\s*</div>', refused.content.decode(), re.S)[0]
    folded = re.search(r'<details class="col-md-8 mb-3 review-note".*?</details>', in_queue, re.S)[0]
    assertHTMLEqual(
        TOKEN.sub(r"\1\2", refused.content.decode().replace(alert, "").replace(shown, "")),
        TOKEN.sub(r"\1\2", in_queue.replace(folded, "")),
    )

    moved = _transition(client, insight, "under_review")
    assert moved.status_code == 200
    html = moved.content.decode()
    assert html.lstrip().startswith(f'<div class="card mb-2" id="insight-{insight.pk}">')
    assertInHTML('<span class="badge status-under_review">Under review</span>', html)
    assert _buttons(html) == [("actioned", "Actioned"), ("closed", "Close")]
    assert "alert-danger" not in html

    refused = _transition(client, insight, "actioned", "   ")  # without a review note
    assert refused.status_code == 422
    assert "Write a review note" in refused.content.decode()
    assert re.search(rf'<textarea name="note"[^>]*id="review-{insight.pk}-note"', refused.content.decode())

    actioned = _transition(client, insight, "actioned", "Sent to the medical team")
    html = actioned.content.decode()
    assert actioned.status_code == 200 and _buttons(html) == [("closed", "Close")]
    assertInHTML('<p class="small mb-2"><strong>Review note:</strong> Sent to the medical team</p>', html)

    closed = _transition(client, insight, "closed")
    html = closed.content.decode()
    assert closed.status_code == 200
    assertInHTML('<span class="badge status-closed">Closed</span>', html)
    assert "<form" not in html and "csrfmiddlewaretoken" not in html  # nothing left to do


def test_cards_show_html_in_data_as_text(manager, msl_team, client_for):
    odd = UserFactory(username="odd", first_name="Zoë <i>", last_name="D'Arcy & co", team=msl_team)
    doctor = PhysicianFactory(first_name='"Ann"', last_name="O'Brien <b>", credentials="MD <i>x</i>")
    InsightFactory(
        captured_by=odd, physician=doctor, product=ProductFactory(name="Cardio <x> & co"),
        status=InsightStatus.UNDER_REVIEW, text=f"Bleeds {XSS} & \"often\"", review_note="Ask <them>",
    )  # fmt: skip
    html = client_for(manager).get(QUEUE).content.decode()
    for raw in (XSS, "<b>", "<i>", "<x>", "<them>", "O'Brien", "D'Arcy"):
        assert raw not in html
    assert (
        "Dr. &quot;Ann&quot; O&#x27;Brien &lt;b&gt;, MD &lt;i&gt;x&lt;/i&gt; · Zoë &lt;i&gt; D&#x27;Arcy &amp; co"
        in html
    )
    assert "Efficacy · Cardio &lt;x&gt; &amp; co</a>" in html
    assert "Bleeds &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;often&quot;" in html
