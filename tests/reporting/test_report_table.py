"""{% report_table %} writes the markup the widget table template wrote, for every widget."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from reporting.widgets import Cell
from tests.test_ui_tags import tree

# The table as a template (what the dashboards rendered before the tag): the reference markup.
REFERENCE = Template(
    """{% load reporting_tags %}
<div class="table-responsive">
<table class="table table-sm table-hover mb-0 report-table">
  <caption class="visually-hidden">{{ w.widget.title }}</caption>
  <thead><tr>{% for c in w.widget.columns %}<th scope="col">{{ c }}</th>{% endfor %}</tr></thead>
  <tbody>
    {% for row in w.rows %}
      <tr>{% for c in row %}{% if forloop.first %}<th scope="row" class="fw-normal">{% else %}<td{% if c.num %} class="text-end"{% endif %}>{% endif %}
        {% if c.url and c.value is not None %}<a href="{{ c.url }}" data-drill>{{ c.value|cell }}</a>{% else %}{{ c.value|cell }}{% endif %}
        {% if c.flag %}<span class="badge text-bg-warning ms-1">{{ c.flag }}</span>{% endif %}
        {% if c.bar %}<meter class="report-meter" min="0" max="{{ c.bar }}" value="{{ c.value|default:0 }}" aria-hidden="true"></meter>{% endif %}
      {% if forloop.first %}</th>{% else %}</td>{% endif %}{% endfor %}</tr>
    {% endfor %}
  </tbody>
</table>
</div>"""
)
TAG = Template("{% load reporting_tags %}{% report_table w %}")


@pytest.mark.parametrize("page", ["/reporting/", "/reporting/msl/", "/reporting/clinical/"])
def test_every_dashboard_table_is_the_reference_markup(page, world, client_for, manager):
    response = client_for(manager).get(page, {"range": "90d"})
    tables = [w for w in response.context["widgets"] if w["rows"]]
    assert tables  # the world has data for every dashboard
    for w in tables:
        ours = TAG.render(Context({"w": w}))
        assert tree(ours) == tree(REFERENCE.render(Context({"w": w}))), w["widget"].key
        assert ours in response.content.decode()


def test_cells_are_escaped_linked_flagged_and_metered():
    class Widget:
        title = "T <1>"
        columns = ["Name", "Count"]

    w = {
        "widget": Widget(),
        "rows": [
            [Cell("<b>Ann</b>", "/x/?a=1&b=2", flag="no <contact>"), Cell(3, bar=10, num=True)],
            [Cell(None, "/never/"), Cell(0.5, num=True)],
        ],
    }
    ours = TAG.render(Context({"w": w}))
    assert tree(ours) == tree(REFERENCE.render(Context({"w": w})))
    assert "&lt;b&gt;Ann&lt;/b&gt;" in ours and 'href="/x/?a=1&amp;b=2"' in ours
    assert "/never/" not in ours and "—" in ours  # no value: a dash, not a link
