from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from icalendar import Calendar, Event

from liaison_crm.pagination import paginate

from . import lookups, selectors, services
from .forms import EventFilterForm, FollowUpFilterForm, OutreachEventForm, QuickAddForm, ReassignForm, SnoozeForm
from .models import CalendarFeed, FollowUp, FollowUpStatus, Notification, OutreachEvent

SECTION_LIMIT = 10


def _int(value) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    # No id is outside 64 bits; the database driver would raise on one (SQLite: OverflowError).
    return number if number is None or -(2**63) <= number < 2**63 else None


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("outreach:follow_ups")
    # A URL, never a view name: redirect() would try to reverse "next=abc" and fail with a 500.
    return HttpResponseRedirect(target)


# --- Follow-ups ----------------------------------------------------------------------------------


def follow_up_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    people = selectors.can_filter_people(user)
    filters = FollowUpFilterForm(request.GET or None, user=user, people=people)
    filters.is_valid()
    chosen = getattr(filters, "cleaned_data", {})
    state = chosen.get("state") or ""
    if state not in selectors.STATE_LABELS:
        state = ""
    owner, team = chosen.get("owner"), chosen.get("team")
    base = selectors.follow_ups_for(
        user, q=chosen.get("q") or "", owner_id=owner.pk if owner else None, team_id=team.pk if team else None
    )
    if filters.errors:
        # A person or team this user may not pick (or no longer can): nothing matches it.
        base = base.none()
    b = selectors.bounds()
    context = {
        "title": "Follow-ups",
        "state": state,
        "people": people,
        "can_reassign": selectors.can_reassign(user),
        "filters": filters,
        "form": QuickAddForm(assignees=lookups.assignees(user) if people else None),
        "state_labels": selectors.STATE_LABELS,
        "now": b.now,
    }
    if state:
        context["page_obj"] = paginate(selectors.in_state(base, state, b), request.GET.get("page"))
        context["state_label"] = selectors.STATE_LABELS[state]
    else:
        sections = []
        for key in selectors.STATES:
            rows = list(selectors.in_state(base, key, b)[: SECTION_LIMIT + 1])
            sections.append(
                {
                    "key": key,
                    "label": selectors.STATE_LABELS[key],
                    "rows": rows[:SECTION_LIMIT],
                    "more": len(rows) > SECTION_LIMIT,
                }
            )
        context["sections"] = sections
    return render(request, "outreach/follow_up_list.html", context)


@require_GET
def follow_up_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One follow-up, with its actions: where reminder, escalation and assignment emails lead."""
    follow_up = get_object_or_404(selectors.follow_ups_for(request.user).select_related("created_by"), pk=pk)
    return render(
        request,
        "outreach/follow_up_detail.html",
        {
            "title": follow_up.title,
            "fu": follow_up,
            "can_reassign": selectors.can_reassign(request.user),
            "people": True,
            "now": timezone.now(),
        },
    )


@require_POST
def follow_up_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    people = selectors.can_filter_people(user)
    form = QuickAddForm(request.POST, assignees=lookups.assignees(user) if people else None)
    if form.is_valid():
        owner = form.cleaned_data.get("owner") or user
        try:
            services.create_follow_up(
                owner=owner,
                title=form.cleaned_data["title"],
                due_at=form.cleaned_data["due_at"],
                notes=form.cleaned_data["notes"],
                created_by=user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Follow-up added.")
            return redirect("outreach:follow_ups")
    return render(
        request,
        "outreach/follow_up_add.html",
        {"title": "Add a follow-up", "form": form},
        status=422,
    )


def _row_response(request, follow_up: FollowUp, *, error: str = "", status: int = 200) -> HttpResponse:
    follow_up = selectors.follow_ups_for(request.user).filter(pk=follow_up.pk).first() or follow_up
    context = {
        "fu": follow_up,
        "can_reassign": selectors.can_reassign(request.user),
        "people": selectors.can_filter_people(request.user),
        "now": timezone.now(),
        "row_error": error,
    }
    return render(request, "outreach/_follow_up_row.html", context, status=status)


def _act(request: HttpRequest, pk: int, action) -> HttpResponse:
    follow_up = get_object_or_404(FollowUp.objects.visible_to(request.user), pk=pk)
    try:
        follow_up = action(follow_up)
    except ValidationError as exc:
        error = " ".join(exc.messages)
        if request.htmx:
            return _row_response(request, follow_up, error=error, status=422)
        messages.error(request, error)
        return _back(request)
    if request.htmx:
        return _row_response(request, follow_up)
    return _back(request)


@require_POST
def follow_up_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda fu: services.complete_follow_up(follow_up=fu, by=request.user))


def _row_form(request: HttpRequest, pk: int, template: str, form_for) -> HttpResponse:
    """GET of a row action: its form, for the row's menu to load when it opens."""
    follow_up = get_object_or_404(selectors.follow_ups_for(request.user), pk=pk)
    return render(request, template, {"fu": follow_up, "form": form_for(follow_up)})


@require_http_methods(["GET", "POST"])
def follow_up_snooze(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        return _row_form(request, pk, "outreach/_snooze_form.html", SnoozeForm.for_row)
    form = SnoozeForm(request.POST)

    def action(fu):
        if not form.is_valid():
            raise ValidationError([e for errs in form.errors.values() for e in errs])
        data = form.cleaned_data
        if data.get("days"):
            until = services.snooze_target(days=data["days"])
        else:
            until = services.snooze_target(date=data["until"])
        return services.snooze_follow_up(follow_up=fu, until=until, by=request.user)

    return _act(request, pk, action)


@require_http_methods(["GET", "POST"])
def follow_up_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        return _row_form(request, pk, "outreach/_reassign_form.html", ReassignForm.for_row)

    def action(fu):
        target_id = _int(request.POST.get("owner"))
        target = get_user_model().objects.filter(pk=target_id, is_active=True).first() if target_id else None
        if target is None:
            raise ValidationError("Pick someone to assign it to.")
        return services.reassign_follow_up(follow_up=fu, to=target, by=request.user)

    return _act(request, pk, action)


# --- Notifications -------------------------------------------------------------------------------


@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    """Polled by the bell every minute with X-Background-Poll (does not count as activity)."""
    count = selectors.unread_count(request.user)
    return render(request, "outreach/_bell.html", {"unread": count, "capped": count >= 100})


def notification_list(request: HttpRequest) -> HttpResponse:
    qs = Notification.objects.visible_to(request.user)
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        qs = qs.unread()
    page = paginate(qs.order_by("-created_at", "-id"), request.GET.get("page"))
    return render(
        request,
        "outreach/notification_list.html",
        {"title": "Notifications", "page_obj": page, "only_unread": only_unread},
    )


@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    services.mark_notification_read(notification=notification)
    if (
        request.POST.get("open")
        and notification.url
        and url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()})
    ):
        return redirect(notification.url)
    if request.htmx:
        return render(request, "outreach/_notification_row.html", {"n": notification})
    return redirect("outreach:notifications")


@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_notifications_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("outreach:notifications")


# --- Calendar ------------------------------------------------------------------------------------


def calendar_settings(request: HttpRequest) -> HttpResponse:
    feed = CalendarFeed.objects.filter(user=request.user).first()
    url = request.build_absolute_uri(reverse("outreach:calendar_feed", args=[feed.token])) if feed else ""
    return render(request, "outreach/calendar.html", {"title": "Calendar feed", "feed": feed, "feed_url": url})


@require_POST
def calendar_regenerate(request: HttpRequest) -> HttpResponse:
    services.regenerate_calendar_token(user=request.user)
    messages.success(request, "A new calendar address was created; the old one no longer works.")
    return redirect("outreach:calendar")


@require_POST
def calendar_revoke(request: HttpRequest) -> HttpResponse:
    services.revoke_calendar_feed(user=request.user)
    messages.success(request, "Your calendar feed was turned off.")
    return redirect("outreach:calendar")


FEED_LIMIT = 1000


@login_not_required
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = CalendarFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
    if feed is None or not token:
        raise Http404("No such calendar.")
    user = feed.user
    rows = (
        FollowUp.objects.visible_to(user)
        .filter(owner=user, status=FollowUpStatus.OPEN)
        .select_related("physician")
        .order_by("due_at", "id")[:FEED_LIMIT]
    )
    cal = Calendar()
    cal.add("prodid", "-//Liaison CRM//Follow-ups//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Liaison CRM follow-ups")
    stamp = timezone.now()
    base = request.build_absolute_uri(reverse("outreach:follow_ups"))
    for fu in rows:
        event = Event()
        event.add("uid", f"followup-{fu.pk}@liaison-crm")
        event.add("dtstamp", stamp)
        event.add("dtstart", fu.due_at)
        event.add("dtend", fu.due_at + timedelta(minutes=30))
        # A calendar leaves the application (phones, cloud calendars): cases by number only.
        event.add("summary", services.safe_title(fu))
        if not fu.case_id and fu.notes:
            event.add("description", fu.notes)
        event.add("url", base)
        cal.add_component(event)
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=stamp)
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="follow-ups.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Outreach events ------------------------------------------------------------------------------

EVENT_SORTS = {"date", "-date", "title", "-title", "contacts_made", "-contacts_made"}


def event_list(request: HttpRequest) -> HttpResponse:
    qs = OutreachEvent.objects.visible_to(request.user).select_related("organiser", "team")
    filters = EventFilterForm(request.GET or None)
    filters.is_valid()
    chosen = getattr(filters, "cleaned_data", {})
    q = chosen.get("q") or ""
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(place__icontains=q))
    if chosen.get("kind"):
        qs = qs.filter(kind=chosen["kind"])
    if chosen.get("date_from"):
        qs = qs.filter(date__gte=chosen["date_from"])
    if chosen.get("date_to"):
        qs = qs.filter(date__lte=chosen["date_to"])
    if {"date_from", "date_to"} & set(filters.errors):
        qs = qs.none()  # not a date: nothing is on it (the field says why)
    team = _int(request.GET.get("team"))
    if team:
        qs = qs.filter(team_id=team)
    sort = request.GET.get("sort", "-date")
    if sort not in EVENT_SORTS:
        sort = "-date"
    page = paginate(qs.order_by(sort, "-id"), request.GET.get("page"))
    return render(
        request,
        "outreach/event_list.html",
        {"title": "Outreach events", "page_obj": page, "filters": filters, "current_sort": sort},
    )


def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(OutreachEvent.objects.visible_to(request.user).select_related("organiser", "team"), pk=pk)
    referrals = list(event.referrals.order_by("pk").values_list("pk", flat=True)) if request.user.sees_phi else []
    return render(
        request,
        "outreach/event_detail.html",
        {
            "title": event.title,
            "event": event,
            "referral_ids": referrals,
            "may_edit": services.may_edit_event(request.user, event),
        },
    )


def _event_form(request: HttpRequest, event: OutreachEvent) -> HttpResponse:
    form = OutreachEventForm(request.POST or None, instance=event, user=request.user)
    if request.method == "POST" and form.is_valid():
        referrals = form.cleaned_data.get("referral_cases") if "referral_cases" in form.fields else None
        try:
            saved = services.save_outreach_event(event=form.instance, by=request.user, referrals=referrals)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Event saved.")
            return redirect("outreach:event_detail", pk=saved.pk)
    status = 422 if request.method == "POST" else 200
    title = "Edit event" if event.pk else "New outreach event"
    return render(request, "outreach/event_form.html", {"title": title, "form": form, "event": event}, status=status)


def event_create(request: HttpRequest) -> HttpResponse:
    return _event_form(request, OutreachEvent(organiser=request.user))


def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(OutreachEvent.objects.visible_to(request.user), pk=pk)
    if not services.may_edit_event(request.user, event):
        raise PermissionDenied("Only the organiser and the team's managers may edit this event.")
    return _event_form(request, event)
