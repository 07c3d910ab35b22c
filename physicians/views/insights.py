"""Insights: the list, the managers' review queue and review actions, capture and edit."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.roles import manager_required, medical_affairs_required
from liaison_crm.pagination import paginate

from .. import services
from ..choices import InsightStatus
from ..filters import InsightFilter
from ..forms import InsightForm, InsightReviewForm
from ..models import Insight, Physician
from .common import msl_required, service_form

REVIEW_CARD = "physicians/_insight_review_row.html"


@medical_affairs_required
def insight_list(request: HttpRequest) -> HttpResponse:
    qs = Insight.objects.visible_to(request.user).select_related("physician", "product", "captured_by")
    filterset = InsightFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("-captured_at", "-id"), request.GET.get("page"))
    return render(request, "physicians/insight_list.html", {"title": "Insights", "page_obj": page, "filter": filterset})


@manager_required
def insight_review_queue(request: HttpRequest) -> HttpResponse:
    """Managers: insights waiting for review (new, then under review), oldest first."""
    qs = (
        Insight.objects.visible_to(request.user)
        .filter(status__in=[InsightStatus.NEW, InsightStatus.UNDER_REVIEW])
        .select_related("physician", "product", "captured_by")
    )
    filterset = InsightFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("captured_at", "id"), request.GET.get("page"))
    return render(
        request,
        "physicians/insight_review.html",
        {
            "title": "Insight review queue",
            "page_obj": page,
            "filter": filterset,
        },
    )


@msl_required
def insight_capture(request: HttpRequest, pk: int) -> HttpResponse:
    physician = get_object_or_404(Physician.objects.visible_to(request.user), pk=pk)
    return service_form(
        request,
        InsightForm(request.POST or None),
        lambda data: services.capture_insight(physician=physician, captured_by=request.user, **data),
        message="Insight captured.",
        success_url=reverse("physicians:detail", args=[pk]),
        title=f"Capture an insight from {physician}",
        cancel_url=reverse("physicians:detail", args=[pk]),
    )


def _insight_for(request, pk: int) -> Insight:
    return get_object_or_404(
        Insight.objects.visible_to(request.user).select_related(
            "physician", "product", "captured_by", "reviewer", "interaction__physician", "team"
        ),
        pk=pk,
    )


@medical_affairs_required
def insight_detail(request: HttpRequest, pk: int) -> HttpResponse:
    insight = _insight_for(request, pk)
    transitions = (
        services.INSIGHT_TRANSITIONS.get(insight.status, ()) if services.can_review(request.user, insight) else ()
    )
    return render(
        request,
        "physicians/insight_detail.html",
        {
            "title": str(insight),
            "insight": insight,
            "transitions": [(t, InsightStatus(t).label) for t in transitions],
            "review_form": InsightReviewForm(),
            "can_edit": insight.captured_by_id == request.user.pk and insight.status == InsightStatus.NEW,
        },
    )


@medical_affairs_required
def insight_edit(request: HttpRequest, pk: int) -> HttpResponse:
    insight = _insight_for(request, pk)
    if insight.captured_by_id != request.user.pk:
        raise PermissionDenied("Only the MSL who captured this insight may edit it.")
    return service_form(
        request,
        InsightForm(request.POST or None, instance=insight),
        lambda data: services.update_insight(insight=insight, by=request.user, **data),
        message="Insight updated.",
        success_url=reverse("physicians:insight_detail", args=[pk]),
        title="Edit insight",
        cancel_url=reverse("physicians:insight_detail", args=[pk]),
    )


@manager_required
@require_http_methods(["GET", "POST"])
def insight_transition(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: move the insight along. GET: the review card's note field, loaded when it opens."""
    insight = _insight_for(request, pk)
    if request.method == "GET":
        return render(request, "physicians/_review_note.html", {"review_form": InsightReviewForm.for_card(insight)})
    form = InsightReviewForm(request.POST)
    form.is_valid()
    error = None
    try:
        insight = services.transition_insight(
            insight=insight,
            to=request.POST.get("to", ""),
            reviewer=request.user,
            note=form.cleaned_data.get("note", ""),
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        # The card again, as the queue shows it (the same partial).
        return render(
            request,
            REVIEW_CARD,
            # A refused review keeps what was typed, its note field shown.
            {"insight": insight, "error": error, "review_form": InsightReviewForm.for_card(insight, request.POST)},
            status=422 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Insight moved to {insight.get_status_display().lower()}.")
    return redirect("physicians:insight_detail", pk=pk)
