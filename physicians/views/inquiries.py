"""Medical information requests: the list, recording one, its page with the answer and follow-up
forms, closing it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import medical_affairs_required
from liaison_crm.pagination import paginate
from outreach.models import FollowUp

from .. import services
from ..choices import InquiryStatus
from ..filters import InquiryFilter
from ..forms import FollowUpForm, InquiryAnswerForm, InquiryForm
from ..models import MedicalInquiry, Physician
from .common import apply_errors, msl_required, service_form


@medical_affairs_required
def inquiry_list(request: HttpRequest) -> HttpResponse:
    qs = MedicalInquiry.objects.visible_to(request.user).select_related("physician", "product", "owner")
    filterset = InquiryFilter(request.GET, queryset=qs, request=request)
    # Open first (soonest due first), then the rest newest first.
    ordered = filterset.qs.annotate(
        open_first=Case(When(status=InquiryStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("open_first", "due_at", "-received_at", "id")
    page = paginate(ordered, request.GET.get("page"))
    return render(
        request,
        "physicians/inquiry_list.html",
        {"title": "Medical inquiries", "page_obj": page, "filter": filterset, "now": timezone.now()},
    )


@msl_required
def inquiry_create(request: HttpRequest, pk: int) -> HttpResponse:
    physician = get_object_or_404(Physician.objects.visible_to(request.user), pk=pk)
    return service_form(
        request,
        InquiryForm(request.POST or None),
        lambda data: services.record_inquiry(physician=physician, owner=request.user, **data),
        message=lambda inquiry: f"Inquiry recorded, due {timezone.localtime(inquiry.due_at):%Y-%m-%d}.",
        success_url=lambda inquiry: reverse("physicians:inquiry_detail", args=[inquiry.pk]),
        title=f"Record an inquiry from {physician}",
        cancel_url=reverse("physicians:detail", args=[pk]),
    )


def _inquiry_for(request, pk: int) -> MedicalInquiry:
    return get_object_or_404(
        MedicalInquiry.objects.visible_to(request.user).select_related("physician", "product", "owner", "team"),
        pk=pk,
    )


def _inquiry_page(request, inquiry, *, answer_form=None, follow_up_form=None, status=200) -> HttpResponse:
    follow_ups = list(FollowUp.objects.visible_to(request.user).filter(inquiry=inquiry).select_related("owner"))
    return render(
        request,
        "physicians/inquiry_detail.html",
        {
            "title": str(inquiry),
            "inquiry": inquiry,
            "answer_form": answer_form or InquiryAnswerForm(),
            "follow_up_form": follow_up_form or FollowUpForm(),
            "follow_ups": follow_ups,
            "can_act": request.user.is_msl or request.user.is_manager or request.user.is_admin_role,
        },
        status=status,
    )


@medical_affairs_required
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _inquiry_page(request, _inquiry_for(request, pk))


@medical_affairs_required
def inquiry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry_for(request, pk)
    return service_form(
        request,
        InquiryForm(request.POST or None, instance=inquiry),
        lambda data: services.update_inquiry(inquiry=inquiry, by=request.user, **data),
        message="Inquiry updated.",
        success_url=reverse("physicians:inquiry_detail", args=[pk]),
        title="Edit inquiry",
        cancel_url=reverse("physicians:inquiry_detail", args=[pk]),
    )


@medical_affairs_required
@require_POST
def inquiry_answer(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry_for(request, pk)
    form = InquiryAnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer_inquiry(inquiry=inquiry, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Answer recorded.")
            return redirect("physicians:inquiry_detail", pk=pk)
    return _inquiry_page(request, inquiry, answer_form=form, status=422)


@medical_affairs_required
@require_POST
def inquiry_close(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry_for(request, pk)
    try:
        services.close_inquiry(inquiry=inquiry, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Inquiry closed.")
    return redirect("physicians:inquiry_detail", pk=pk)


@medical_affairs_required
@require_POST
def inquiry_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry_for(request, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.inquiry_follow_up(
                inquiry=inquiry, owner=request.user, days=form.cleaned_data["days"], title=form.cleaned_data["title"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Follow-up added.")
            return redirect("physicians:inquiry_detail", pk=pk)
    return _inquiry_page(request, inquiry, follow_up_form=form, status=422)
