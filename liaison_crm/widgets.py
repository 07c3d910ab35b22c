"""Form widgets of the project.

`LookupSelect` and `LookupSelectMultiple` are the type-ahead pickers (liaison_crm/lookups.py):
a <select> that holds only the chosen option(s), so a form with a people or physician field
renders one <option> instead of hundreds, and says where Tom Select fetches the others. They
follow Django admin's AutocompleteSelect: the chosen values are labelled by one query on the
field's own queryset, so a value outside it (a forged or stale id) is simply not shown, and the
field refuses it when the form is validated.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator

from .lookups import Lookup

DEFAULT_PLACEHOLDER = "Type to search…"
DJANGO_EMPTY_LABEL = "---------"


class LookupMixin:
    def __init__(self, lookup: Lookup, attrs=None, *, params: dict | None = None, placeholder: str = ""):
        super().__init__(attrs)
        self.lookup = lookup
        self.params = params or {}
        self.placeholder = placeholder

    def get_url(self) -> str:
        url = self.lookup.url
        return f"{url}?{urlencode(self.params)}" if self.params else url

    def _empty_label(self) -> str:
        field = getattr(self.choices, "field", None)
        label = getattr(field, "empty_label", None)
        return "" if label in (None, DJANGO_EMPTY_LABEL) else str(label)

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs["data-lookup-url"] = self.get_url()
        attrs.setdefault("data-placeholder", self.placeholder or self._empty_label() or DEFAULT_PLACEHOLDER)
        return attrs

    def _chosen(self, values: set[str]) -> list[tuple[str, str]]:
        """(value, label) of the chosen objects that the field's queryset holds."""
        if not isinstance(self.choices, ModelChoiceIterator):
            return [(str(v), str(label)) for v, label in self.choices if str(v) in values]
        queryset = self.choices.queryset
        pk = queryset.model._meta.pk
        keys = []
        for value in values:
            try:
                keys.append(pk.to_python(value))
            except ValidationError:
                continue  # not an id at all: nothing to show (the field reports it)
        if not keys:
            return []
        return [(str(obj.pk), self.lookup.label(obj)) for obj in queryset.filter(pk__in=keys)]

    def optgroups(self, name, value, attrs=None):
        values = {str(v) for v in value if v not in (None, "")}
        options = []
        if not self.allow_multiple_selected:
            # The empty choice lets a field that is not required be cleared; Tom Select reads its
            # text as the placeholder.
            options.append(self.create_option(name, "", self._empty_label(), not values, 0))
        for option_value, label in self._chosen(values):
            options.append(self.create_option(name, option_value, label, True, len(options)))
        return [(None, options, 0)]


class LookupSelect(LookupMixin, forms.Select):
    pass


class LookupSelectMultiple(LookupMixin, forms.SelectMultiple):
    pass
