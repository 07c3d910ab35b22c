"""Form widgets that render fast on list pages.

Django renders a <select> through one template per <option>: about 0.1 ms an option, so a
filter bar with the few hundred people of an organisation spent most of a list page's time
(the benchmark's physician list: 120 ms of 180). These render the same HTML in Python.
"""

from __future__ import annotations

import html

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
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
        for option_value, option_label in _choices(self):
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
                    + _escape("" if sub_value is None else sub_value)
                    + ('" selected>' if selected else '">')
                    + _escape(sub_label)
                    + "</option>"
                )
            if isinstance(option_label, (list, tuple)):
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # every value above went through format_html or _escape


def _choices(widget):
    """The widget's choices, from one plain SELECT.

    Django's own iterator reads a model's choices with .iterator(): on PostgreSQL a server-side
    cursor, three round trips (DECLARE, FETCH, CLOSE) for a list of a few dozen rows. A model's
    choices are read as tuples when the model can label a row (`label_from_values(row)` over its
    LABEL_FIELDS, the first being the key) and the field labels with str(obj): a select of a few
    hundred people then builds no model instances. Other models are read as instances.
    """
    choices = widget.choices
    if not isinstance(choices, forms.models.ModelChoiceIterator):
        return choices
    field, model = choices.field, choices.queryset.model
    if getattr(field, "null_label", None) or choices.queryset._prefetch_related_lookups:
        return choices  # django-filter's extra "null" option; a prefetch is read without a cursor
    head = [("", field.empty_label)] if field.empty_label is not None else []
    if (
        not hasattr(model, "label_from_values")
        or type(field).label_from_instance is not forms.ModelChoiceField.label_from_instance
        or field.to_field_name
    ):
        return [*head, *(choices.choice(obj) for obj in choices.queryset.all())]
    rows = choices.queryset.values_list(*model.LABEL_FIELDS)
    return [*head, *((row[0], model.label_from_values(row)) for row in rows)]


def _escape(value) -> str:
    """conditional_escape() without its lazy-string wrapper: two calls an option add up."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


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
