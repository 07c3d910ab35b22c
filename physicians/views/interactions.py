"""Interactions (an MSL's visits): the list and its CSV, logging one with its insights, the page
and the edit form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.roles import medical_affairs_required
from liaison_crm.csv_export import choice_label, csv_response, full_name, yes_no
from liaison_crm.pagination import paginate

from .. import services
from ..choices import Channel
from ..filters import InteractionFilter
from ..forms import InlineInsightFormSet, InteractionForm
from ..models import Interaction, Physician
from .common import apply_errors, form_page, msl_required, service_form


@medical_affairs_required
def interaction_list(request: HttpRequest) -> HttpResponse:
    qs = Interaction.objects.visible_to(request.user).select_related("physician", "msl", "team")
    filterset = InteractionFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("-occurred_at", "-id"), request.GET.get("page"))
    return render(
        request, "physicians/interaction_list.html", {"title": "Interactions", "page_obj": page, "filter": filterset}
    )


@medical_affairs_required
def interaction_export(request: HttpRequest) -> StreamingHttpResponse:
    """The interaction list as filtered, streamed: call reports for medical affairs leadership."""
    qs = Interaction.objects.visible_to(request.user)
    filterset = InteractionFilter(request.GET, queryset=qs, request=request)
    header = ["Date and time", "Physician", "NPI", "MSL", "Team", "Channel", "Duration (min)", "Topics",
              "Unsolicited request", "Off-label discussed", "Summary"]  # fmt: skip
    ordered = filterset.qs.order_by("-occurred_at", "-id").annotate(
        physician_name=full_name("physician__first_name", "physician__last_name"),
        msl_name=full_name("msl__first_name", "msl__last_name"),
        channel_label=choice_label("channel", Channel.choices),
        unsolicited=yes_no("unsolicited_request"),
        off_label=yes_no("off_label_discussed"),
    )
    columns = (
        "occurred_at", "physician_name", "physician__npi", "msl_name", "team__name", "channel_label",
        "duration_minutes", "topics", "unsolicited", "off_label", "summary",
    )  # fmt: skip
    rows = ordered.values_list(*columns).iterator(chunk_size=2000)
    return csv_response(f"interactions-{timezone.localdate():%Y-%m-%d}.csv", header, rows)


@msl_required
def interaction_log(request: HttpRequest, pk: int) -> HttpResponse:
    physician = get_object_or_404(Physician.objects.visible_to(request.user).select_related("institution"), pk=pk)
    form = InteractionForm(request.POST or None, physician=physician)
    insights = InlineInsightFormSet(request.POST or None, prefix="insights")
    if request.method == "POST" and form.is_valid() and insights.is_valid():
        data = form.cleaned_data
        try:
            interaction = services.log_interaction(
                physician=physician,
                msl=request.user,
                occurred_at=data["occurred_at"],
                channel=data["channel"],
                duration_minutes=data["duration_minutes"],
                products=data["products"],
                topics=data["topics"],
                summary=data["summary"],
                unsolicited_request=data["unsolicited_request"],
                off_label_discussed=data["off_label_discussed"],
                trial_site=data["trial_site"],
                insights=[f.cleaned_data for f in insights.forms if f.has_changed() and f.cleaned_data],
                follow_up_days=data.get("follow_up_days"),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            n = interaction.insights.count()
            messages.success(
                request, f"Interaction logged{f' with {n} insight' + ('s' if n != 1 else '') if n else ''}."
            )
            return redirect("physicians:detail", pk=physician.pk)
    return form_page(
        request,
        "physicians/interaction_form.html",
        {"title": f"Log an interaction with {physician}", "physician": physician, "form": form, "insights": insights},
        invalid=request.method == "POST",
    )


def _interaction_for(request, pk: int) -> Interaction:
    return get_object_or_404(
        Interaction.objects.visible_to(request.user).select_related(
            "physician", "physician__institution", "msl", "team", "trial_site__trial", "trial_site__institution"
        ),
        pk=pk,
    )


@medical_affairs_required
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = _interaction_for(request, pk)
    return render(
        request,
        "physicians/interaction_detail.html",
        {
            "title": str(interaction),
            "interaction": interaction,
            "products": list(interaction.products.all()),
            "insights": list(interaction.insights.select_related("product")),
            "can_edit": interaction.msl_id == request.user.pk,
        },
    )


@medical_affairs_required
def interaction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = _interaction_for(request, pk)
    if interaction.msl_id != request.user.pk:
        raise PermissionDenied("Only the MSL who logged this interaction may edit it.")
    form = InteractionForm(
        request.POST or None, instance=interaction, physician=interaction.physician, with_follow_up=False
    )

    def save(data: dict) -> Interaction:
        data = dict(data)
        products = data.pop("products")
        return services.update_interaction(interaction=interaction, by=request.user, products=products, **data)

    return service_form(
        request,
        form,
        save,
        message="Interaction updated.",
        success_url=reverse("physicians:interaction_detail", args=[pk]),
        title="Edit interaction",
        cancel_url=reverse("physicians:interaction_detail", args=[pk]),
    )
