"""Form widgets that render fast on list pages.

Django renders a <select> through one template per <option>: about 0.1 ms an option, so a
filter bar with the few hundred people of an organisation spent most of a list page's time
(the benchmark's physician list: 120 ms of 180). These render the same HTML in Python.
"""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe


class FastSelectMixin:
    def render(self, name, value, attrs=None, renderer=None):
        # The base widget's context (name and attributes) without ChoiceWidget.optgroups(),
        # which builds a dict per option; the options are written straight from the choices,
        # with the same selection rule (the first match only, unless multiple).
        widget = forms.Widget.get_context(self, name, value, attrs)["widget"]
        if self.allow_multiple_selected:
            widget["attrs"]["multiple"] = True
        values = {str(v) for v in widget["value"]}
        parts = [format_html("<select name={}{}>", _quoted(widget["name"]), flatatt(widget["attrs"]))]
        has_selected = False
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            if isinstance(option_label, (list, tuple)):
                parts.append(format_html("<optgroup label={}>", _quoted(option_value)))
                choices = option_label
            else:
                choices = [(option_value, option_label)]
            for sub_value, sub_label in choices:
                selected = (not has_selected or self.allow_multiple_selected) and str(sub_value) in values
                has_selected |= selected
                parts.append(
                    '<option value="'
                    + conditional_escape("" if sub_value is None else sub_value)
                    + ('" selected>' if selected else '">')
                    + conditional_escape(sub_label)
                    + "</option>"
                )
            if isinstance(option_label, (list, tuple)):
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # every value above went through format_html/conditional_escape


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
