"""{% physician_rows %} and {% interaction_rows %} write the markup the list templates' row loops
wrote, for every branch of those loops."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone

from physicians.choices import Channel, KolTier
from tests.factories import InstitutionFactory, PhysicianFactory, UserFactory
from tests.physicians.factories import InteractionFactory
from tests.test_ui_tags import tree

pytestmark = pytest.mark.django_db

# The loops as they were in the templates (before the tags): the reference markup.
PHYSICIANS_REFERENCE = Template(
    """{% load ui %}{% for p in page_obj %}
  <tr{% if not p.is_active %} class="text-body-secondary"{% endif %}>
    <td><a href="{% pk_url 'physicians:detail' p.pk %}">{{ p.last_name }}, {{ p.first_name }}</a>{% if p.credentials %} <span class="small text-body-secondary">{{ p.credentials }}</span>{% endif %}{% if not p.is_active %} <span class="badge text-bg-secondary">inactive</span>{% endif %}</td>
    <td class="font-monospace small">{{ p.npi|default:"—" }}</td>
    <td>{{ p.specialty|default:"—" }}</td>
    <td>{% if p.institution %}{{ p.institution.name }}<span class="d-block small text-body-secondary">{{ p.institution.city }}</span>{% else %}—{% endif %}</td>
    <td><span class="badge tier-badge tier-{{ p.kol_tier }}">{{ p.get_kol_tier_display }}</span></td>
    <td>{{ p.owner.get_full_name|default:"—" }}</td>
    <td>{% if p.last_interaction_at %}<time datetime="{{ p.last_interaction_at|date:'c' }}">{{ p.last_interaction_at|date:"Y-m-d" }}</time>{% else %}<span class="text-body-secondary">never</span>{% endif %}</td>
  </tr>
{% endfor %}"""
)
PHYSICIANS_TAG = Template("{% load physician_tags %}{% physician_rows page_obj %}")

INTERACTIONS_REFERENCE = Template(
    """{% load ui %}{% for i in page_obj %}
  <tr>
    <td><a href="{% pk_url 'physicians:interaction_detail' i.pk %}">{{ i.occurred_at|date:"Y-m-d H:i" }}</a></td>
    <td><a href="{% pk_url 'physicians:detail' i.physician_id %}">{{ i.physician.last_name }}, {{ i.physician.first_name }}</a></td>
    <td>{{ i.get_channel_display }}{% if i.unsolicited_request %} <span class="badge text-bg-warning">unsolicited</span>{% endif %}</td>
    <td>{{ i.msl.get_full_name }}</td>
    <td class="small">{{ i.topics|truncatechars:80 }}</td>
  </tr>
{% endfor %}"""
)
INTERACTIONS_TAG = Template("{% load physician_tags %}{% interaction_rows page_obj %}")

# Not UTC, so that a value's local date differs from its UTC date (see LATE below).
ZONE = "America/New_York"
# 03:30 UTC is the previous evening in New York; microseconds and the offset are in |date:'c'.
LATE = dt.datetime(2024, 3, 5, 3, 30, 15, 123456, tzinfo=dt.UTC)
ON_THE_SECOND = dt.datetime(2024, 7, 1, 14, 5, tzinfo=dt.UTC)


def _unindented(html: str) -> str:
    """The reference's markup without the template's line breaks and indentation."""
    return "".join(line.strip() for line in html.splitlines())


def _rows(client, url: str, tag: Template, reference: Template, **params) -> tuple[str, str, str]:
    """(the tag's rows, the reference loop's rows, the page) for the page's own page_obj."""
    response = client.get(url, params)
    assert response.status_code == 200
    context = Context({"page_obj": response.context["page_obj"]})
    return tag.render(context), reference.render(context), response.content.decode()


@pytest.fixture
def physicians(msl):
    odd = InstitutionFactory(name="Smith & Sons <Clinic>", city='"Old" Town')
    blank_names = UserFactory(username="nameless", first_name="", last_name="")
    return [
        PhysicianFactory(
            last_name="O'Brien <b>", first_name='"Ann" & co', credentials="MD <i>x</i>", specialty="<script>",
            institution=odd, owner=msl, kol_tier=KolTier.TIER_1, last_interaction_at=LATE,
        ),
        PhysicianFactory(
            last_name="Inactive", is_active=False, credentials="", npi=None, specialty="", institution=None,
            owner=None, kol_tier=KolTier.UNRANKED, last_interaction_at=None,
        ),
        PhysicianFactory(last_name="Tiertwo", kol_tier=KolTier.TIER_2, owner=blank_names,
                         last_interaction_at=ON_THE_SECOND),
        PhysicianFactory(last_name="Tierthree", kol_tier=KolTier.TIER_3, credentials="", is_active=False,
                         last_interaction_at=timezone.now()),
    ]  # fmt: skip


def test_physician_rows_are_the_loop_markup_on_every_branch(physicians, msl, client_for):
    with timezone.override(ZONE):
        ours, reference, page = _rows(
            client_for(msl), "/physicians/", PHYSICIANS_TAG, PHYSICIANS_REFERENCE, scope="all"
        )
    assert ours.count("<tr") == len(physicians)
    assert tree(ours) == tree(reference)
    assert ours in page
    # The local date and time, not UTC's: the evening before LATE's UTC date.
    assert '<time datetime="2024-03-04T22:30:15.123456-05:00">2024-03-04</time>' in ours
    assert '<time datetime="2024-07-01T10:05:00-04:00">2024-07-01</time>' in ours


def test_physician_rows_escape_every_value(physicians, msl, client_for):
    ours, reference, _ = _rows(client_for(msl), "/physicians/", PHYSICIANS_TAG, PHYSICIANS_REFERENCE, scope="all")
    assert ours == _unindented(reference)  # byte for byte
    for raw in ("<b>", "<i>x</i>", "<script>", "<Clinic>", '"Old"', '"Ann"', "O'Brien"):
        assert raw not in ours
    assert "O&#x27;Brien &lt;b&gt;, &quot;Ann&quot; &amp; co" in ours
    assert "Smith &amp; Sons &lt;Clinic&gt;" in ours and "&quot;Old&quot; Town" in ours


@pytest.fixture
def interactions(msl, msl_team):
    odd_msl = UserFactory(username="odd", first_name="Zoë <i>", last_name="D'Arcy & co", team=msl_team)
    doctor = PhysicianFactory(last_name="O'Brien <b>", first_name='"Ann"')
    return [
        InteractionFactory(msl=msl, physician=doctor, occurred_at=LATE, topics="Short <topics> & more"),
        InteractionFactory(
            msl=odd_msl, occurred_at=ON_THE_SECOND, channel=Channel.ADVISORY_BOARD, unsolicited_request=True,
            topics="Long " * 30,
        ),
        # Decomposed accents: |truncatechars counts them as one character each and writes NFC.
        InteractionFactory(msl=msl, channel=Channel.EMAIL, topics="e\u0301" * 79 + "x", occurred_at=timezone.now()),
        InteractionFactory(msl=msl, channel=Channel.PHONE, topics="", occurred_at=LATE - dt.timedelta(days=40)),
    ]  # fmt: skip


def test_interaction_rows_are_the_loop_markup_on_every_branch(interactions, msl, client_for):
    with timezone.override(ZONE):
        ours, reference, page = _rows(
            client_for(msl), "/physicians/interactions/", INTERACTIONS_TAG, INTERACTIONS_REFERENCE
        )
    assert ours.count("<tr") == len(interactions)
    assert tree(ours) == tree(reference)
    assert ours in page
    assert ">2024-03-04 22:30</a>" in ours and ">2024-07-01 10:05</a>" in ours
    assert "Long " * 15 + "Long…" in ours  # truncated to 80 characters, the ellipsis included


def test_interaction_rows_escape_every_value(interactions, msl, client_for):
    ours, reference, _ = _rows(client_for(msl), "/physicians/interactions/", INTERACTIONS_TAG, INTERACTIONS_REFERENCE)
    assert ours == _unindented(reference)
    for raw in ("<b>", "<i>", "<topics>", "O'Brien", "D'Arcy"):
        assert raw not in ours
    assert "O&#x27;Brien &lt;b&gt;, &quot;Ann&quot;" in ours
    assert "Zoë &lt;i&gt; D&#x27;Arcy &amp; co" in ours and "Short &lt;topics&gt; &amp; more" in ours


def test_no_rows_for_an_empty_page():
    assert PHYSICIANS_TAG.render(Context({"page_obj": []})) == ""
    assert INTERACTIONS_TAG.render(Context({"page_obj": []})) == ""
