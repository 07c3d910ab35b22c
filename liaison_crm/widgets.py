"""Form widgets that render fast on list pages.

Django renders a <select> through one template per <option>: about 0.1 ms an option, so a
filter bar with the few hundred people of an organisation spent most of a list page's time
(the benchmark's physician list: 120 ms of 180). These render the same HTML in Python.
"""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


class FastSelectMixin:
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html("<select name={}{}>", _quoted(widget["name"]), flatatt(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html("<optgroup label={}>", _quoted(group_name)))
            parts.extend(
                format_html(
                    "<option value={}{}>{}</option>",
                    _quoted("" if option["value"] is None else option["value"]),
                    flatatt(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # every piece above went through format_html


def _quoted(value) -> str:
    return format_html('"{}"', value)


class FastSelect(FastSelectMixin, forms.Select):
    pass


class FastSelectMultiple(FastSelectMixin, forms.SelectMultiple):
    pass


FAST = {forms.Select: FastSelect, forms.SelectMultiple: FastSelectMultiple}


class FastSelectForm(forms.Form):
    """Base form of the lists' FilterSets (`Meta.form`): plain selects render in Python."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            fast = FAST.get(type(field.widget))
            if fast is not None:
                field.widget.__class__ = fast  # the form's own deep copy: same attrs and choices
