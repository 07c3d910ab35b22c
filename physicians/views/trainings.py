"""Sales-team training sessions: the list, the page, and the form with its attendee table."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.roles import medical_affairs_required
from liaison_crm.pagination import paginate

from ..filters import TrainingFilter
from ..forms import AttendeeFormSet, TrainingForm
from ..models import TrainingSession
from .common import form_page


@medical_affairs_required
def training_list(request: HttpRequest) -> HttpResponse:
    qs = TrainingSession.objects.visible_to(request.user).select_related("trainer", "team")
    filterset = TrainingFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("-held_on", "-id"), request.GET.get("page"))
    return render(
        request,
        "physicians/training_list.html",
        {"title": "Sales-team trainings", "page_obj": page, "filter": filterset},
    )


def _training_form_page(request, session: TrainingSession | None) -> HttpResponse:
    if session is None and not request.user.is_msl:
        raise PermissionDenied("Only an MSL (the trainer) records a training session.")
    form = TrainingForm(request.POST or None, instance=session)
    attendees = AttendeeFormSet(request.POST or None, instance=session or TrainingSession(), prefix="attendees")
    if request.method == "POST" and form.is_valid() and attendees.is_valid():
        with transaction.atomic():
            obj = form.save(commit=False)
            if session is None:
                obj.trainer = request.user
                obj.team_id = request.user.team_id
            obj.save()
            form.save_m2m()
            attendees.instance = obj
            attendees.save()
        messages.success(request, "Training session saved.")
        return redirect("physicians:training_detail", pk=obj.pk)
    return form_page(
        request,
        "physicians/training_form.html",
        {
            "title": "Edit training session" if session else "New training session",
            "form": form,
            "attendees": attendees,
            "cancel_url": reverse("physicians:training_detail", args=[session.pk])
            if session
            else reverse("physicians:trainings"),
        },
        invalid=request.method == "POST",
    )


@medical_affairs_required
def training_create(request: HttpRequest) -> HttpResponse:
    return _training_form_page(request, None)


def _training_for(request, pk: int) -> TrainingSession:
    return get_object_or_404(TrainingSession.objects.visible_to(request.user).select_related("trainer", "team"), pk=pk)


def _may_edit(user, session: TrainingSession) -> bool:
    return session.trainer_id == user.pk or user.is_manager or user.is_admin_role


@medical_affairs_required
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = _training_for(request, pk)
    attendees = list(session.attendees.all())
    scored = [a for a in attendees if a.score_before is not None and a.score_after is not None]
    gain = round(sum(a.score_after - a.score_before for a in scored) / len(scored), 1) if scored else None
    return render(
        request,
        "physicians/training_detail.html",
        {
            "title": str(session),
            "session": session,
            "products": list(session.products.all()),
            "attendees": attendees,
            "attended": sum(1 for a in attendees if a.attended),
            "gain": gain,
            "can_edit": _may_edit(request.user, session),
        },
    )


@medical_affairs_required
def training_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _training_for(request, pk)
    if not _may_edit(request.user, session):
        raise PermissionDenied("Only the trainer or a manager may edit this session.")
    return _training_form_page(request, session)
