"""The dashboards' display of a value (the markup is templates/reporting/widgets/*.html)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def cell(value):
    """A table cell's or a stat's value as shown: no value is a dash, a float loses trailing
    zeros (12.0 is 12). Dates are written by the template with |date."""
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return value
