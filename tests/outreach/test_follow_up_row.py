"""{% follow_up_row %} writes the markup the follow-up row template wrote, for every kind of row."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from outreach.models import FollowUp, FollowUpStatus
from outreach.selectors import Assignees
from outreach.templatetags.outreach_tags import follow_up_row
from tests.factories import PhysicianFactory, UserFactory
from tests.test_ui_tags import tree

pytestmark = pytest.mark.django_db

# The row as a template (what the follow-ups page included per row before the tag): the reference.
REFERENCE = Template(
    """{% load outreach_tags ui %}{% concern fu as about %}
<li class="list-group-item fu-row{% if fu.status == 'done' %} fu-done{% endif %}" id="fu-{{ fu.pk }}" data-follow-up="{{ fu.pk }}">
  <div class="fu-main">
    <div class="fu-title fw-semibold text-truncate">{{ fu.title }}</div>
    <div class="small text-body-secondary">
      {% if fu.status == 'open' %}
        <span class="{% if fu.due_at < now %}fu-overdue{% endif %}" title="{{ fu.due_at|date:'Y-m-d H:i' }}"><i class="bi bi-clock" aria-hidden="true"></i> {{ fu.due_at|date:"D j M, H:i" }}</span>
      {% elif fu.status == 'done' %}
        <i class="bi bi-check2-circle" aria-hidden="true"></i> Done {{ fu.completed_at|date:"D j M, H:i" }}
      {% else %}{{ fu.get_status_display }}{% endif %}
      {% if about %} · <i class="bi bi-{{ about.icon }}" aria-hidden="true"></i> {% if about.url %}<a href="{{ about.url }}">{{ about.label }}</a>{% else %}{{ about.label }}{% endif %}{% endif %}
      {% if people %} · <i class="bi bi-person" aria-hidden="true"></i> {{ fu.owner }}{% endif %}
      {% if fu.escalated_at and fu.status == 'open' %} · <span class="badge text-bg-warning">Escalated</span>{% endif %}
    </div>
    {% if row_error %}<div class="text-danger small mt-1" role="alert">{{ row_error }}</div>{% endif %}
  </div>
  {% if fu.status == 'open' %}
  {% pk_url 'outreach:follow_up_complete' fu.pk as complete_url %}{% pk_url 'outreach:follow_up_snooze' fu.pk as snooze_url %}
  <div class="fu-actions">
    <form method="post" action="{{ complete_url }}" hx-post="{{ complete_url }}" hx-target="#fu-{{ fu.pk }}" hx-swap="outerHTML">
      {% csrf_token %}<button type="submit" class="btn btn-sm btn-success"><i class="bi bi-check2" aria-hidden="true"></i> Complete</button>
    </form>
    <div class="dropdown">
      <button class="btn btn-sm btn-outline-secondary dropdown-toggle" type="button" data-bs-toggle="dropdown" aria-expanded="false"><i class="bi bi-alarm" aria-hidden="true"></i> Snooze</button>
      <div class="dropdown-menu p-2">
        <form method="post" action="{{ snooze_url }}" hx-post="{{ snooze_url }}" hx-target="#fu-{{ fu.pk }}" hx-swap="outerHTML" class="d-flex flex-column gap-1">
          {% csrf_token %}
          <button type="submit" name="days" value="1" class="btn btn-sm btn-light text-start">1 day</button>
          <button type="submit" name="days" value="7" class="btn btn-sm btn-light text-start">1 week</button>
        </form>
        <hr class="my-2">
        <form method="post" action="{{ snooze_url }}" hx-post="{{ snooze_url }}" hx-target="#fu-{{ fu.pk }}" hx-swap="outerHTML" class="d-flex gap-1">
          {% csrf_token %}
          <label class="visually-hidden" for="snooze-until-{{ fu.pk }}">Snooze until</label>
          <input type="date" name="until" id="snooze-until-{{ fu.pk }}" class="form-control form-control-sm" required>
          <button type="submit" class="btn btn-sm btn-primary">Set</button>
        </form>
      </div>
    </div>
    {% if assignees|length > 1 %}{% pk_url 'outreach:follow_up_reassign' fu.pk as reassign_url %}
    <form method="post" action="{{ reassign_url }}" hx-post="{{ reassign_url }}" hx-target="#fu-{{ fu.pk }}" hx-swap="outerHTML" class="d-flex gap-1">
      {% csrf_token %}
      <label class="visually-hidden" for="reassign-{{ fu.pk }}">Reassign to</label>
      <select name="owner" id="reassign-{{ fu.pk }}" class="form-select form-select-sm">
        {% assignee_options assignees fu.owner_id %}
      </select>
      <button type="submit" class="btn btn-sm btn-outline-primary">Reassign</button>
    </form>
    {% endif %}
  </div>
  {% endif %}
</li>
"""
)
TOKEN = "tok<en>"


def reference(fu, **context) -> str:
    return REFERENCE.render(Context({"fu": fu, "csrf_token": TOKEN, **context}))


def ours(fu, *, now, people, assignees, row_error="") -> str:
    return follow_up_row(fu, now=now, people=people, assignees=assignees, csrf_token=TOKEN, row_error=row_error)


@pytest.fixture
def people(msl_team):
    return [
        UserFactory(team=msl_team, first_name="Ann", last_name="O'Brien <b>"),
        UserFactory(team=msl_team, first_name="Bo", last_name="Zed"),
    ]


def rows(owner) -> list[FollowUp]:
    """Unsaved follow-ups covering every branch of the row: status, overdue, escalation, concern."""
    now = timezone.now()
    physician = PhysicianFactory(first_name="Jo & <i>", last_name="Doe")
    concerns = [{}, {"physician": physician}, {"case_id": 7}, {"inquiry_id": 8}, {"interaction_id": 9}]
    states = [
        {"status": FollowUpStatus.OPEN, "due_at": now - dt.timedelta(days=1)},
        {"status": FollowUpStatus.OPEN, "due_at": now + dt.timedelta(hours=5), "escalated_at": now},
        {
            "status": FollowUpStatus.DONE,
            "due_at": now,
            "completed_at": now - dt.timedelta(hours=1),
            "escalated_at": now,
        },
        {"status": FollowUpStatus.DONE, "due_at": now, "completed_at": None},
        {"status": FollowUpStatus.CANCELLED, "due_at": now},
    ]
    made = []
    for i, (about, state) in enumerate(itertools.product(concerns, states), start=1):
        made.append(FollowUp(pk=1000 + i, owner=owner, title=f'Call <back> & "go" #{i}', **about, **state))
    return made


@pytest.mark.parametrize("show_people", [False, True])
@pytest.mark.parametrize("n_assignees", [0, 1, 2])
def test_every_row_is_the_reference_markup(people, show_people, n_assignees):
    now = timezone.now()
    assignees = Assignees(people[:n_assignees])
    for fu in rows(people[0]):
        context = {"now": now, "people": show_people, "assignees": assignees}
        assert tree(ours(fu, **context)) == tree(reference(fu, **context)), (fu.status, fu.title)


def test_a_row_error_is_shown_and_escaped(people):
    fu = rows(people[0])[0]
    context = {"now": timezone.now(), "people": False, "assignees": Assignees(people), "row_error": "Not <now>"}
    html = ours(fu, **context)
    assert tree(html) == tree(reference(fu, **context))
    assert '<div class="text-danger small mt-1" role="alert">Not &lt;now&gt;</div>' in html


def test_values_are_escaped_and_forms_carry_the_csrf_token(people):
    fu = rows(people[0])[0]  # open, overdue
    html = ours(fu, now=timezone.now(), people=True, assignees=Assignees(people))
    assert "Call &lt;back&gt; &amp; &quot;go&quot; #1" in html
    assert "O&#x27;Brien &lt;b&gt;" in html and "<b>" not in html
    assert html.count('name="csrfmiddlewaretoken" value="tok&lt;en&gt;"') == 4  # complete, snooze x2, reassign
    assert f'action="{reverse("outreach:follow_up_complete", args=[fu.pk])}"' in html
    assert 'class="fu-overdue"' in html


def test_the_page_and_the_htmx_row_use_the_tag(client_for, msl):
    fu = FollowUp.objects.create(owner=msl, team=msl.team, title="Ring <Dr> Who", due_at=timezone.now())
    page = client_for(msl).get(reverse("outreach:follow_ups"))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count(f'id="fu-{fu.pk}"') == 1 and "Ring &lt;Dr&gt; Who" in html
    row = client_for(msl).post(reverse("outreach:follow_up_complete", args=[fu.pk]), HTTP_HX_REQUEST="true")
    assert row.status_code == 200
    assert row.content.decode().strip().startswith(f'<li class="list-group-item fu-row fu-done" id="fu-{fu.pk}"')


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_row_dates_are_what_the_date_filter_writes(zone):
    from django.template.defaultfilters import date

    from outreach.templatetags.outreach_tags import _when

    start = dt.datetime(2026, 1, 1, 23, 59, tzinfo=dt.UTC)
    with timezone.override(zone):
        for days in range(0, 400, 9):  # every month and weekday, both sides of midnight locally
            value = start + dt.timedelta(days=days, hours=days % 7)
            local = timezone.localtime(value)  # what the template engine hands the filter
            assert _when(value) == (date(local, "Y-m-d H:i"), date(local, "D j M, H:i"))
