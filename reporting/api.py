"""The dashboards' widgets on the REST API (liaison_crm/api): /api/v1/reports/<widget>/.

Each widget answers with the figures its card shows (its table's rows, its stats and the data
they come from), with the dashboards' filters as query parameters. Who may read a widget is the
pages' decision (filters.resolve_scope and Widget.visible_to, as the widget's CSV export)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from liaison_crm.api.viewsets import ID_MAX

from .filters import RANGE_CHOICES, ReportScope, resolve_scope
from .widgets import CLINICAL, JOINED, MSL, REGISTRY, Widget

WIDGET_KEYS = list(REGISTRY)
SIDES = [MSL, CLINICAL, JOINED]
# Wide enough for any real period, and far from the calendar's ends (a range's exclusive end is
# the day after `date_to`, which past 9999-12-31 does not exist).
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


def _bounded(value: dt.date) -> dt.date:
    if not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError(f"Pick a date from {EARLIEST} to {LATEST}.")
    return value


class ReportFiltersSerializer(serializers.Serializer):
    """The dashboards' filter bar as query parameters. This only bounds their shape: the
    dashboards' own form (reporting.filters.DashboardFilterForm) decides what they mean."""

    range = serializers.ChoiceField(
        choices=[key for key, _label in RANGE_CHOICES],
        required=False,
        help_text="The period; `custom` takes date_from and date_to (at most three years).",
    )
    date_from = serializers.DateField(required=False, validators=[_bounded])
    date_to = serializers.DateField(required=False, validators=[_bounded])
    team = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="One of your teams (managers, administrators)."
    )
    person = serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        help_text="An MSL or clinical liaison of your teams (managers, administrators).",
    )


class ReportPeriodSerializer(serializers.Serializer):
    """The filters the figures were computed with (the period a preset resolved to)."""

    range = serializers.ChoiceField(choices=[key for key, _label in RANGE_CHOICES])
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    team = serializers.IntegerField(allow_null=True)
    person = serializers.IntegerField(allow_null=True)
    personal = serializers.BooleanField(help_text="The figures are the user's own (MSLs, clinical liaisons).")


class ReportStatSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.JSONField(help_text="A number, or null when there is nothing to count.")
    suffix = serializers.CharField(allow_blank=True)


class ReportSerializer(serializers.Serializer):
    widget = serializers.ChoiceField(choices=WIDGET_KEYS)
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    side = serializers.ChoiceField(choices=SIDES)
    filters = ReportPeriodSerializer()
    columns = serializers.ListField(child=serializers.CharField(), help_text="The table's column headings.")
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="The table's rows as on the dashboard, one value per column (CSV exports have every row).",
    )
    stats = ReportStatSerializer(many=True)
    data = serializers.JSONField(help_text="The widget's figures as computed; its shape differs per widget.")


class ReportLinkSerializer(serializers.Serializer):
    widget = serializers.ChoiceField(choices=WIDGET_KEYS)
    title = serializers.CharField()
    side = serializers.ChoiceField(choices=SIDES)
    url = serializers.CharField()


def _scope(request: Request) -> ReportScope:
    """The request's scope, as the dashboards resolve it: a team or person outside the user's
    scope is a 404; a bad period, which a page answers with its default period, is a 400 here."""
    shape = ReportFiltersSerializer(data=request.query_params)
    shape.is_valid(raise_exception=True)
    scope, form = resolve_scope(request.user, request.query_params)
    if form.is_bound and form.errors:
        errors = {("non_field_errors" if k == "__all__" else k): list(v) for k, v in form.errors.items()}
        raise serializers.ValidationError(errors)
    return scope


def _answer(widget: Widget, scope: ReportScope) -> dict:
    data = widget.data(scope)
    return {
        "widget": widget.key,
        "title": widget.title,
        "description": widget.description,
        "side": widget.side,
        "filters": {
            "range": scope.range_key,
            "date_from": scope.date_from,
            "date_to": scope.date_to,
            "team": scope.team_id,
            "person": scope.person_id,
            "personal": scope.personal,
        },
        "columns": list(widget.columns),
        "rows": [[cell.value for cell in row] for row in widget.rows(data, scope)],
        "stats": [{"label": s.label, "value": s.value, "suffix": s.suffix} for s in widget.stats(data, scope)],
        "data": data,
    }


WIDGETS_DESCRIPTION = "\n".join(f"- `{w.key}`: {w.title} ({w.side})" for w in REGISTRY.values())


class ReportView(APIView):
    @extend_schema(
        operation_id="reports_widget",
        summary="A dashboard widget's figures",
        description=(
            "With the dashboards' filters. A widget of a dashboard your role does not open is a 403; MSLs and "
            "clinical liaisons get their own figures.\n\n" + WIDGETS_DESCRIPTION
        ),
        parameters=[
            OpenApiParameter("widget", OpenApiTypes.STR, OpenApiParameter.PATH, enum=WIDGET_KEYS),
            ReportFiltersSerializer,
        ],
        responses=ReportSerializer,
    )
    def get(self, request: Request, widget: str) -> Response:
        found = REGISTRY.get(widget)
        if found is None:
            raise Http404("No such report.")
        scope = _scope(request)
        if not found.visible_to(scope):
            raise PermissionDenied("Your role does not have access to this report.")
        return Response(ReportSerializer(_answer(found, scope)).data)


class ReportIndexView(APIView):
    @extend_schema(
        operation_id="reports_index",
        summary="The dashboard widgets you may read",
        responses=ReportLinkSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        scope, _form = resolve_scope(request.user, {})
        links = [
            {
                "widget": w.key,
                "title": w.title,
                "side": w.side,
                "url": request.build_absolute_uri(f"{request.path}{w.key}/"),
            }
            for w in REGISTRY.values()
            if w.visible_to(scope)
        ]
        return Response(ReportLinkSerializer(links, many=True).data)


urlpatterns = [
    path("", ReportIndexView.as_view(), name="reports"),
    path("<str:widget>/", ReportView.as_view(), name="report"),
]
