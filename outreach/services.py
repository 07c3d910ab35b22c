"""Follow-up actions, reminders, escalations, digests and the email outbox.

Views, tasks and other apps' services call these; service-level rules live in outreach/rules.py.

Reminder delivery (why it is built this way)
--------------------------------------------
A reminder is two side effects: an in-app notification and an email. The dispatcher claims a
batch of due follow-ups with `SELECT ... FOR UPDATE SKIP LOCKED` (racing processes take disjoint
batches), stamps `reminded_at`, and in the SAME transaction writes the notifications and one
EmailOutbox row per email. Either all of that commits or none of it does: a worker killed before
the commit leaves the follow-ups unstamped for the next run, a worker killed after it leaves the
notification and the queued email in the database. The outbox is then flushed: rows are claimed
with a lease (`claimed_at`, again FOR UPDATE SKIP LOCKED), sent through one SMTP connection and
stamped `sent_at`. A sender killed after claiming but before sending leaves the lease to expire
(EMAIL_OUTBOX_LEASE_SECONDS), and the row is sent by a later run: nothing is lost. The one window
no database can close is a crash between the mail server accepting a message and `sent_at`
being written (stamped every few messages); only then can an email go out twice. The
notification is exactly-once in every case.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from accounts.models import NotificationPreferences

from . import conf
from .models import (
    CalendarFeed,
    DigestLog,
    EmailOutbox,
    FollowUp,
    FollowUpStatus,
    Notification,
    OutreachEvent,
)

logger = logging.getLogger(__name__)
OUTBOX_STAMP_EVERY = 50


# --- Creating and changing follow-ups ---------------------------------------------------------


def _check_owner_may_see(*, owner, case=None, interaction=None, inquiry=None, case_id=None, medical=False) -> None:
    if (case is not None or case_id) and not owner.sees_phi:
        raise ValidationError(f"{owner} may not see patient information, so cannot own a follow-up about a case.")
    if (interaction is not None or inquiry is not None or medical) and not owner.sees_medical_affairs:
        raise ValidationError(f"{owner} may not see medical affairs records, so cannot own this follow-up.")


@transaction.atomic
def create_follow_up(
    *,
    owner,
    title: str,
    due_at: datetime,
    notes: str = "",
    created_by=None,
    physician=None,
    interaction=None,
    inquiry=None,
    case=None,
    rule: str = "",
    rule_key: str = "",
) -> FollowUp:
    """Open a follow-up for `owner`, concerning at most one record."""
    concerns = [x for x in (physician, interaction, inquiry, case) if x is not None]
    if len(concerns) > 1:
        raise ValidationError("A follow-up concerns at most one record.")
    _check_owner_may_see(owner=owner, case=case, interaction=interaction, inquiry=inquiry)
    follow_up = FollowUp(
        owner=owner,
        team_id=owner.team_id,
        title=title,
        notes=notes,
        due_at=due_at,
        created_by=created_by,
        physician=physician,
        interaction=interaction,
        inquiry=inquiry,
        case=case,
        rule=rule,
        rule_key=rule_key,
    )
    follow_up.full_clean(validate_constraints=False)
    follow_up.save()
    return follow_up


# Which of accounts.NotificationPreferences' choices decides whether a kind also goes by email.
# A kind not here (information) is in-app only.
EMAIL_PREFERENCE = {
    Notification.Kind.REMINDER: "reminder",
    Notification.Kind.ESCALATION: "escalation",
    Notification.Kind.INSIGHT_STATUS: "insight_review",
    Notification.Kind.ASSIGNMENT: "follow_up_assigned",
    Notification.Kind.CASE_ASSIGNMENT: "case_assigned",
}


def wants_email(user, kind: str) -> bool:
    """Whether `user` takes this kind of notification by email as well as in the app."""
    preference = EMAIL_PREFERENCE.get(kind)
    return preference is not None and NotificationPreferences.wants_email(user, preference)


def notify(
    *,
    user,
    title: str,
    body: str = "",
    url: str = "",
    kind: str = "info",
    follow_up=None,
    email: bool = True,
    email_title: str | None = None,
) -> Notification:
    """An in-app notification for `user` (the bell in the top bar), and the same by email when
    `email` and the user takes this kind by email (accounts.NotificationPreferences: by default
    they do). The email is queued in the outbox in the caller's transaction: both or neither.

    An email leaves the application: `email_title` replaces the title there when the in-app one
    may carry patient data (a case follow-up's own title); `body` must carry none.
    """
    notification = Notification.objects.create(
        user=user, title=title[:200], body=body, url=url[:300], kind=kind, follow_up=follow_up
    )
    if email and wants_email(user, kind):
        subject = (email_title or title)[:200]
        context = {
            "user": user,
            "title": subject,
            "body": body,
            "url": absolute_url(url or "/"),
            "settings_url": absolute_url(reverse("notification_settings")),
        }
        text, html = _render_email("notification", context)
        EmailOutbox.objects.create(to=user.email, subject=subject, body_text=text, body_html=html)
    return notification


def _require_open(follow_up: FollowUp, action: str) -> None:
    if follow_up.status != FollowUpStatus.OPEN:
        raise ValidationError(
            f"Only an open follow-up can be {action}; this one is {follow_up.get_status_display().lower()}."
        )


@transaction.atomic
def complete_follow_up(*, follow_up: FollowUp, by) -> FollowUp:
    """Mark done. Completing a done follow-up again changes nothing."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.status == FollowUpStatus.DONE:
        return follow_up
    _require_open(follow_up, "completed")
    follow_up.status = FollowUpStatus.DONE
    follow_up.completed_at = timezone.now()
    follow_up.completed_by = by
    follow_up.save(update_fields=["status", "completed_at", "completed_by"])
    return follow_up


@transaction.atomic
def snooze_follow_up(*, follow_up: FollowUp, until: datetime, by) -> FollowUp:
    """Move the due time; the reminder and the escalation start over for the new time."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    _require_open(follow_up, "snoozed")
    if until <= timezone.now():
        raise ValidationError("Snooze to a time in the future.")
    follow_up.due_at = until
    follow_up.reminded_at = None
    follow_up.escalated_at = None
    follow_up.save(update_fields=["due_at", "reminded_at", "escalated_at"])
    return follow_up


def snooze_target(*, days: int | None = None, date=None, now: datetime | None = None) -> datetime:
    """'1 day' / '1 week' keep the time of day from now; a picked date means 9:00 that day."""
    now = now or timezone.now()
    if days is not None:
        return now + timedelta(days=days)
    return timezone.make_aware(datetime.combine(date, time(9, 0)))


def assignable_users(actor):
    """Whom `actor` may hand a follow-up to: their own team; a manager, the teams they lead."""
    User = get_user_model()
    users = User.objects.filter(is_active=True).select_related("team")
    scope = actor.scope_team_ids
    if scope is None:
        return users.filter(team__isnull=False)
    if actor.is_manager:
        return users.filter(Q(team__in=scope) | Q(pk=actor.pk))
    if actor.team_id is None:
        return users.filter(pk=actor.pk)
    return users.filter(team_id=actor.team_id)


def can_assign(actor, target, follow_up: FollowUp) -> bool:
    return assignable_users(actor).filter(pk=target.pk).exists()


@transaction.atomic
def reassign_follow_up(*, follow_up: FollowUp, to, by) -> FollowUp:
    """Hand over to `to` (checked against what `by` may assign and what `to` may see)."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if not FollowUp.objects.visible_to(by).filter(pk=follow_up.pk).exists():
        raise ValidationError("You cannot change this follow-up.")
    _require_open(follow_up, "reassigned")
    if not can_assign(by, to, follow_up):
        raise ValidationError(f"You cannot assign follow-ups to {to}.")
    _check_owner_may_see(
        owner=to,
        case_id=follow_up.case_id,
        medical=bool(follow_up.interaction_id or follow_up.inquiry_id),
    )
    if to.pk == follow_up.owner_id:
        return follow_up
    follow_up.owner = to
    follow_up.team_id = to.team_id
    # The new owner gets their own reminder (and the escalation clock restarts with them).
    follow_up.reminded_at = None
    follow_up.escalated_at = None
    follow_up.save(update_fields=["owner", "team", "reminded_at", "escalated_at"])
    if to.pk != by.pk:
        notify(
            user=to,
            title=f"{by} assigned you: {safe_title(follow_up, to)}",
            email_title=f"{by} assigned you: {safe_title(follow_up)}",
            url=follow_up_url(follow_up),
            kind=Notification.Kind.ASSIGNMENT,
            follow_up=follow_up,
        )
    return follow_up


def safe_title(follow_up: FollowUp, viewer=None) -> str:
    """The title for `viewer`; a case follow-up is 'Case #N' to anyone who may not see PHI
    (and in every channel that leaves the application, where viewer is None)."""
    if follow_up.case_id and (viewer is None or not viewer.sees_phi):
        return f"Case #{follow_up.case_id}: follow-up"
    return follow_up.title


# --- Email outbox -------------------------------------------------------------------------------


def _render_email(kind: str, context: dict) -> tuple[str, str]:
    text = get_template(f"outreach/email/{kind}.txt").render(context)
    html = get_template(f"outreach/email/{kind}.html").render(context)
    return text, html


def flush_outbox(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Send queued emails; return how many the mail server accepted."""
    sent_total = 0
    connection = None
    try:
        while True:
            moment = now or timezone.now()
            stale = moment - conf.outbox_lease()
            with transaction.atomic():
                ids = list(
                    EmailOutbox.objects.filter(sent_at__isnull=True, attempts__lt=conf.outbox_max_attempts())
                    .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
                    .select_for_update(skip_locked=True)
                    .order_by("id")
                    .values_list("id", flat=True)[:batch_size]
                )
                if not ids:
                    break
                EmailOutbox.objects.filter(id__in=ids).update(claimed_at=moment)
            rows = list(EmailOutbox.objects.filter(id__in=ids))
            if connection is None:
                connection = get_connection()
                connection.open()
            sent_ids: list[int] = []
            for row in rows:
                message = EmailMultiAlternatives(row.subject, row.body_text, to=[row.to], connection=connection)
                if row.body_html:
                    message.attach_alternative(row.body_html, "text/html")
                try:
                    message.send()
                except Exception as exc:  # a bad address must not stop the others
                    logger.warning("Email %s to %s failed: %s", row.pk, row.to, exc)
                    # Retried by a run after the lease expires; `attempts` caps the retries.
                    EmailOutbox.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, last_error=str(exc)[:1000])
                    continue
                sent_ids.append(row.pk)
                if len(sent_ids) >= OUTBOX_STAMP_EVERY:
                    EmailOutbox.objects.filter(id__in=sent_ids).update(sent_at=timezone.now())
                    sent_total += len(sent_ids)
                    sent_ids = []
            if sent_ids:
                EmailOutbox.objects.filter(id__in=sent_ids).update(sent_at=timezone.now())
                sent_total += len(sent_ids)
    finally:
        if connection is not None:
            connection.close()
    return sent_total


# --- Reminders ------------------------------------------------------------------------------------


def _follow_up_url() -> str:
    return conf.site_url() + reverse("outreach:follow_ups")


def _claim_batch(qs, stamp_field: str, moment: datetime, batch_size: int) -> list[int]:
    """Inside a transaction: lock up to `batch_size` unlocked rows of `qs` and stamp them."""
    ids = list(
        qs.select_for_update(skip_locked=True).order_by("due_at", "id").values_list("id", flat=True)[:batch_size]
    )
    if ids:
        FollowUp.objects.filter(id__in=ids, **{f"{stamp_field}__isnull": True}).update(**{stamp_field: moment})
    return ids


def absolute_url(path: str) -> str:
    """A link that works from an email (no request in a worker: SITE_URL is the base)."""
    return conf.site_url() + path


def follow_up_url(follow_up: FollowUp) -> str:
    return reverse("outreach:follow_up_detail", args=[follow_up.pk])


def _email_item(fu: FollowUp) -> dict:
    # Email leaves the application: a case follow-up is named by its number only. The date is
    # formatted here (not with |date per row) because this runs for every due follow-up.
    # Each item links to the follow-up itself and to what it is about (a case by its number, a
    # physician by name: FollowUp.concern never names a patient); `physician` must be loaded.
    about = fu.concern
    return {
        "title": safe_title(fu),
        "due": timezone.localtime(fu.due_at).strftime("%a %d %b %Y, %H:%M"),
        "url": absolute_url(follow_up_url(fu)),
        "about": about.label if about else "",
        "about_url": absolute_url(about.url) if about else "",
    }


def _remind_batch(now: datetime, batch_size: int) -> int:
    moment = timezone.now()
    text_t, html_t = get_template("outreach/email/reminder.txt"), get_template("outreach/email/reminder.html")
    url = _follow_up_url()
    with transaction.atomic():
        ids = _claim_batch(FollowUp.objects.due_unreminded(now), "reminded_at", moment, batch_size)
        if not ids:
            return 0
        rows = list(FollowUp.objects.filter(id__in=ids).select_related("owner__notification_preferences", "physician"))
        notifications = []
        by_owner: dict[int, list[FollowUp]] = defaultdict(list)
        for fu in rows:
            notifications.append(
                Notification(
                    user_id=fu.owner_id,
                    kind=Notification.Kind.REMINDER,
                    title=f"Due: {fu.title}"[:200],
                    url=reverse("outreach:follow_ups"),
                    follow_up_id=fu.pk,
                    created_at=moment,
                )
            )
            by_owner[fu.owner_id].append(fu)
        # One email per owner per batch, listing every follow-up it reminds of: each reminder is
        # in exactly one email, and 300 due follow-ups do not become 300 emails.
        emails = []
        for owned in by_owner.values():
            owner = owned[0].owner
            if not wants_email(owner, Notification.Kind.REMINDER):
                continue  # no address, or reminders in the app only
            items = [_email_item(fu) for fu in owned]
            context = {"items": items, "user": owner, "url": url}
            subject = f"Follow-up due: {items[0]['title']}" if len(items) == 1 else f"{len(items)} follow-ups are due"
            emails.append(
                EmailOutbox(
                    to=owner.email,
                    subject=subject[:200],
                    body_text=text_t.render(context),
                    body_html=html_t.render(context),
                    created_at=moment,
                )
            )
        Notification.objects.bulk_create(notifications, batch_size=1000)
        EmailOutbox.objects.bulk_create(emails, batch_size=1000)
    return len(rows)


def dispatch_due_reminders(
    *, now: datetime | None = None, batch_size: int | None = None, send_email: bool = True
) -> int:
    """Remind the owner of every open, due, never-reminded follow-up once; return how many."""
    now = now or timezone.now()
    batch_size = batch_size or conf.reminder_batch_size()
    total = 0
    while True:
        claimed = _remind_batch(now, batch_size)
        total += claimed
        if claimed == 0:
            break
    if send_email:
        flush_outbox()
    return total


# --- Escalations ----------------------------------------------------------------------------------


def escalate_overdue(*, now: datetime | None = None, batch_size: int | None = None, send_email: bool = True) -> int:
    """Tell the managers of the owner's team about follow-ups open too long after due; once each."""
    from accounts.models import Team

    now = now or timezone.now()
    batch_size = batch_size or conf.reminder_batch_size()
    cutoff = now - conf.escalate_after()
    url = _follow_up_url()
    text_t, html_t = get_template("outreach/email/escalation.txt"), get_template("outreach/email/escalation.html")
    total = 0
    while True:
        moment = timezone.now()
        with transaction.atomic():
            qs = FollowUp.objects.filter(status=FollowUpStatus.OPEN, escalated_at__isnull=True, due_at__lte=cutoff)
            ids = _claim_batch(qs, "escalated_at", moment, batch_size)
            if not ids:
                break
            rows = list(FollowUp.objects.filter(id__in=ids).select_related("owner", "physician"))
            managers: dict[int, list] = defaultdict(list)
            links = Team.managers.through.objects.filter(
                team_id__in={fu.team_id for fu in rows if fu.team_id}, user__is_active=True
            ).select_related("user__notification_preferences")
            for link in links:
                managers[link.team_id].append(link.user)
            notifications = []
            per_manager: dict[int, tuple] = {}
            for fu in rows:
                for manager in managers.get(fu.team_id, []):
                    if manager.pk == fu.owner_id:
                        continue
                    title = f"Overdue ({fu.owner}): {safe_title(fu, manager)}"[:200]
                    notifications.append(
                        Notification(
                            user_id=manager.pk,
                            kind=Notification.Kind.ESCALATION,
                            title=title,
                            url=reverse("outreach:follow_ups") + f"?state=escalated&owner={fu.owner_id}",
                            follow_up_id=fu.pk,
                            created_at=moment,
                        )
                    )
                    per_manager.setdefault(manager.pk, (manager, []))[1].append(
                        {**_email_item(fu), "owner": str(fu.owner)}
                    )
            # One email per manager per batch (an outage must not become thousands of emails).
            emails = []
            for manager, items in per_manager.values():
                if not wants_email(manager, Notification.Kind.ESCALATION):
                    continue  # no address, or escalations in the app only
                context = {"items": items, "user": manager, "url": url}
                subject = (
                    f"Overdue follow-up of {items[0]['owner']}: {items[0]['title']}"
                    if len(items) == 1
                    else f"{len(items)} follow-ups of your teams are overdue"
                )
                emails.append(
                    EmailOutbox(
                        to=manager.email,
                        subject=subject[:200],
                        body_text=text_t.render(context),
                        body_html=html_t.render(context),
                        created_at=moment,
                    )
                )
            Notification.objects.bulk_create(notifications, batch_size=1000)
            EmailOutbox.objects.bulk_create(emails, batch_size=1000)
        total += len(rows)
    if send_email:
        flush_outbox()
    return total


# --- Daily digest -----------------------------------------------------------------------------------

DIGEST_ITEMS = 15


def send_daily_digests(*, now: datetime | None = None, send_email: bool = True) -> int:
    """From DIGEST_HOUR (local time) on, one digest per user and day: overdue and due today."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < conf.digest_hour():
        return 0
    today = local.date()
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = day_start + timedelta(days=1)
    User = get_user_model()
    counts = (
        FollowUp.objects.filter(status=FollowUpStatus.OPEN, due_at__lt=tomorrow, owner__is_active=True)
        .exclude(owner__email="")
        .exclude(owner_id__in=DigestLog.objects.filter(date=today).values("user_id"))
        .values("owner_id")
        .annotate(overdue=Count("id", filter=Q(due_at__lt=now)), today=Count("id", filter=Q(due_at__gte=now)))
    )
    counts = {row["owner_id"]: row for row in counts}
    users = User.objects.in_bulk(list(counts))
    text_t, html_t = get_template("outreach/email/digest.txt"), get_template("outreach/email/digest.html")
    url = _follow_up_url()
    sent = 0
    for user_id, row in counts.items():
        user = users[user_id]
        items = list(
            FollowUp.objects.filter(owner_id=user_id, status=FollowUpStatus.OPEN, due_at__lt=tomorrow).order_by(
                "due_at", "id"
            )[:DIGEST_ITEMS]
        )
        entries = [{"title": safe_title(fu), "due_at": fu.due_at, "overdue": fu.due_at < now} for fu in items]
        context = {
            "user": user,
            "overdue": row["overdue"],
            "today": row["today"],
            "entries": entries,
            "more": row["overdue"] + row["today"] - len(entries),
            "url": url,
            "date": today,
        }
        try:
            with transaction.atomic():
                # The compare-and-set: the unique (user, date) row decides who sends.
                DigestLog.objects.create(user_id=user_id, date=today, overdue=row["overdue"], due_today=row["today"])
                EmailOutbox.objects.create(
                    to=user.email,
                    subject=f"Your follow-ups for {today:%A %d %B}: {row['overdue']} overdue, {row['today']} due today",
                    body_text=text_t.render(context),
                    body_html=html_t.render(context),
                )
        except IntegrityError:
            continue
        sent += 1
    if send_email and sent:
        flush_outbox()
    return sent


# --- Notifications ----------------------------------------------------------------------------------


def mark_notification_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def mark_all_notifications_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


# --- Calendar feed ----------------------------------------------------------------------------------


@transaction.atomic
def regenerate_calendar_token(*, user) -> CalendarFeed:
    """A new secret URL; the old one stops working at once."""
    token = secrets.token_urlsafe(32)
    feed, _ = CalendarFeed.objects.update_or_create(
        user=user, defaults={"token": token, "created_at": timezone.now(), "last_fetched_at": None}
    )
    return feed


def revoke_calendar_feed(*, user) -> None:
    CalendarFeed.objects.filter(user=user).delete()


# --- Outreach events --------------------------------------------------------------------------------


def may_edit_event(user, event: OutreachEvent) -> bool:
    if user.is_admin_role:
        return True
    if user.is_manager:
        return user.sees_team(event.team_id)
    return event.organiser_id == user.pk


@transaction.atomic
def save_outreach_event(*, event: OutreachEvent, by, referrals=None) -> OutreachEvent:
    """Create or update an event; `referrals` (cases) only from someone who may see PHI."""
    if event.pk is None and not event.organiser_id:
        event.organiser = by
    if not event.team_id:
        if not event.organiser.team_id:
            raise ValidationError({"team": "Choose the team this event belongs to."})
        event.team_id = event.organiser.team_id
    if not by.sees_team(event.team_id):
        raise ValidationError({"team": "You can only record events for your own teams."})
    event.full_clean()
    event.save()
    if referrals is not None:
        if not by.sees_phi:
            raise ValidationError("Only clinical liaisons and managers may link referrals.")
        event.referrals.set(referrals)
    return event
