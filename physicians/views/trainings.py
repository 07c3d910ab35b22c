"""Sales-team training sessions: the list, the page, and the form with its attendee table."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.roles import medical_affairs_required
from liaison_crm.pagination import paginate

from .. import services
from ..filters import TrainingFilter
from ..forms import AttendeeFormSet, TrainingForm
from ..models import TrainingSession
from .common import apply_errors, form_page


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


def _attendee_changes(formset) -> tuple[list[dict], list[int]]:
    """The attendee table as the service takes it, read as the model formset's save() reads it:
    the rows to add or change and the ids to delete. A row naming no attendee of this session, an
    unchanged row, and a new row that is empty or ticked for deletion are none of them."""
    rows, removed = [], []
    for form in formset.initial_forms:
        pk = form.instance.pk
        if pk is None:
            continue
        if form.cleaned_data.get("DELETE"):
            removed.append(pk)
        elif form.has_changed():
            rows.append({name: form.cleaned_data[name] for name in services.ATTENDEE_FIELDS} | {"id": pk})
    for form in formset.extra_forms:
        if form.has_changed() and not form.cleaned_data.get("DELETE"):
            rows.append({name: form.cleaned_data[name] for name in services.ATTENDEE_FIELDS})
    return rows, removed


def _training_form_page(request, session: TrainingSession | None) -> HttpResponse:
    if session is None and not services.may_record_training(request.user):
        raise PermissionDenied("Only an MSL (the trainer) records a training session.")
    form = TrainingForm(request.POST or None, instance=session)
    attendees = AttendeeFormSet(request.POST or None, instance=session or TrainingSession(), prefix="attendees")
    if request.method == "POST" and form.is_valid() and attendees.is_valid():
        fields = {name: form.cleaned_data[name] for name in TrainingForm._meta.fields}
        rows, removed = _attendee_changes(attendees)
        try:
            if session is None:
                obj = services.record_training(by=request.user, attendees=rows, **fields)
            else:
                obj = services.update_training(
                    training=session, by=request.user, attendees=rows, remove_attendees=removed, **fields
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
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
            "can_edit": services.may_edit_training(request.user, session),
        },
    )


@medical_affairs_required
def training_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _training_for(request, pk)
    if not services.may_edit_training(request.user, session):
        raise PermissionDenied("Only the trainer or a manager may edit this session.")
    return _training_form_page(request, session)
