"""{% physician_rows %}, {% interaction_rows %} and {% inquiry_rows %} write the markup the list
templates' row loops wrote, for every branch of those loops."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone

from physicians.choices import Channel, InquiryPriority, InquiryStatus, KolTier
from tests.factories import InstitutionFactory, MedicalInquiryFactory, PhysicianFactory, ProductFactory, UserFactory
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

INQUIRIES_REFERENCE = Template(
    """{% load ui %}{% for q in page_obj %}
  <tr{% if q.is_overdue %} class="row-overdue"{% endif %}>
    <td><a href="{% pk_url 'physicians:inquiry_detail' q.pk %}">{{ q.received_at|date:"Y-m-d" }}</a></td>
    <td><a href="{% pk_url 'physicians:detail' q.physician_id %}">{{ q.physician.last_name }}, {{ q.physician.first_name }}</a></td>
    <td class="small">{{ q.question|truncatechars:80 }}</td>
    <td>{{ q.product.name|default:"—" }}</td>
    <td>{% if q.priority == "urgent" %}<span class="badge text-bg-danger">Urgent</span>{% else %}Standard{% endif %}</td>
    <td>{{ q.due_at|date:"Y-m-d" }}{% if q.is_overdue %} <span class="badge badge-overdue">overdue</span>{% endif %}</td>
    <td><span class="badge status-{{ q.status }}">{{ q.get_status_display }}</span></td>
    <td>{{ q.owner.get_full_name }}</td>
  </tr>
{% endfor %}"""
)
INQUIRIES_TAG = Template("{% load physician_tags %}{% inquiry_rows page_obj %}")

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


@pytest.fixture
def inquiries(msl, msl_team):
    odd_owner = UserFactory(username="odd", first_name="Zoë <i>", last_name="D'Arcy & co", team=msl_team)
    nameless = UserFactory(username="nameless", first_name="", last_name="", team=msl_team)
    doctor = PhysicianFactory(last_name="O'Brien <b>", first_name='"Ann"')
    odd_product = ProductFactory(name="Cardio <x> & co")
    blank_product = ProductFactory(name="")
    past = LATE - dt.timedelta(days=3)
    return [
        # Open and overdue; received and due late in the UTC day: the day before, in New York.
        MedicalInquiryFactory(owner=msl, physician=doctor, product=odd_product, priority=InquiryPriority.URGENT,
                              question="Dose <in> CKD & \"HD\"?", received_at=past, due_at=LATE),
        # Open, due later: not overdue; no product; a question longer than 80 characters.
        MedicalInquiryFactory(owner=odd_owner, product=None, question="Long " * 30, received_at=ON_THE_SECOND,
                              due_at=timezone.now() + dt.timedelta(days=2)),
        # Past due but answered or closed: not overdue. A product without a name; an owner without names.
        MedicalInquiryFactory(owner=nameless, product=blank_product, status=InquiryStatus.ANSWERED,
                              priority=InquiryPriority.URGENT, question="", received_at=past, due_at=LATE),
        MedicalInquiryFactory(owner=msl, status=InquiryStatus.CLOSED, question="e\u0301" * 79 + "x",
                              received_at=timezone.now(), due_at=ON_THE_SECOND),
    ]  # fmt: skip


def test_inquiry_rows_are_the_loop_markup_on_every_branch(inquiries, msl, client_for):
    with timezone.override(ZONE):
        ours, reference, page = _rows(client_for(msl), "/physicians/inquiries/", INQUIRIES_TAG, INQUIRIES_REFERENCE)
    assert ours.count("<tr") == len(inquiries)
    assert tree(ours) == tree(reference)
    assert ours in page
    assert ours.count('<tr class="row-overdue">') == 1 and ours.count("badge-overdue") == 1
    assert ours.count("Urgent</span>") == 2 and ours.count("<td>Standard</td>") == 2
    for status in InquiryStatus:
        assert f'<span class="badge status-{status}">{status.label}</span>' in ours
    assert ">2024-03-01</a>" in ours and "<td>2024-03-04 <span" in ours  # New York's dates, not UTC's
    assert "<td>—</td>" in ours and "Long " * 15 + "Long…" in ours


def test_inquiry_rows_escape_every_value(inquiries, msl, client_for):
    ours, reference, _ = _rows(client_for(msl), "/physicians/inquiries/", INQUIRIES_TAG, INQUIRIES_REFERENCE)
    assert ours == _unindented(reference)  # byte for byte
    for raw in ("<b>", "<i>", "<in>", "<x>", "O'Brien", "D'Arcy", '"HD"'):
        assert raw not in ours
    assert "O&#x27;Brien &lt;b&gt;, &quot;Ann&quot;" in ours and "Cardio &lt;x&gt; &amp; co" in ours
    assert "Zoë &lt;i&gt; D&#x27;Arcy &amp; co" in ours and "Dose &lt;in&gt; CKD &amp; &quot;HD&quot;?" in ours


def test_no_rows_for_an_empty_page():
    assert PHYSICIANS_TAG.render(Context({"page_obj": []})) == ""
    assert INTERACTIONS_TAG.render(Context({"page_obj": []})) == ""
    assert INQUIRIES_TAG.render(Context({"page_obj": []})) == ""
