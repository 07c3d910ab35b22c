"""{% worklist_rows %} writes the rows the worklist template wrote, for every kind of case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from patients.choices import Stage
from tests.factories import CaseFactory, InstitutionFactory, PhysicianFactory
from tests.test_ui_tags import tree

pytestmark = pytest.mark.django_db

# The rows as a template (what the worklist rendered before the tag): the reference markup.
REFERENCE = Template(
    """{% load ui %}        {% for case in group.cases %}
          <tr class="{% if case.is_overdue %}table-warning{% endif %}">
            <td><a href="{% pk_url 'patients:case_detail' case.pk %}" class="fw-semibold">{{ case.patient.last_name }}, {{ case.patient.first_name }}</a><div class="small text-body-secondary">MRN {{ case.patient.mrn }}</div></td>
            <td>{{ case.program }}</td>
            <td>{% if case.priority == "urgent" %}<span class="badge text-bg-danger">Urgent</span>{% else %}<span class="badge text-bg-light">Standard</span>{% endif %}</td>
            <td>{{ case.age_in_stage.days }} d{% if case.is_overdue %} <span class="badge text-bg-warning" title="Longer in this stage than the target">Overdue</span>{% endif %}</td>
            <td class="small">{{ case.next_step }}</td>
            <td class="small">{{ case.assigned_liaison|default:"—" }}</td>
            <td class="small">{{ case.referral_source_display }}</td>
          </tr>
        {% endfor %}
"""
)
TAG = Template("{% load worklist_tags %}{% worklist_rows group.cases %}")


@pytest.fixture
def cases(nurse):
    long_ago = timezone.now() - dt.timedelta(days=40)  # past every stage's target: overdue
    physician = PhysicianFactory(first_name="Jo <b>", last_name="O'Hara & Co")
    return [
        CaseFactory(assigned_liaison=nurse, patient__first_name="Ada <i>", patient__last_name="Love & Lace"),
        CaseFactory(assigned_liaison=nurse, priority="urgent", stage_changed_at=long_ago, program="Rehab <unit>"),
        CaseFactory(assigned_liaison=nurse, referral_physician=physician, referral_source_other='Walk-in "desk"'),
        CaseFactory(assigned_liaison=nurse, referral_institution=InstitutionFactory(name="St <Mary>")),
        CaseFactory(assigned_liaison=nurse, stage=Stage.EVALUATING, stage_changed_at=long_ago),
    ]


def test_the_page_rows_are_the_reference_markup(client_for, nurse, cases):
    response = client_for(nurse).get(reverse("patients:worklist"))
    assert response.status_code == 200
    html = response.content.decode()
    groups = response.context["groups"]
    assert sum(len(g["cases"]) for g in groups) == len(cases)
    for group in groups:
        ours = TAG.render(Context({"group": group}))
        assert tree(ours) == tree(REFERENCE.render(Context({"group": group})))
        assert ours in html


def test_rows_escape_every_value_and_show_the_branches(client_for, nurse, cases):
    html = client_for(nurse).get(reverse("patients:worklist")).content.decode()
    assert "Love &amp; Lace, Ada &lt;i&gt;" in html and "Ada <i>" not in html
    assert "Rehab &lt;unit&gt;" in html and "St &lt;Mary&gt;" in html
    assert "O&#x27;Hara &amp; Co" in html and "Walk-in &quot;desk&quot;" in html
    assert html.count('<span class="badge text-bg-danger">Urgent</span>') == 1
    assert html.count(">Overdue</span>") == 2 and html.count('class="table-warning"') == 2
