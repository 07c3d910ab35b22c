"""This app's resources on the REST API (liaison_crm/api): serializers validate the shape, the
queryset starts from visible_to, and every write calls the same service as the page."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import filters, mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from liaison_crm.api.forms import cleaned
from liaison_crm.api.viewsets import ID_MAX, ViewSet

from . import selectors, services
from .forms import FollowUpFilterForm, SnoozeForm
from .lookups import assignee_label
from .models import FollowUp, FollowUpStatus, Notification

# Ids are bigints: a larger number is a 400 from the serializer, never a database error.


# --- Follow-ups ----------------------------------------------------------------------------------


class FollowUpOwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return assignee_label(user)


# The records a follow-up may concern, in FollowUp.concern's order.
CONCERN_KINDS = ("physician", "case", "inquiry", "interaction")


class FollowUpConcernSerializer(serializers.Serializer):
    """What a follow-up is about: a physician by name; a case, inquiry or interaction by number."""

    kind = serializers.ChoiceField(choices=CONCERN_KINDS)
    id = serializers.IntegerField()
    label = serializers.CharField()
    url = serializers.CharField()


class FollowUpSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    owner = FollowUpOwnerSerializer(read_only=True)
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True)
    completed_by = serializers.IntegerField(source="completed_by_id", read_only=True, allow_null=True)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    concern = serializers.SerializerMethodField()
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "title",
            "notes",
            "status",
            "due_at",
            "is_overdue",
            "owner",
            "team",
            "concern",
            "completed_at",
            "completed_by",
            "reminded_at",
            "escalated_at",
            "created_at",
            "created_by",
            "rule",
        ]
        read_only_fields = fields

    def _viewer(self):
        return self.context["request"].user

    def get_title(self, fu: FollowUp) -> str:
        # The page's rule for who may read a case follow-up's title (visible_to already keeps case
        # follow-ups from anyone without PHI access; this is the same guard the feeds use).
        return services.safe_title(fu, self._viewer())

    def get_notes(self, fu: FollowUp) -> str:
        return "" if fu.case_id and not self._viewer().sees_phi else fu.notes

    @extend_schema_field(FollowUpConcernSerializer(allow_null=True))
    def get_concern(self, fu: FollowUp) -> dict | None:
        about = fu.concern
        if about is None:
            return None
        kind = next(kind for kind in CONCERN_KINDS if getattr(fu, f"{kind}_id"))
        return {"kind": kind, "id": getattr(fu, f"{kind}_id"), "label": about.label, "url": about.url}


class FollowUpFilter(filters.BaseFilterBackend):
    """The follow-ups page's filters (FollowUpFilterForm, selectors.narrow and in_state): `q` on
    the title, and for managers and administrators `owner` and `team`; `state` a section of the
    page. A person or team the user may not pick is a 400 naming the field."""

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        if getattr(view, "action", None) != "list":
            return queryset
        user = request.user
        data = cleaned(FollowUpFilterForm(request.query_params, user=user, people=selectors.can_filter_people(user)))
        state = data.get("state") or ""
        if state and state not in selectors.STATE_LABELS:
            raise serializers.ValidationError({"state": [f"Pick one of: {', '.join(selectors.STATE_LABELS)}."]})
        owner, team = data.get("owner"), data.get("team")
        queryset = selectors.narrow(
            queryset, q=data.get("q") or "", owner_id=owner.pk if owner else None, team_id=team.pk if team else None
        )
        return selectors.in_state(queryset, state, selectors.bounds()) if state else queryset

    def get_schema_operation_parameters(self, view) -> list[dict]:
        def param(name: str, schema: dict, description: str) -> dict:
            return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

        return [
            param("q", {"type": "string"}, "Words in the title."),
            param("owner", {"type": "integer", "minimum": 1}, "A person's id (managers and administrators)."),
            param("team", {"type": "integer", "minimum": 1}, "A team's id (managers and administrators)."),
            param("state", {"type": "string", "enum": list(selectors.STATE_LABELS)}, "A section of the list."),
        ]


class SnoozeSerializer(serializers.Serializer):
    """The page's Snooze menu: 1 day or 1 week from now, or a date after today (at 9:00)."""

    days = serializers.ChoiceField(choices=[1, 7], required=False)
    until = serializers.DateField(required=False)

    def validate(self, attrs: dict) -> dict:
        # The page's own form decides what is a valid snooze (one rule, in outreach.forms).
        days, until = attrs.get("days"), attrs.get("until")
        return cleaned(SnoozeForm({"days": str(days or ""), "until": until.isoformat() if until else ""}))


class ReassignSerializer(serializers.Serializer):
    owner = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text="The id of the new owner.")

    def validate_owner(self, value: int):
        target = get_user_model().objects.filter(pk=value, is_active=True).first()
        if target is None:
            raise serializers.ValidationError("Pick someone to assign it to.")
        return target


@extend_schema_view(
    list=extend_schema(summary="Follow-ups you may see", description="Ordered by due time."),
    retrieve=extend_schema(summary="A follow-up"),
)
class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    model = FollowUp
    serializer_class = FollowUpSerializer
    filter_backends = [FollowUpFilter]
    ordering = ("due_at", "id")

    def scoped(self, qs: QuerySet) -> QuerySet:
        # The owner's name and a physician concern's name are on every row.
        return qs.select_related("owner", "physician")

    def _answer(self, follow_up: FollowUp) -> Response:
        # Read again as the list reads it; a follow-up handed out of the user's sight is answered
        # as the service left it (as the page's row does).
        fresh = self.get_queryset().filter(pk=follow_up.pk).first() or follow_up
        return Response(self.get_serializer(fresh).data)

    @extend_schema(request=None, responses=FollowUpSerializer, summary="Mark a follow-up done")
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None) -> Response:
        follow_up = services.complete_follow_up(follow_up=self.get_object(), by=request.user)
        return self._answer(follow_up)

    @extend_schema(request=SnoozeSerializer, responses=FollowUpSerializer, summary="Snooze a follow-up")
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None) -> Response:
        follow_up = self.get_object()
        body = SnoozeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("days"):
            until = services.snooze_target(days=data["days"])
        else:
            until = services.snooze_target(date=data["until"])
        return self._answer(services.snooze_follow_up(follow_up=follow_up, until=until, by=request.user))

    @extend_schema(request=ReassignSerializer, responses=FollowUpSerializer, summary="Hand a follow-up to someone")
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None) -> Response:
        follow_up = self.get_object()
        body = ReassignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        target = body.validated_data["owner"]
        if follow_up.status == FollowUpStatus.OPEN and not services.can_assign(request.user, target, follow_up):
            raise PermissionDenied(f"You cannot assign follow-ups to {target}.")
        return self._answer(services.reassign_follow_up(follow_up=follow_up, to=target, by=request.user))


# --- Notifications -------------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    follow_up = serializers.IntegerField(source="follow_up_id", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "follow_up", "created_at", "read_at"]
        read_only_fields = fields


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were unread and are now read.")


@extend_schema_view(
    list=extend_schema(
        summary="Your notifications",
        description="Newest first.",
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only the unread ones.")],
    ),
    retrieve=extend_schema(summary="One of your notifications"),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    model = Notification
    serializer_class = NotificationSerializer
    ordering = ("-created_at", "-id")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The page's "unread only" switch (`?unread=1`); `true` too, as the schema says boolean.
        if self.action == "list" and self.request.query_params.get("unread") in ("1", "true"):
            queryset = queryset.unread()
        return queryset

    @extend_schema(request=None, responses=NotificationSerializer, summary="Mark a notification read")
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None) -> Response:
        notification = services.mark_notification_read(notification=self.get_object())
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=ReadAllSerializer, summary="Mark all your notifications read")
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request) -> Response:
        return Response({"marked": services.mark_all_notifications_read(user=request.user)})


def register(router) -> None:
    """Add this app's viewsets to the API's router."""
    router.register("follow-ups", FollowUpViewSet, basename="follow-up")
    router.register("notifications", NotificationViewSet, basename="notification")
