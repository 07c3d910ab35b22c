from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property


class Team(models.Model):
    class Kind(models.TextChoices):
        MEDICAL_AFFAIRS = "medical_affairs", "Medical affairs"
        CLINICAL_LIAISON = "clinical_liaison", "Clinical liaison"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    managers = models.ManyToManyField("accounts.User", related_name="managed_teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        MSL = "msl", "Medical Science Liaison"
        CLINICAL_LIAISON = "clinical_liaison", "Clinical liaison"
        MANAGER = "manager", "Manager"
        ADMIN = "admin", "Administrator"

    role = models.CharField(max_length=32, choices=Role.choices, default=Role.MSL, db_index=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members")
    job_title = models.CharField(max_length=120, blank=True)
    credentials = models.CharField(max_length=60, blank=True, help_text="e.g. RN, LPN, PharmD, MD, PhD")
    phone = models.CharField(max_length=40, blank=True)

    objects = UserManager()

    # What str(user) reads: a list of people loads only these (`User.objects.only(*LABEL_FIELDS)`).
    LABEL_FIELDS = ("id", "username", "first_name", "last_name", "credentials")
    # What a page that names a user never shows of them: the password hash above all. A query
    # that joins users for their names defers these (`User.unshown("assigned_liaison")`).
    UNSHOWN_FIELDS = (
        "password",
        "last_login",
        "is_superuser",
        "email",
        "is_staff",
        "date_joined",
        "job_title",
        "phone",
    )

    @classmethod
    def unshown(cls, *relations: str) -> list[str]:
        """defer() arguments for the users reached through `relations` (lookup paths)."""
        return [f"{relation}__{field}" for relation in relations for field in cls.UNSHOWN_FIELDS]

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def awaits_first_password(self) -> bool:
        """Invited, and the invitation's link not used yet (accounts.services.invite_user)."""
        return not self.has_usable_password() and self.last_login is None

    @property
    def is_msl(self) -> bool:
        return self.role == self.Role.MSL

    @property
    def is_liaison(self) -> bool:
        return self.role == self.Role.CLINICAL_LIAISON

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER

    @property
    def is_admin_role(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser

    @cached_property
    def scope_team_ids(self) -> frozenset[int] | None:
        """Teams whose records this user may see; None means every team (administrators).

        A manager sees the teams they lead (and their own, if any); anyone else their own team.
        Cached per user object, so per request: views and querysets call it freely.
        """
        if self.is_admin_role:
            return None
        ids = set(self.managed_teams.values_list("id", flat=True)) if self.is_manager else set()
        if self.team_id:
            ids.add(self.team_id)
        return frozenset(ids)

    def sees_team(self, team_id: int | None) -> bool:
        scope = self.scope_team_ids
        return scope is None or team_id in scope

    @property
    def sees_medical_affairs(self) -> bool:
        """MSL-side records (interactions, insights, inquiries): MSLs, managers, admins."""
        return self.role in (self.Role.MSL, self.Role.MANAGER, self.Role.ADMIN) or self.is_superuser

    @property
    def sees_trials(self) -> bool:
        """Clinical trials and sites: the medical-affairs side, and the clinical side for screening."""
        return self.sees_medical_affairs or self.sees_phi

    @property
    def sees_phi(self) -> bool:
        """Patient health information: clinical liaisons, managers, admins. Never MSLs."""
        return self.role in (self.Role.CLINICAL_LIAISON, self.Role.MANAGER, self.Role.ADMIN) or self.is_superuser


class NotificationPreferences(models.Model):
    """How each kind of notification reaches its user: in the app only, or by email too.

    No row means the defaults: every kind by email too. Kept in accounts (what a person chose),
    read by outreach.services.notify and the reminder and escalation dispatchers.
    """

    EMAIL_CHOICES = [(False, "In-app only"), (True, "Email too")]

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="notification_preferences"
    )
    reminder = models.BooleanField(
        "A follow-up of mine is due", default=True, choices=EMAIL_CHOICES, help_text="Reminders."
    )
    follow_up_assigned = models.BooleanField(
        "A follow-up is assigned to me", default=True, choices=EMAIL_CHOICES, help_text="Reassignments."
    )
    case_assigned = models.BooleanField(
        "A case is assigned to me", default=True, choices=EMAIL_CHOICES, help_text="Reassignments by a manager."
    )
    insight_review = models.BooleanField(
        "The review of my insight has an outcome",
        default=True,
        choices=EMAIL_CHOICES,
        help_text="Actioned or closed, with the reviewer's note.",
    )
    escalation = models.BooleanField(
        "A follow-up of my teams stays overdue",
        default=True,
        choices=EMAIL_CHOICES,
        help_text="Escalations to the teams' managers.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    KINDS = ("reminder", "follow_up_assigned", "case_assigned", "insight_review", "escalation")

    class Meta:
        verbose_name = "notification preferences"
        verbose_name_plural = "notification preferences"

    def __str__(self) -> str:
        return f"Notification preferences of {self.user_id}"

    @staticmethod
    def kinds_for(user: User) -> list[str]:
        """The kinds `user` can receive at all: an MSL is assigned no case, a liaison captures no
        insight, only managers (and administrators) receive escalations."""
        kinds = ["reminder", "follow_up_assigned"]
        if user.is_liaison:
            kinds.append("case_assigned")
        if user.is_msl:
            kinds.append("insight_review")
        if user.is_manager or user.is_admin_role:
            kinds.append("escalation")
        return kinds

    @classmethod
    def wants_email(cls, user: User, kind: str) -> bool:
        """Whether `user` takes `kind` by email too (and has an address). The preferences row is
        read through `user.notification_preferences`: select_related it when looping over users."""
        if not user.email:
            return False
        try:
            preferences = user.notification_preferences
        except cls.DoesNotExist:
            return True
        return getattr(preferences, kind)


class SecurityEvent(models.Model):
    """The security log: sign-ins and their failures, second factors, passwords, sessions, SSO and
    the administration of users. Written by accounts.security (signal receivers and services),
    never edited; admins read it at /accounts/security-log/."""

    class Kind(models.TextChoices):
        SIGNED_IN = "signed_in", "Signed in"
        SIGNED_OUT = "signed_out", "Signed out"
        SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
        LOCKED_OUT = "locked_out", "Locked out"
        SECOND_FACTOR_FAILED = "second_factor_failed", "Second factor failed"
        SECOND_FACTOR_ENROLLED = "second_factor_enrolled", "Second factor enrolled"
        SECOND_FACTOR_REMOVED = "second_factor_removed", "Second factor removed"
        RECOVERY_CODES_RENEWED = "recovery_codes_renewed", "Recovery codes renewed"
        SECOND_FACTOR_RESET = "second_factor_reset", "Second factor reset by an administrator"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
        PASSWORD_RESET = "password_reset", "Password reset"
        SESSION_ENDED = "session_ended", "Session ended"
        SSO_SIGNED_IN = "sso_signed_in", "Signed in with single sign-on"
        SSO_REFUSED = "sso_refused", "Single sign-on refused"
        INVITED = "invited", "Invited"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        USER_CHANGED = "user_changed", "User changed"
        USER_DEACTIVATED = "user_deactivated", "User deactivated"
        USER_REACTIVATED = "user_reactivated", "User reactivated"
        API_TOKEN_CREATED = "api_token_created", "API token created"
        API_TOKEN_REVOKED = "api_token_revoked", "API token revoked"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Whom it concerns; for a failed sign-in the name that was typed (there may be no such user).
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    username = models.CharField(max_length=150, blank=True)
    # Who did it, when that is someone else (an administrator, a manager).
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["user", "-at"], name="security_user_at_idx"),
            models.Index(fields=["kind", "-at"], name="security_kind_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username} at {self.at:%Y-%m-%d %H:%M}"


class ApiTokenQuerySet(models.QuerySet):
    def live(self, now=None) -> ApiTokenQuerySet:
        """Neither revoked nor expired (the owner's being active is checked on use)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ApiToken(models.Model):
    """A personal API token (liaison_crm.api): a name, a scope and an expiry, chosen by its owner on
    /accounts/api-tokens/. Only a SHA-256 digest of the secret is stored; the secret is shown once,
    when it is made. The secrets are 256 random bits, so a plain digest (as GitHub's tokens) is
    enough: there is nothing to guess, and a lookup by digest is one indexed query."""

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the secret, to tell tokens apart in lists and logs.
    prefix = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def last_day(self) -> dt.date:
        """The last day it works (it expires at the following midnight)."""
        return timezone.localtime(self.expires_at - dt.timedelta(microseconds=1)).date()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE
