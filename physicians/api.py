"""This app's resources on the REST API (liaison_crm/api): serializers validate the shape, the
queryset starts from visible_to, and every write calls the same service as the page.

Where a page validates through a Django form (its choices, pickers and cross-field rules), the API
runs the same form on the serializer's output before the service, so no rule is written twice: the
serializer checks types and bounds, the form checks what the page checks, the service decides.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.models import User
from liaison_crm.api.forms import cleaned, form_errors
from liaison_crm.api.viewsets import ID_MAX, ViewSet

from . import selectors, services
from .choices import DeliveryMethod, InsightStatus, Sentiment, SiteStatus, Theme
from .filters import (
    InquiryFilter,
    InsightFilter,
    InstitutionFilter,
    InteractionFilter,
    PhysicianFilter,
    ProductFilter,
    SiteFilter,
    TrainingFilter,
    TrialFilter,
)
from .forms import (
    AttendeeForm,
    AttendeeFormSet,
    InlineInsightFormSet,
    InquiryAnswerForm,
    InquiryForm,
    InsightForm,
    InsightReviewForm,
    InstitutionForm,
    InteractionForm,
    PhysicianForm,
    ProductForm,
    SiteForm,
    SiteStatusForm,
    TrainingForm,
    TrialForm,
)
from .models import (
    ClinicalTrial,
    Insight,
    Institution,
    Interaction,
    MedicalInquiry,
    Physician,
    Product,
    TrainingAttendee,
    TrainingSession,
    TrialSite,
)

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
# The most interactions one bulk request stores (an MSL's offline queue sends them in batches).
BULK_MAX = 100
# A free-text field of the forms is a TextField (no max_length): the API bounds it anyway.
TEXT_MAX = 20_000
LIST_MAX = 100


# --- shared parts -------------------------------------------------------------------------------


def require(allowed: bool, message: str) -> None:
    """A write the user's role may not make is a 403, as on the page."""
    if not allowed:
        raise exceptions.PermissionDenied(message)


def _primitive(value: Any) -> Any:
    """A serializer's value as a form's data: records by their id."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_primitive(v) for v in value]
    return value


def form_data(validated: dict, start: models.Model | None = None, fields=None) -> dict:
    """The data a page's form gets: what it starts with (the record's values, or a new record's
    defaults as the page's form shows them), then the request's."""
    data = {k: _primitive(v) for k, v in forms.model_to_dict(start, fields=fields).items()} if start else {}
    data.update({k: _primitive(v) for k, v in validated.items()})
    return data


def form_serializer(form_class: type[forms.ModelForm]) -> type[serializers.ModelSerializer]:
    """A serializer of the form's fields, from the model (types, lengths, choices): the shape.
    Long texts are bounded; many-to-many ids are a bounded list the form looks up in one query."""
    model = form_class._meta.model
    fields = list(form_class._meta.fields)
    declared: dict[str, Any] = {}
    extra_kwargs: dict[str, dict] = {}
    for name in fields:
        field = model._meta.get_field(name)
        if field.many_to_many:
            declared[name] = serializers.ListField(
                child=serializers.IntegerField(min_value=1, max_value=ID_MAX), max_length=LIST_MAX, required=False
            )
        elif isinstance(field, models.TextField):
            extra_kwargs[name] = {"max_length": TEXT_MAX}
        elif isinstance(field, models.EmailField):
            # The form checks the address; here a string, since "" (its default) is no `format: email`.
            declared[name] = serializers.CharField(max_length=field.max_length, required=False, allow_blank=True)
    meta = type("Meta", (), {"model": model, "fields": fields, "validators": [], "extra_kwargs": extra_kwargs})
    name = form_class.__name__.removesuffix("Form") + "Write"
    return type(name, (serializers.ModelSerializer,), {"Meta": meta, **declared})


class VisiblePrimaryKey(serializers.PrimaryKeyRelatedField):
    """A record the request's user may see, by id (any other id is "does not exist")."""

    def get_queryset(self) -> QuerySet:
        return self.queryset.model.objects.visible_to(self.context["request"].user)


class FormWritesMixin:
    """Create and PATCH through the page's ModelForm (which saves the record, as the page does):
    for records the pages edit with a form and no service."""

    form_class: type[forms.ModelForm]
    write_serializer_class: type[serializers.Serializer]
    write_allowed = staticmethod(lambda user: user.sees_medical_affairs)
    write_denied = "Only medical affairs staff and managers may change these records."

    def form_kwargs(self, instance) -> dict:
        return {}

    def initial_values(self, request: Request) -> dict:
        """A new record's values that the page's form starts with, beyond the model's defaults."""
        return {}

    def _save(self, request: Request, instance=None, partial: bool = False) -> Response:
        require(self.write_allowed(request.user), self.write_denied)
        serializer = self.write_serializer_class(
            instance=instance, data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        start = instance or self.model(**self.initial_values(request))
        data = form_data(serializer.validated_data, start, self.form_class._meta.fields)
        form = self.form_class(data=data, instance=instance, **self.form_kwargs(instance))
        cleaned(form)
        obj = form.save()
        body = self.get_serializer(self.get_queryset().get(pk=obj.pk)).data
        return Response(body, status=status.HTTP_200_OK if instance else status.HTTP_201_CREATED)

    def create(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self._save(request, self.get_object(), partial=True)


def form_write_schema(viewset_cls):
    """The request and response bodies of FormWritesMixin's routes, in the schema (a function of
    each viewset's own: extend_schema annotates the function it is given)."""
    read, write = viewset_cls.serializer_class, viewset_cls.write_serializer_class

    def create(self, request: Request, *args, **kwargs) -> Response:
        return FormWritesMixin.create(self, request, *args, **kwargs)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return FormWritesMixin.partial_update(self, request, *args, **kwargs)

    viewset_cls.create = extend_schema(request=write, responses={201: read})(create)
    viewset_cls.partial_update = extend_schema(request=write, responses={200: read})(partial_update)
    return viewset_cls


class ListRetrieve(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    pass


# --- physicians, institutions, products ---------------------------------------------------------


class PhysicianSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    # Often blank: a string, not `format: email`, which "" would not conform to.
    email = serializers.CharField(read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True, allow_null=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True, allow_null=True)
    therapeutic_areas = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    last_contact_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="The latest interaction of your teams with this physician."
    )

    class Meta:
        model = Physician
        fields = [
            "id", "display_name", "first_name", "last_name", "credentials", "npi", "specialty", "taxonomy_code",
            "institution", "institution_name", "practice_address", "practice_city", "practice_state",
            "practice_postal_code", "email", "phone", "kol_tier", "therapeutic_areas", "scientific_interests",
            "owner", "owner_name", "is_active", "last_contact_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


@form_write_schema
class PhysicianViewSet(FormWritesMixin, ListRetrieve):
    """Physicians (HCPs and KOLs): every signed-in role reads them; medical affairs edit them."""

    model = Physician
    serializer_class = PhysicianSerializer
    write_serializer_class = form_serializer(PhysicianForm)
    form_class = PhysicianForm
    filterset_class = PhysicianFilter
    ordering = ("last_name", "id")

    def scoped(self, qs: QuerySet) -> QuerySet:
        user = self.request.user
        # `last_contact_at`, which the filters not_contacted_days and contacted_within_days read.
        qs = qs.with_last_contact(selectors.contact_team_ids(user))
        if self.action == "list":
            scope = self.request.query_params.get("scope", "all")
            qs = selectors.scope_physicians(qs, user, scope if scope in selectors.SCOPES else "all")
        return (
            qs.select_related("institution", "owner")
            .defer(*User.unshown("owner"))
            .prefetch_related("therapeutic_areas")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scope",
                str,
                enum=list(selectors.SCOPES),
                description='"mine": physicians you own; "team": owned by your teams\' MSLs; "all" (the default).',
            )
        ]
    )
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def initial_values(self, request: Request) -> dict:
        # As the page's form: a new physician is the MSL's own unless they say otherwise.
        return {"owner_id": request.user.pk} if request.user.is_msl else {}


class InstitutionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Institution
        fields = ["id", "name", "kind", "city", "state", "country", "created_at"]
        read_only_fields = fields


@form_write_schema
class InstitutionViewSet(FormWritesMixin, ListRetrieve):
    """Institutions, also the clinical liaisons' referral sources: read by every role."""

    model = Institution
    serializer_class = InstitutionSerializer
    write_serializer_class = form_serializer(InstitutionForm)
    form_class = InstitutionForm
    filterset_class = InstitutionFilter
    ordering = ("name", "id")


class ProductSerializer(serializers.ModelSerializer):
    therapeutic_area_name = serializers.CharField(source="therapeutic_area.name", read_only=True, allow_null=True)

    class Meta:
        model = Product
        fields = ["id", "name", "generic_name", "therapeutic_area", "therapeutic_area_name", "status", "indications"]
        read_only_fields = fields


@form_write_schema
class ProductViewSet(FormWritesMixin, ListRetrieve):
    model = Product
    role_sees = "sees_medical_affairs"
    serializer_class = ProductSerializer
    write_serializer_class = form_serializer(ProductForm)
    form_class = ProductForm
    filterset_class = ProductFilter
    ordering = ("name", "id")

    def scoped(self, qs: QuerySet) -> QuerySet:
        return qs.select_related("therapeutic_area")


# --- interactions and their insights -----------------------------------------------------------


class InteractionInsightSerializer(serializers.ModelSerializer):
    class Meta:
        model = Insight
        fields = ["id", "theme", "product", "sentiment", "text", "status", "captured_at"]
        read_only_fields = fields


class InteractionSerializer(serializers.ModelSerializer):
    physician_name = serializers.CharField(source="physician.display_name", read_only=True)
    msl_name = serializers.CharField(source="msl.display_name", read_only=True)
    products = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    insights = InteractionInsightSerializer(many=True, read_only=True)

    class Meta:
        model = Interaction
        fields = [
            "id", "physician", "physician_name", "msl", "msl_name", "team", "occurred_at", "channel",
            "duration_minutes", "products", "topics", "summary", "unsolicited_request", "off_label_discussed",
            "trial_site", "insights", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class InlineInsightSerializer(serializers.Serializer):
    """An insight heard during the visit (InlineInsightForm's fields)."""

    theme = serializers.ChoiceField(choices=Theme.choices)
    product = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False, allow_null=True)
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    text = serializers.CharField(max_length=TEXT_MAX)


InteractionUpdateSerializer = form_serializer(InteractionForm)


class InteractionCreateSerializer(InteractionUpdateSerializer):
    physician = VisiblePrimaryKey(queryset=Physician.objects.all())
    follow_up_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, allow_null=True, help_text="Omit or null for no follow-up."
    )
    insights = serializers.ListField(
        child=InlineInsightSerializer(), required=False, max_length=InlineInsightFormSet.absolute_max
    )

    class Meta(InteractionUpdateSerializer.Meta):
        fields = ["physician", *InteractionUpdateSerializer.Meta.fields, "follow_up_days", "insights"]


def _insight_formset(rows: list[dict]):
    """The log-visit page's insight formset, bound to the request's insights."""
    prefix = "insights"
    data: dict[str, Any] = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": _primitive(value) for name, value in row.items()})
    return InlineInsightFormSet(data, prefix=prefix)


def _validate_visit(user, data: dict) -> dict:
    """One visit as the log-visit page validates it (InteractionForm and its insight formset):
    the service's arguments, or DRF's ValidationError with the field errors."""
    physician = data["physician"]
    insight_rows = data.get("insights") or []
    fields = {k: v for k, v in data.items() if k not in ("physician", "insights")}
    form = InteractionForm(data=form_data(fields, Interaction(), InteractionForm._meta.fields), physician=physician)
    formset = _insight_formset(insight_rows)
    errors = form_errors(form) if not form.is_valid() else {}
    if not formset.is_valid():
        errors["insights"] = list(formset.non_form_errors()) or formset.errors
    if errors:
        raise exceptions.ValidationError(errors)
    clean = form.cleaned_data
    return {
        "physician": physician,
        "msl": user,
        "occurred_at": clean["occurred_at"],
        "channel": clean["channel"],
        "duration_minutes": clean["duration_minutes"],
        "products": clean["products"],
        "topics": clean["topics"],
        "summary": clean["summary"],
        "unsolicited_request": clean["unsolicited_request"],
        "off_label_discussed": clean["off_label_discussed"],
        "trial_site": clean["trial_site"],
        "insights": [f.cleaned_data for f in formset.forms if f.has_changed() and f.cleaned_data],
        "follow_up_days": clean.get("follow_up_days"),
    }


class BulkInteractionsSerializer(serializers.Serializer):
    """The bulk request's shape, for the schema: the view checks each item on its own, so that
    every refused one is named by its index."""

    interactions = serializers.ListField(child=InteractionCreateSerializer(), min_length=1, max_length=BULK_MAX)


BulkLogged = inline_serializer("BulkInteractionsLogged", {"interactions": InteractionSerializer(many=True)})


class BulkErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The position of the refused interaction in the request's list.")
    errors = serializers.DictField(child=serializers.JSONField(), help_text="Its field errors, as a single create's.")


BulkRefused = inline_serializer(
    "BulkInteractionsRefused",
    {
        "errors": BulkErrorSerializer(many=True, required=False),
        "interactions": serializers.ListField(child=serializers.CharField(), required=False),
        NON_FIELD: serializers.ListField(child=serializers.CharField(), required=False),
    },
)


class InteractionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    """An MSL team's visits and calls; nested insights are stored with the visit."""

    model = Interaction
    role_sees = "sees_medical_affairs"
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    ordering = ("-occurred_at", "-id")

    def scoped(self, qs: QuerySet) -> QuerySet:
        insights = Insight.objects.visible_to(self.request.user).order_by("id")
        return (
            qs.select_related("physician", "msl")
            .defer(*User.unshown("msl"))
            .prefetch_related(
                Prefetch("products", queryset=Product.objects.only("id")), Prefetch("insights", queryset=insights)
            )
        )

    def _read(self, *pks: int) -> list[Interaction]:
        by_pk = self.get_queryset().in_bulk(pks)
        return [by_pk[pk] for pk in pks]

    @extend_schema(request=InteractionCreateSerializer, responses={201: InteractionSerializer})
    def create(self, request: Request) -> Response:
        """Log a visit as the log-visit page does, with the insights heard during it (`insights`)
        and an optional follow-up, all or nothing. MSLs only."""
        require(request.user.is_msl, "Only Medical Science Liaisons record visits.")
        serializer = InteractionCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        interaction = services.log_interaction(**_validate_visit(request.user, serializer.validated_data))
        return Response(self.get_serializer(self._read(interaction.pk)[0]).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=InteractionUpdateSerializer, responses={200: InteractionSerializer})
    def partial_update(self, request: Request, pk=None) -> Response:
        interaction = self.get_object()
        require(interaction.msl_id == request.user.pk, "Only the MSL who logged this interaction may edit it.")
        serializer = InteractionUpdateSerializer(interaction, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        form = InteractionForm(
            data=form_data(serializer.validated_data, interaction, InteractionForm._meta.fields),
            instance=interaction,
            physician=interaction.physician,
            with_follow_up=False,
        )
        data = dict(cleaned(form))
        products = data.pop("products")
        services.update_interaction(interaction=interaction, by=request.user, products=products, **data)
        return Response(self.get_serializer(self._read(interaction.pk)[0]).data)

    @extend_schema(
        request=BulkInteractionsSerializer,
        responses={201: BulkLogged, 400: BulkRefused},
        description=(
            f'An offline queue\'s visits, up to {BULK_MAX}: `{{"interactions": [<as a create>, ...]}}`. Atomic: '
            'all are stored (201, in the order sent) or none (400, `{"errors": [{"index": 3, "errors": '
            "{...}}, ...]}` naming every refused item by its position)."
        ),
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        require(request.user.is_msl, "Only Medical Science Liaisons record visits.")
        items = request.data.get("interactions") if isinstance(request.data, dict) else None
        if not isinstance(items, list):
            raise exceptions.ValidationError({"interactions": ["A list of interactions is required."]})
        if not 1 <= len(items) <= BULK_MAX:
            raise exceptions.ValidationError({"interactions": [f"Send from 1 to {BULK_MAX} interactions."]})
        # Every item is checked before anything is written, as a single create would check it.
        visits, errors = [], []
        for index, item in enumerate(items):
            serializer = InteractionCreateSerializer(data=item, context=self.get_serializer_context())
            try:
                serializer.is_valid(raise_exception=True)
                visits.append(_validate_visit(request.user, serializer.validated_data))
            except exceptions.ValidationError as exc:
                errors.append({"index": index, "errors": exc.detail})
        if errors:
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        # Then all in one transaction: a rule only the service knows (a withdrawn consent, a date
        # in the future) refusing one item rolls back the others.
        with transaction.atomic():
            logged = []
            for index, visit in enumerate(visits):
                try:
                    logged.append(services.log_interaction(**visit).pk)
                except DjangoValidationError as exc:
                    errors.append({"index": index, "errors": serializers.as_serializer_error(exc)})
            if errors:
                transaction.set_rollback(True)
        if errors:
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        body = InteractionSerializer(self._read(*logged), many=True, context=self.get_serializer_context()).data
        return Response({"interactions": body}, status=status.HTTP_201_CREATED)


# --- insights -----------------------------------------------------------------------------------


class InsightSerializer(serializers.ModelSerializer):
    physician_name = serializers.CharField(source="physician.display_name", read_only=True)
    captured_by_name = serializers.CharField(source="captured_by.display_name", read_only=True)
    transitions = serializers.SerializerMethodField(help_text="The statuses you may move this insight to.")

    class Meta:
        model = Insight
        fields = [
            "id", "physician", "physician_name", "interaction", "product", "theme", "sentiment", "text", "status",
            "captured_by", "captured_by_name", "team", "captured_at", "reviewer", "review_note",
            "review_started_at", "actioned_at", "closed_at", "status_changed_at", "transitions",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=InsightStatus.choices)))
    def get_transitions(self, insight: Insight) -> list[str]:
        if not services.can_review(self.context["request"].user, insight):
            return []
        return list(services.INSIGHT_TRANSITIONS.get(insight.status, ()))


InsightUpdateSerializer = form_serializer(InsightForm)


class InsightCreateSerializer(InsightUpdateSerializer):
    physician = VisiblePrimaryKey(queryset=Physician.objects.all())

    class Meta(InsightUpdateSerializer.Meta):
        fields = ["physician", *InsightUpdateSerializer.Meta.fields]


class InsightTransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=InsightStatus.choices)
    note = serializers.CharField(max_length=TEXT_MAX, required=False, allow_blank=True, default="")


class InsightViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    model = Insight
    role_sees = "sees_medical_affairs"
    serializer_class = InsightSerializer
    filterset_class = InsightFilter
    ordering = ("-captured_at", "-id")

    def scoped(self, qs: QuerySet) -> QuerySet:
        return qs.select_related("physician", "captured_by").defer(*User.unshown("captured_by"))

    def _body(self, insight: Insight) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=insight.pk)).data

    @extend_schema(request=InsightCreateSerializer, responses={201: InsightSerializer})
    def create(self, request: Request) -> Response:
        """Capture an insight outside a visit (MSLs), as the capture page does."""
        require(request.user.is_msl, "Only Medical Science Liaisons capture insights.")
        serializer = InsightCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        physician = serializer.validated_data.pop("physician")
        data = cleaned(InsightForm(data=form_data(serializer.validated_data, Insight(), InsightForm._meta.fields)))
        insight = services.capture_insight(physician=physician, captured_by=request.user, **data)
        return Response(self._body(insight), status=status.HTTP_201_CREATED)

    @extend_schema(request=InsightUpdateSerializer, responses={200: InsightSerializer})
    def partial_update(self, request: Request, pk=None) -> Response:
        insight = self.get_object()
        require(insight.captured_by_id == request.user.pk, "Only the MSL who captured this insight may edit it.")
        serializer = InsightUpdateSerializer(insight, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        form = InsightForm(
            data=form_data(serializer.validated_data, insight, InsightForm._meta.fields), instance=insight
        )
        services.update_insight(insight=insight, by=request.user, **cleaned(form))
        return Response(self._body(insight))

    @extend_schema(request=InsightTransitionSerializer, responses={200: InsightSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk=None) -> Response:
        """Review: new → under_review → actioned or closed (a note is required for those two).
        Managers of the insight's team only."""
        insight = self.get_object()
        require(services.can_review(request.user, insight), "Only a manager of the insight's team may review it.")
        serializer = InsightTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = cleaned(InsightReviewForm(data={"note": serializer.validated_data["note"]}))["note"]
        insight = services.transition_insight(
            insight=insight, to=serializer.validated_data["to"], reviewer=request.user, note=note
        )
        return Response(self._body(insight))


# --- medical inquiries --------------------------------------------------------------------------


class InquirySerializer(serializers.ModelSerializer):
    physician_name = serializers.CharField(source="physician.display_name", read_only=True)
    owner_name = serializers.CharField(source="owner.display_name", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    delivery_method = serializers.ChoiceField(
        choices=DeliveryMethod.choices, allow_blank=True, read_only=True, help_text="Blank until answered."
    )

    class Meta:
        model = MedicalInquiry
        fields = [
            "id", "physician", "physician_name", "product", "question", "priority", "received_at", "due_at",
            "status", "is_overdue", "answer", "delivery_method", "answered_at", "delivered_at", "closed_at",
            "owner", "owner_name", "team", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


InquiryUpdateSerializer = form_serializer(InquiryForm)


class InquiryCreateSerializer(InquiryUpdateSerializer):
    physician = VisiblePrimaryKey(queryset=Physician.objects.all())

    class Meta(InquiryUpdateSerializer.Meta):
        fields = ["physician", *InquiryUpdateSerializer.Meta.fields]


class InquiryAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=TEXT_MAX)
    delivery_method = serializers.ChoiceField(choices=DeliveryMethod.choices)
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Omit for now.")


class InquiryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ViewSet):
    model = MedicalInquiry
    role_sees = "sees_medical_affairs"
    serializer_class = InquirySerializer
    filterset_class = InquiryFilter
    ordering = ("-received_at", "-id")

    def scoped(self, qs: QuerySet) -> QuerySet:
        return qs.select_related("physician", "owner").defer(*User.unshown("owner"))

    def _body(self, inquiry: MedicalInquiry) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=inquiry.pk)).data

    @extend_schema(request=InquiryCreateSerializer, responses={201: InquirySerializer})
    def create(self, request: Request) -> Response:
        """Record a medical information request (MSLs); its due date follows the priority."""
        require(request.user.is_msl, "Only Medical Science Liaisons record inquiries.")
        serializer = InquiryCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        physician = serializer.validated_data.pop("physician")
        data = form_data(serializer.validated_data, MedicalInquiry(), InquiryForm._meta.fields)
        inquiry = services.record_inquiry(physician=physician, owner=request.user, **cleaned(InquiryForm(data=data)))
        return Response(self._body(inquiry), status=status.HTTP_201_CREATED)

    @extend_schema(request=InquiryUpdateSerializer, responses={200: InquirySerializer})
    def partial_update(self, request: Request, pk=None) -> Response:
        inquiry = self.get_object()
        serializer = InquiryUpdateSerializer(inquiry, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        form = InquiryForm(
            data=form_data(serializer.validated_data, inquiry, InquiryForm._meta.fields), instance=inquiry
        )
        services.update_inquiry(inquiry=inquiry, by=request.user, **cleaned(form))
        return Response(self._body(inquiry))

    @extend_schema(request=InquiryAnswerSerializer, responses={200: InquirySerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk=None) -> Response:
        """Record the answer given and how it was delivered (an open inquiry)."""
        inquiry = self.get_object()
        serializer = InquiryAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = cleaned(InquiryAnswerForm(data=form_data(serializer.validated_data)))
        inquiry = services.answer_inquiry(inquiry=inquiry, by=request.user, **data)
        return Response(self._body(inquiry))

    @extend_schema(request=None, responses={200: InquirySerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        """Close an answered inquiry."""
        inquiry = services.close_inquiry(inquiry=self.get_object(), by=request.user)
        return Response(self._body(inquiry))


# --- sales-team trainings -----------------------------------------------------------------------


class AttendeeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    region = serializers.CharField(read_only=True)
    attended = serializers.BooleanField(read_only=True)
    score_before = serializers.IntegerField(read_only=True, allow_null=True)
    score_after = serializers.IntegerField(read_only=True, allow_null=True)


class TrainingSerializer(serializers.ModelSerializer):
    trainer_name = serializers.CharField(source="trainer.display_name", read_only=True)
    products = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    attendees = AttendeeSerializer(many=True, read_only=True)

    class Meta:
        model = TrainingSession
        fields = [
            "id", "title", "held_on", "products", "topics", "materials_note", "trainer", "trainer_name", "team",
            "attendees", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


_AttendeeFields = form_serializer(AttendeeForm)


class TrainingAttendeeWriteSerializer(_AttendeeFields):
    """A row of the attendee table (AttendeeForm's fields): without `id` it adds an attendee; with
    the `id` of one of the session's, it changes that attendee (the fields sent) or removes it."""

    id = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="An attendee of this session; omit to add one."
    )
    delete = serializers.BooleanField(required=False, default=False, help_text="Remove the attendee `id`.")

    class Meta(_AttendeeFields.Meta):
        fields = ["id", *_AttendeeFields.Meta.fields, "delete"]


_TrainingFields = form_serializer(TrainingForm)


class TrainingWriteSerializer(_TrainingFields):
    held_on = serializers.DateField(required=False, help_text="Omit for today (on a create).")
    attendees = serializers.ListField(
        child=TrainingAttendeeWriteSerializer(),
        required=False,
        max_length=AttendeeFormSet.absolute_max,
        help_text="Attendees to add, change or remove; those not named stay as they are.",
    )

    class Meta(_TrainingFields.Meta):
        fields = [*_TrainingFields.Meta.fields, "attendees"]


def _validate_attendees(rows: list[dict], training: TrainingSession | None) -> tuple[list[dict], list[int]]:
    """Each row as the page's attendee table checks it (AttendeeForm, over the attendee's stored
    values when it names one): the service's `attendees` and `remove_attendees`, or a 400."""
    existing = {a.pk: a for a in training.attendees.all()} if training else {}
    changes, removed, errors = [], [], {}
    for index, row in enumerate(rows):
        values = {k: v for k, v in row.items() if k not in ("id", "delete")}
        pk = row.get("id")
        if pk is not None and pk not in existing:
            errors[index] = {"id": [f"This session has no attendee {pk}."]}
        elif row.get("delete"):
            if pk is None:
                errors[index] = {"id": ["Name the attendee to remove by its id."]}
            else:
                removed.append(pk)
        else:
            start = existing[pk] if pk is not None else TrainingAttendee()
            form = AttendeeForm(data=form_data(values, start, AttendeeForm._meta.fields))
            if form.is_valid():
                changes.append({**form.cleaned_data, "id": pk})
            else:
                errors[index] = form_errors(form)
    if errors:
        raise exceptions.ValidationError({"attendees": errors})
    return changes, removed


class TrainingViewSet(ListRetrieve):
    """Sales-team training sessions with their attendee table: MSLs record them (as the trainer);
    the trainer or a manager of the team edits them."""

    model = TrainingSession
    role_sees = "sees_medical_affairs"
    serializer_class = TrainingSerializer
    filterset_class = TrainingFilter
    ordering = ("-held_on", "-id")

    def scoped(self, qs: QuerySet) -> QuerySet:
        return (
            qs.select_related("trainer")
            .defer(*User.unshown("trainer"))
            .prefetch_related(Prefetch("products", queryset=Product.objects.only("id")), "attendees")
        )

    def _body(self, training: TrainingSession) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=training.pk)).data

    def _validated(self, request: Request, training: TrainingSession | None) -> dict:
        """The page's TrainingForm and attendee rows run on the request: the service's arguments."""
        serializer = TrainingWriteSerializer(training, data=request.data, partial=training is not None)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        rows = data.pop("attendees", None)
        # A new session starts as the page's form shows it: held today.
        start = training or TrainingSession(held_on=timezone.localdate())
        form = TrainingForm(data=form_data(data, start, TrainingForm._meta.fields), instance=training)
        fields = dict(cleaned(form))
        if rows is None and training is not None:
            return fields  # attendees left as they are
        changes, removed = _validate_attendees(rows or [], training)
        return {**fields, "attendees": changes, **({"remove_attendees": removed} if training else {})}

    @extend_schema(request=TrainingWriteSerializer, responses={201: TrainingSerializer})
    def create(self, request: Request) -> Response:
        """Record a session you held (MSLs), with its products and attendees."""
        require(services.may_record_training(request.user), "Only an MSL (the trainer) records a training session.")
        training = services.record_training(by=request.user, **self._validated(request, None))
        return Response(self._body(training), status=status.HTTP_201_CREATED)

    @extend_schema(request=TrainingWriteSerializer, responses={200: TrainingSerializer})
    def partial_update(self, request: Request, pk=None) -> Response:
        training = self.get_object()
        require(
            services.may_edit_training(request.user, training), "Only the trainer or a manager may edit this session."
        )
        training = services.update_training(training=training, by=request.user, **self._validated(request, training))
        return Response(self._body(training))


# --- clinical trials and sites ------------------------------------------------------------------


class TrialSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = ClinicalTrial
        fields = [
            "id", "protocol_number", "nct_number", "title", "phase", "status", "product", "product_name",
            "sponsor_type", "sponsor_name",
        ]  # fmt: skip
        read_only_fields = fields


@form_write_schema
class TrialViewSet(FormWritesMixin, ListRetrieve):
    model = ClinicalTrial
    role_sees = "sees_trials"
    serializer_class = TrialSerializer
    write_serializer_class = form_serializer(TrialForm)
    form_class = TrialForm
    filterset_class = TrialFilter
    ordering = ("protocol_number", "id")

    def scoped(self, qs: QuerySet) -> QuerySet:
        return qs.select_related("product")


class SiteSerializer(serializers.ModelSerializer):
    protocol_number = serializers.CharField(source="trial.protocol_number", read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    principal_investigator_name = serializers.CharField(
        source="principal_investigator.display_name", read_only=True, allow_null=True
    )
    next_status = serializers.SerializerMethodField(help_text="The status the site moves to next (null: closed).")
    screened = serializers.IntegerField(read_only=True)
    screen_failures = serializers.IntegerField(read_only=True)
    enrolled = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrialSite
        fields = [
            "id", "trial", "protocol_number", "institution", "institution_name", "principal_investigator",
            "principal_investigator_name", "status", "next_status", "enrolment_target", "activated_on",
            "status_changed_at", "screened", "screen_failures", "enrolled",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=SiteStatus.choices, allow_null=True))
    def get_next_status(self, site: TrialSite) -> str | None:
        return services.next_site_status(site.status)


class SiteAdvanceSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=SiteStatus.choices, help_text="The next status (see next_status).")
    activated_on = serializers.DateField(required=False, allow_null=True, help_text="For `activated`; omit for today.")


@form_write_schema
class SiteViewSet(FormWritesMixin, ListRetrieve):
    """Trial sites, with their enrolment counted from the participations (counts, never rows)."""

    model = TrialSite
    role_sees = "sees_trials"
    serializer_class = SiteSerializer
    write_serializer_class = form_serializer(SiteForm)
    form_class = SiteForm
    filterset_class = SiteFilter
    ordering = ("id",)

    def scoped(self, qs: QuerySet) -> QuerySet:
        qs = qs.select_related("trial", "institution", "principal_investigator")
        return selectors.with_enrolment(qs)

    @extend_schema(request=SiteAdvanceSerializer, responses={200: SiteSerializer})
    @action(detail=True, methods=["post"])
    def advance(self, request: Request, pk=None) -> Response:
        """identified → selected → activated → enrolling → closed, one step at a time."""
        site = self.get_object()
        require(request.user.sees_medical_affairs, "Only medical affairs staff and managers move a site on.")
        serializer = SiteAdvanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = cleaned(SiteStatusForm(data=form_data(serializer.validated_data)))
        site = services.advance_site_status(
            site=site, to=data["to"], by=request.user, activated_on=data.get("activated_on")
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=site.pk)).data)


def register(router) -> None:
    """Add this app's viewsets to the API's router."""
    router.register("physicians", PhysicianViewSet, basename="physician")
    router.register("institutions", InstitutionViewSet, basename="institution")
    router.register("products", ProductViewSet, basename="product")
    router.register("interactions", InteractionViewSet, basename="interaction")
    router.register("insights", InsightViewSet, basename="insight")
    router.register("inquiries", InquiryViewSet, basename="inquiry")
    router.register("trainings", TrainingViewSet, basename="training")
    router.register("trials", TrialViewSet, basename="trial")
    router.register("sites", SiteViewSet, basename="site")
