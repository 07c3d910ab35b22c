from __future__ import annotations

import datetime as dt

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.settings import api_settings


class FilterBackend(DjangoFilterBackend):
    """The list's own FilterSet (a viewset's `filterset_class`, the one its page uses). A date at
    the calendar's ends (9999-12-31, whose "to" bound is the next day) is a 400 naming the field,
    and a number of days no date can be (10^12 days ago) a 400 too, not an OverflowError's 500."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None and filterset.is_valid():
            for name, value in filterset.form.cleaned_data.items():
                if isinstance(value, dt.date) and not (dt.MINYEAR < value.year < dt.MAXYEAR):
                    raise exceptions.ValidationError({name: ["This date is out of range."]})
        return filterset

    def filter_queryset(self, request, queryset, view):
        try:
            return super().filter_queryset(request, queryset, view)
        except OverflowError:
            message = {api_settings.NON_FIELD_ERRORS_KEY: ["A filter value is out of range."]}
            raise exceptions.ValidationError(message) from None
