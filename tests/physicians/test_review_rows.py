"""{% insight_review_rows %} (the review queue's cards) and {% insight_review_row %} (one card, the
htmx response of a review action) write the markup the card template wrote, for every branch."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape

from physicians.choices import InsightStatus, Theme
from tests.factories import PhysicianFactory, ProductFactory, UserFactory
from tests.physicians.factories import InsightFactory
from tests.physicians.test_list_rows import LATE, ON_THE_SECOND, ZONE
from tests.test_ui_tags import tree

pytestmark = pytest.mark.django_db

# physicians/_insight_review_row.html as it was (included once a card before the tags): the reference.
CARD_REFERENCE = Template(
    """{% load ui %}<div class="card mb-2" id="insight-{{ insight.pk }}">
  <div class="card-body">
    <div class="d-flex flex-wrap justify-content-between gap-2">
      <div>
        <a class="fw-semibold" href="{% pk_url 'physicians:insight_detail' insight.pk %}">{{ insight.get_theme_display }}{% if insight.product %} · {{ insight.product.name }}{% endif %}</a>
        <span class="badge status-{{ insight.status }}">{{ insight.get_status_display }}</span>
        <div class="small text-body-secondary">{{ insight.physician.display_name }} · {{ insight.captured_by.get_full_name }} · {{ insight.captured_at|date:"Y-m-d" }}</div>
      </div>
    </div>
    <p class="mb-2 mt-1">{{ insight.text|truncatechars:400 }}</p>
    {% if insight.review_note %}<p class="small mb-2"><strong>Review note:</strong> {{ insight.review_note }}</p>{% endif %}
    {% if error %}<div class="alert alert-danger py-1 small" role="alert">{{ error }}</div>{% endif %}
    {% if insight.status == "new" or insight.status == "under_review" or insight.status == "actioned" %}
      <form method="post" action="{% pk_url 'physicians:insight_transition' insight.pk %}" hx-post="{% pk_url 'physicians:insight_transition' insight.pk %}" hx-target="#insight-{{ insight.pk }}" hx-swap="outerHTML" class="row g-2 align-items-end">
        {% csrf_token %}
        <div class="col-md-8"><label class="form-label small" for="note-{{ insight.pk }}">Review note</label>
          <textarea id="note-{{ insight.pk }}" name="note" rows="1" class="form-control form-control-sm"></textarea></div>
        <div class="col-md-4 d-flex flex-wrap gap-1">
          {% if insight.status == "new" %}<button class="btn btn-sm btn-outline-primary" name="to" value="under_review">Start review</button>{% endif %}
          {% if insight.status == "under_review" %}<button class="btn btn-sm btn-primary" name="to" value="actioned">Actioned</button>
            <button class="btn btn-sm btn-outline-secondary" name="to" value="closed" data-confirm="Close this insight without action?">Close</button>{% endif %}
          {% if insight.status == "actioned" %}<button class="btn btn-sm btn-outline-secondary" name="to" value="closed">Close</button>{% endif %}
        </div>
      </form>
    {% endif %}
  </div>
</div>
"""
)
# The queue's loop as it was.
QUEUE_REFERENCE = Template("{% for insight in page_obj %}{% include card %}{% endfor %}")
QUEUE_TAG = Template("{% load physician_tags %}{% insight_review_rows page_obj %}")
CARD = "physicians/_insight_review_row.html"
TOKEN = "tok<en>"
ERROR = 'Not <now> & "then"'
BLOCKS = re.compile(r' ?(</?(?:div|p|form)\b[^>]*>|<input type="hidden"[^>]*>) ?')


def _compact(html: str) -> str:
    """The reference without the template's line breaks and indentation: one space where they
    separated inline content (a browser shows it), none next to a block or a hidden input."""
    return BLOCKS.sub(r"\1", re.sub(r"\s*\n\s*", " ", html)).strip()


def _card(insight, **context) -> tuple[str, str]:
    """(the card template's markup, the reference's) for one insight."""
    context = {"insight": insight, **context}
    return get_template(CARD).render(context), CARD_REFERENCE.render(Context(context))


@pytest.fixture
def captor(msl_team):
    return UserFactory(username="odd", first_name="Zoë <i>", last_name="D'Arcy & co", team=msl_team)


@pytest.fixture
def insights(msl, captor):
    doctor = PhysicianFactory(first_name='"Ann"', last_name="O'Brien <b>", credentials="MD <i>x</i>")
    product = ProductFactory(name="Cardio <x> & co")
    plain = PhysicianFactory(first_name="Bo", last_name="Plain", credentials="")
    return [
        # Captured late in the UTC day: the day before, in New York.
        InsightFactory(captured_by=captor, physician=doctor, product=product, theme=Theme.SAFETY,
                       text="Bleeds <more> & \"often\"", captured_at=LATE),
        InsightFactory(captured_by=msl, physician=plain, product=None, theme=Theme.DOSING,
                       status=InsightStatus.UNDER_REVIEW, review_note="Ask <them> & \"why\"", text="Long " * 100,
                       captured_at=ON_THE_SECOND),
        InsightFactory(captured_by=msl, physician=plain, status=InsightStatus.UNDER_REVIEW, review_note="",
                       text="e\u0301" * 399 + "x", captured_at=timezone.now()),
        # Not in the queue (its statuses are new and under review), but a card after a review action.
        InsightFactory(captured_by=captor, physician=doctor, product=product, status=InsightStatus.ACTIONED,
                       review_note="Done <it>", captured_at=LATE),
        InsightFactory(captured_by=msl, physician=plain, status=InsightStatus.CLOSED, review_note="Closed <it>",
                       text="", captured_at=ON_THE_SECOND),
    ]  # fmt: skip


@pytest.mark.parametrize("error", [None, "", ERROR])
@pytest.mark.parametrize("token", [TOKEN, None, "NOTPROVIDED"])
def test_every_card_is_the_reference_markup(insights, error, token, django_assert_num_queries):
    assert {i.status for i in insights} == set(InsightStatus)
    with timezone.override(ZONE):
        for insight in insights:
            with django_assert_num_queries(0):  # everything it shows was read with the insight
                ours, reference = _card(insight, error=error, csrf_token=token)
            assert tree(ours) == tree(reference), insight.status
            assert ours == _compact(reference) + "\n", insight.status  # byte for byte, but the indentation


def test_cards_show_each_status_s_form_and_the_local_date(insights):
    with timezone.override(ZONE):
        new, under_review, _, actioned, closed = (_card(i, csrf_token=TOKEN)[0] for i in insights)
    assert 'value="under_review">Start review</button>' in new and ">Close</button>" not in new
    assert 'value="actioned">Actioned</button> <button' in under_review  # apart, as the template had them
    assert 'data-confirm="Close this insight without action?">Close</button>' in under_review
    assert 'value="closed">Close</button>' in actioned and "Actioned</button>" not in actioned
    assert "<form" not in closed and "csrfmiddlewaretoken" not in closed and "Closed &lt;it&gt;" in closed
    assert "· 2024-03-04</div>" in new  # New York's date of LATE, not UTC's
    assert '</a> <span class="badge status-new">New</span>' in new
    assert "Long " * 79 + "Long…</p>" in under_review  # 400 characters, the ellipsis included
    for card, insight in zip((new, under_review, actioned), insights[:2] + insights[3:4], strict=True):
        url = reverse("physicians:insight_transition", args=[insight.pk])
        assert f'<form method="post" action="{url}" hx-post="{url}" hx-target="#insight-{insight.pk}"' in card
        assert card.count('<input type="hidden" name="csrfmiddlewaretoken" value="tok&lt;en&gt;">') == 1


def test_cards_escape_every_value(insights):
    html = "".join(_card(i, error=ERROR, csrf_token=TOKEN)[0] for i in insights)
    for raw in ("<b>", "<i>", "<x>", "<more>", "<them>", "<it>", "<now>", "<en>", "O'Brien", "D'Arcy", '"often"'):
        assert raw not in html
    assert (
        "Dr. &quot;Ann&quot; O&#x27;Brien &lt;b&gt;, MD &lt;i&gt;x&lt;/i&gt; · Zoë &lt;i&gt; D&#x27;Arcy &amp; co"
        in html
    )
    assert "Safety · Cardio &lt;x&gt; &amp; co</a>" in html and "Bleeds &lt;more&gt; &amp; &quot;often&quot;" in html
    assert "<strong>Review note:</strong> Ask &lt;them&gt; &amp; &quot;why&quot;</p>" in html
    assert (
        '<div class="alert alert-danger py-1 small" role="alert">Not &lt;now&gt; &amp; &quot;then&quot;</div>' in html
    )


def test_a_card_without_a_form_does_not_read_the_csrf_token(insights):
    """As {% csrf_token %}: the lazy token (which asks for the CSRF cookie) is read only for a form."""
    untouchable = SimpleLazyObject(lambda: pytest.fail("the csrf token was read"))
    ours, reference = _card(insights[-1], csrf_token=untouchable)
    assert ours == _compact(reference) + "\n"


def test_the_queue_is_the_reference_markup(insights, manager, client_for):
    with timezone.override(ZONE):
        response = client_for(manager).get("/physicians/insights/review/")
        assert response.status_code == 200
        context = Context(
            {
                "page_obj": response.context["page_obj"],
                "csrf_token": response.context["csrf_token"],
                "card": CARD_REFERENCE,
            }
        )
        ours, reference = QUEUE_TAG.render(context), QUEUE_REFERENCE.render(context)
    assert ours.count('<div class="card mb-2"') == 3  # new and under review
    assert tree(ours) == tree(reference)
    assert ours == _compact(reference)  # byte for byte, but the indentation
    assert ours in response.content.decode()
    token = str(response.context["csrf_token"])
    assert ours.count(f'name="csrfmiddlewaretoken" value="{token}"') == 3
    assert "&lt;b&gt;" in ours and "<b>" not in ours


@pytest.mark.parametrize(
    ("start", "to", "note", "status"),
    [
        (InsightStatus.NEW, "under_review", "", 200),
        (InsightStatus.UNDER_REVIEW, "actioned", "", 422),  # a review note is required: the card shows the error
        (InsightStatus.UNDER_REVIEW, "actioned", "Sent to <medical> & co", 200),
        (InsightStatus.ACTIONED, "closed", "No more <news>", 200),
        (InsightStatus.CLOSED, "under_review", "", 422),  # a closed card (no form) with the error
    ],
)
def test_the_htmx_card_is_the_reference_markup(start, to, note, status, captor, manager, client_for):
    insight = InsightFactory(captured_by=captor, status=start, product=ProductFactory(name="P <1>"), captured_at=LATE)
    with timezone.override(ZONE):
        response = client_for(manager).post(
            reverse("physicians:insight_transition", args=[insight.pk]),
            {"to": to, "note": note},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == status
        context = Context({key: response.context[key] for key in ("insight", "error", "csrf_token")})
        reference = CARD_REFERENCE.render(context)
    html = response.content.decode()
    assert tree(html) == tree(reference)
    assert html == _compact(reference) + "\n"
    assert html.startswith(f'<div class="card mb-2" id="insight-{insight.pk}">')
    assert ("alert-danger" in html) == (status == 422)
    if note:
        assert f"<strong>Review note:</strong> {escape(note)}</p>" in html and "<medical>" not in html
