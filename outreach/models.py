"""Follow-ups (with their reminder and escalation stamps) and in-app notifications."""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class FollowUpStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Concern(NamedTuple):
    """What a follow-up is about, as its row shows it: a label, the record's page, an icon."""

    label: str
    url: str
    icon: str


class FollowUpQuerySet(models.QuerySet):
    def visible_to(self, user) -> FollowUpQuerySet:
        """Own follow-ups; a manager's teams'; everything for admins.

        A follow-up about a patient case is never visible to someone who may not see PHI,
        whoever owns it.
        """
        if not user.is_authenticated:
            return self.none()
        scope = user.scope_team_ids
        if scope is None:
            qs = self
        elif user.is_manager:
            qs = self.filter(Q(owner=user) | Q(team__in=scope))
        else:
            qs = self.filter(owner=user)
        if not user.sees_phi:
            qs = qs.filter(case__isnull=True)
        if not user.sees_medical_affairs:
            qs = qs.filter(interaction__isnull=True, inquiry__isnull=True)
        return qs

    def open(self) -> FollowUpQuerySet:
        return self.filter(status=FollowUpStatus.OPEN)

    def due_unreminded(self, now=None) -> FollowUpQuerySet:
        return self.filter(status=FollowUpStatus.OPEN, reminded_at__isnull=True, due_at__lte=now or timezone.now())


class FollowUp(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups")
    # The owner's team, kept in step by the services: managers' lists and escalations filter on it.
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # What it concerns: at most one of these (or none, for a personal task).
    physician = models.ForeignKey(
        "physicians.Physician", on_delete=models.CASCADE, null=True, blank=True, related_name="follow_ups"
    )
    interaction = models.ForeignKey(
        "physicians.Interaction", on_delete=models.CASCADE, null=True, blank=True, related_name="follow_ups"
    )
    inquiry = models.ForeignKey(
        "physicians.MedicalInquiry", on_delete=models.CASCADE, null=True, blank=True, related_name="follow_ups"
    )
    case = models.ForeignKey(
        "patients.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )

    # Set when a service-level rule created it: with `rule_key` it makes the rule idempotent.
    rule = models.CharField(max_length=40, blank=True)
    rule_key = models.CharField(max_length=120, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Compare-and-set stamps: exactly one process sets each, and only that process sends.
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="followup_owner_status_due_idx"),
            models.Index(fields=["team", "status", "due_at"], name="followup_team_status_due_idx"),
            # Open follow-ups per person (the dashboards): counted from the index alone.
            models.Index(
                fields=["team", "owner", "due_at", "escalated_at"],
                name="followup_open_team_owner_idx",
                condition=Q(status="open"),
            ),
            # The dispatcher's scan: open, never reminded, by due date.
            models.Index(
                fields=["due_at"],
                name="followup_due_unreminded_idx",
                condition=Q(status="open", reminded_at__isnull=True),
            ),
            models.Index(
                fields=["due_at"],
                name="followup_due_unescalated_idx",
                condition=Q(status="open", escalated_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="followup_concerns_at_most_one",
                condition=(
                    Q(physician__isnull=True, interaction__isnull=True, inquiry__isnull=True)
                    | Q(physician__isnull=True, interaction__isnull=True, case__isnull=True)
                    | Q(physician__isnull=True, inquiry__isnull=True, case__isnull=True)
                    | Q(interaction__isnull=True, inquiry__isnull=True, case__isnull=True)
                ),
            ),
            # A rule never opens a second follow-up for the same thing while one is open.
            models.UniqueConstraint(
                fields=["rule", "rule_key"],
                name="followup_rule_unique_open",
                condition=Q(status="open") & ~Q(rule=""),
            ),
            models.CheckConstraint(
                name="followup_done_has_completion",
                condition=~Q(status="done", completed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == FollowUpStatus.OPEN and self.due_at < timezone.now()

    @property
    def concern(self) -> Concern | None:
        """The record it is about (None for a personal task). A case, an inquiry or an
        interaction by its number only: its row must not cost a query, nor show a patient's name."""
        if self.physician_id:
            return Concern(str(self.physician), reverse("physicians:detail", args=[self.physician_id]), "person-badge")
        if self.case_id:
            return Concern(
                f"Case #{self.case_id}", reverse("patients:case_detail", args=[self.case_id]), "clipboard2-pulse"
            )
        if self.inquiry_id:
            return Concern(
                f"Inquiry #{self.inquiry_id}",
                reverse("physicians:inquiry_detail", args=[self.inquiry_id]),
                "question-circle",
            )
        if self.interaction_id:
            return Concern(
                f"Interaction #{self.interaction_id}",
                reverse("physicians:interaction_detail", args=[self.interaction_id]),
                "chat-dots",
            )
        return None


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user) -> NotificationQuerySet:
        return self.filter(user=user) if user.is_authenticated else self.none()

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder"
        ESCALATION = "escalation", "Escalation"
        INSIGHT_STATUS = "insight_status", "Insight status"
        ASSIGNMENT = "assignment", "Assignment"  # of a follow-up
        CASE_ASSIGNMENT = "case_assignment", "Case assignment"
        INFO = "info", "Information"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.INFO)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_date_idx"),
            models.Index(fields=["user"], name="notification_unread_idx", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title


class ServiceLevelRule(models.Model):
    """An admin's settings for one registered service-level rule (see outreach/rules.py).

    Rows are created for every registered rule with its defaults the first time the rules run
    (or the admin opens the list); `parameters` overrides the defaults key by key. These rows are
    the one source of the service levels: the dashboards, inquiry due dates and the worklist read
    them too (outreach.rules.parameters, cached; saving a row clears that cache).
    """

    key = models.CharField(max_length=40, unique=True)
    label = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(
        default=True,
        help_text=(
            "Off: the rule opens no follow-ups. Its parameters still apply everywhere else "
            "(new inquiries' due dates, the worklist's gap filter, the dashboards' figures)."
        ),
    )
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            "Numbers only; keys as in the defaults. A change applies at once: to the follow-ups "
            "the rule opens from then on, the due dates of new inquiries and the dashboards."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = "service-level rule"

    def __str__(self) -> str:
        return self.label or self.key

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .rules import registry

        rule = registry().get(self.key)
        if rule is None:
            raise ValidationError({"key": f"No rule {self.key!r} is registered."})
        if not isinstance(self.parameters, dict):
            raise ValidationError({"parameters": "Parameters must be an object of name: number."})
        unknown = sorted(set(self.parameters) - set(rule.defaults))
        if unknown:
            raise ValidationError({"parameters": f"Unknown parameter(s): {', '.join(unknown)}."})
        for name, value in self.parameters.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValidationError({"parameters": f"{name} must be a number of 0 or more."})


class EmailOutbox(models.Model):
    """An email to send, written in the same transaction as the stamp that decided to send it.

    The sender claims a row with a lease (`claimed_at`) and stamps `sent_at` after the mail
    server accepted it; a row whose lease expired without `sent_at` is retried.
    """

    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "outgoing email"
        indexes = [models.Index(fields=["created_at"], name="outbox_unsent_idx", condition=Q(sent_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class DigestLog(models.Model):
    """One row per user and day: the compare-and-set that sends each daily digest once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    overdue = models.PositiveIntegerField(default=0)
    due_today = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-date", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="digest_once_per_user_day")]

    def __str__(self) -> str:
        return f"Digest for {self.user_id} on {self.date}"


class CalendarFeed(models.Model):
    """The secret token of a user's iCalendar feed; regenerating it revokes the old URL."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id}"


class EventKind(models.TextChoices):
    HEALTH_FAIR = "health_fair", "Health fair"
    IN_SERVICE = "in_service", "Facility in-service"
    GRAND_ROUNDS = "grand_rounds", "Grand rounds"
    CONGRESS = "congress", "Congress"
    ADVISORY_BOARD = "advisory_board", "Advisory board"
    OTHER = "other", "Other"


class OutreachEventQuerySet(models.QuerySet):
    def visible_to(self, user) -> OutreachEventQuerySet:
        if not user.is_authenticated:
            return self.none()
        scope = user.scope_team_ids
        if scope is None:
            return self
        return self.filter(team__in=scope)


class OutreachEvent(models.Model):
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=EventKind.choices, default=EventKind.HEALTH_FAIR)
    date = models.DateField()
    place = models.CharField(max_length=200, blank=True)
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outreach_events")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="outreach_events")
    audience_size = models.PositiveIntegerField(null=True, blank=True)
    contacts_made = models.PositiveIntegerField(default=0)
    # Cases that came from the event: PHI, shown and edited only for users who may see PHI.
    referrals = models.ManyToManyField("patients.Case", blank=True, related_name="outreach_events")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OutreachEventQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["team", "-date"], name="event_team_date_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.date})"
