"""The filters of the users list and the security log (django-filter), as query parameters."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Q, QuerySet

from liaison_crm.dates import day_start

from .models import SecurityEvent, Team, User

DATE = forms.DateInput(attrs={"type": "date"})


class UserFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search name, username or email")
    role = django_filters.ChoiceFilter(choices=User.Role.choices)
    team = django_filters.ModelChoiceFilter(queryset=Team.objects.none())
    status = django_filters.ChoiceFilter(
        choices=[("active", "Active"), ("inactive", "Deactivated"), ("invited", "Invited, no password yet")],
        method="filter_status",
    )

    class Meta:
        model = User
        fields = ["q", "role", "team", "status"]

    def __init__(self, *args, teams: QuerySet[Team], **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["team"].queryset = teams

    def filter_q(self, qs, name, value):
        for word in value.split()[:5]:
            qs = qs.filter(
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
            )
        return qs

    def filter_status(self, qs, name, value):
        if value == "active":
            return qs.filter(is_active=True)
        if value == "inactive":
            return qs.filter(is_active=False)
        # User.awaits_first_password, in SQL: an unusable password (Django's "!" prefix), never signed in.
        return qs.filter(password__startswith=UNUSABLE_PASSWORD_PREFIX, last_login__isnull=True)


class SecurityEventFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Username, address or detail")
    kind = django_filters.ChoiceFilter(choices=SecurityEvent.Kind.choices, label="Event")
    date_from = django_filters.DateFilter(method="filter_date_from", label="From", widget=DATE)
    date_to = django_filters.DateFilter(method="filter_date_to", label="To", widget=DATE)
    user = django_filters.NumberFilter(field_name="user_id", widget=forms.HiddenInput)

    class Meta:
        model = SecurityEvent
        fields = ["q", "kind", "date_from", "date_to", "user"]

    def filter_q(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(username__icontains=value) | Q(detail__icontains=value) | Q(ip__startswith=value))

    def filter_date_from(self, qs, name, value: dt.date):
        return qs.filter(at__gte=day_start(value))

    def filter_date_to(self, qs, name, value: dt.date):
        return qs.filter(at__lt=day_start(value + dt.timedelta(days=1)))
