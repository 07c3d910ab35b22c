"""Changes to accounts: a user's own settings and sessions; invitations and user administration."""

from __future__ import annotations

import datetime as dt
import secrets

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import ApiToken, NotificationPreferences, SecurityEvent, Team, User
from .security import record, second_factor_required
from .tokens import invitation_token_generator


@transaction.atomic
def set_notification_preferences(*, user: User, choices: dict[str, bool]) -> NotificationPreferences:
    """Store `user`'s choice, per kind, of in-app only (False) or email too (True); kinds not
    named keep their value (the default, email too, for a user who never chose)."""
    unknown = sorted(set(choices) - set(NotificationPreferences.KINDS))
    if unknown:
        raise ValueError(f"Unknown notification kinds: {', '.join(unknown)}")
    preferences, _ = NotificationPreferences.objects.select_for_update().get_or_create(user=user)
    for kind, email in choices.items():
        setattr(preferences, kind, bool(email))
    preferences.full_clean()
    preferences.save()
    user.notification_preferences = preferences  # what this user object reads from now on
    return preferences


def end_sessions(user: User, *, keep: str | None = None) -> int:
    """Sign `user` out everywhere but the session `keep`: each session the user signed in with
    (allauth's UserSession) is deleted from the session store. Returns how many were ended."""
    sessions = UserSession.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    ended = 0
    for session in sessions:
        session.end()
        ended += 1
    return ended


def session_key_changed(request: HttpRequest, *, old_key: str | None) -> None:
    """The session kept its user under a new key (update_session_auth_hash cycles it): its
    UserSession row follows."""
    UserSession.objects.filter(session_key=old_key).delete()
    UserSession.objects.create_from_request(request)


# --- user administration ------------------------------------------------------------------------
# Administrators administer everyone; a manager the MSLs and clinical liaisons of the teams they
# lead. Every change is written to the security log, with who made it.

FIELD_ROLES = (User.Role.MSL, User.Role.CLINICAL_LIAISON)


def administered_users(actor: User) -> QuerySet[User]:
    if actor.is_admin_role:
        return User.objects.all()
    if actor.is_manager:
        return User.objects.filter(team_id__in=actor.scope_team_ids, role__in=FIELD_ROLES)
    return User.objects.none()


def assignable_roles(actor: User) -> list[tuple[str, str]]:
    if actor.is_admin_role:
        return list(User.Role.choices)
    return [(value, label) for value, label in User.Role.choices if value in FIELD_ROLES]


def assignable_teams(actor: User) -> QuerySet[Team]:
    if actor.is_admin_role:
        return Team.objects.all()
    return Team.objects.filter(id__in=actor.scope_team_ids or ())


def _check_assignment(actor: User, role: str, team: Team | None) -> None:
    if role not in dict(assignable_roles(actor)):
        raise PermissionDenied("You may not give that role.")
    if team is not None and not assignable_teams(actor).filter(pk=team.pk).exists():
        raise PermissionDenied("You may not assign users to that team.")
    if not actor.is_admin_role and team is None:
        raise PermissionDenied("Choose one of your teams.")


def _check_administers(actor: User, user: User) -> None:
    if not administered_users(actor).filter(pk=user.pk).exists():
        raise PermissionDenied("You do not administer this user.")


def invitation_link(request: HttpRequest, user: User) -> str:
    path = reverse(
        "invitation_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": invitation_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


def send_invitation(*, request: HttpRequest, user: User, by: User) -> None:
    """Email `user` a one-time link to choose their password (accounts.tokens)."""
    context = {
        "user": user,
        "by": by,
        "link": invitation_link(request, user),
        "days": settings.INVITATION_TIMEOUT // 86400,
    }
    send_mail(
        subject="You are invited to Liaison CRM",
        message=render_to_string("accounts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
    record(SecurityEvent.Kind.INVITED, request=request, user=user, actor=by, detail=f"to {user.email}")


@transaction.atomic
def invite_user(*, request: HttpRequest, by: User, **fields) -> User:
    """Create the account with no usable password, and send the invitation."""
    _check_assignment(by, fields["role"], fields.get("team"))
    user = User(**fields)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    transaction.on_commit(lambda: send_invitation(request=request, user=user, by=by))
    return user


@transaction.atomic
def change_user(*, request: HttpRequest, by: User, user: User, **fields) -> list[str]:
    """Set the given fields; returns (and logs) what changed, as "role: MSL → Manager"."""
    _check_administers(by, user)
    _check_assignment(by, fields.get("role", user.role), fields.get("team", user.team))
    before = User.objects.select_related("team").get(pk=user.pk)
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean()
    user.save()
    changes = []
    for name in fields:
        old, new = getattr(before, name), getattr(user, name)
        if old != new:
            if name == "role":
                old, new = before.get_role_display(), user.get_role_display()
            changes.append(f"{User._meta.get_field(name).verbose_name}: {old or '—'} → {new or '—'}")
    if changes:
        record(SecurityEvent.Kind.USER_CHANGED, request=request, user=user, actor=by, detail="; ".join(changes))
    return changes


@transaction.atomic
def set_active(*, request: HttpRequest, by: User, user: User, active: bool) -> None:
    """Deactivating ends every session of the user at once (and their sign-in: the backend
    refuses inactive users on every request, so no session outlives it)."""
    _check_administers(by, user)
    if user.pk == by.pk:
        raise PermissionDenied("You cannot deactivate yourself.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    if not active:
        ended = end_sessions(user)
        # The API refuses an inactive user's tokens on every request as well; revoking them
        # means a reactivation does not bring old secrets back to life.
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        record(
            SecurityEvent.Kind.USER_DEACTIVATED, request=request, user=user, actor=by,
            detail=f"{ended} sessions ended, {revoked} API tokens revoked",
        )  # fmt: skip
    else:
        record(SecurityEvent.Kind.USER_REACTIVATED, request=request, user=user, actor=by)


@transaction.atomic
def reset_second_factor(*, request: HttpRequest, by: User, user: User) -> None:
    """The user lost their phone and their codes: remove their authenticator app and recovery
    codes and sign them out; they enrol again at their next sign-in."""
    _check_administers(by, user)
    removed, _ = Authenticator.objects.filter(user=user).delete()
    ended = end_sessions(user)
    record(
        SecurityEvent.Kind.SECOND_FACTOR_RESET, request=request, user=user, actor=by,
        detail=f"{removed} authenticators removed, {ended} sessions ended",
    )  # fmt: skip


def assign_from_identity_provider(*, user: User, role: str, team: Team | None) -> None:
    """Role and team as the identity provider's OIDC_ROLE_CLAIM maps them, at a single sign-on;
    a change is logged with what it was."""
    if (user.role, user.team_id) == (role, team.pk if team else None):
        return
    before = f"{user.get_role_display()}, {user.team or 'no team'}"
    user.role, user.team = role, team
    user.save(update_fields=["role", "team"])
    after = f"{user.get_role_display()}, {team or 'no team'}"
    detail = f"from the identity provider's {settings.OIDC_ROLE_CLAIM}: {before} → {after}"
    record(SecurityEvent.Kind.USER_CHANGED, user=user, detail=detail)


def end_user_sessions(*, request: HttpRequest, by: User, user: User) -> int:
    _check_administers(by, user)
    ended = end_sessions(user, keep=request.session.session_key if user.pk == by.pk else None)
    record(SecurityEvent.Kind.SESSION_ENDED, request=request, user=user, actor=by, detail=f"{ended} sessions ended")
    return ended


# --- personal API tokens ----------------------------------------------------------------------

TOKEN_PREFIX = "lcrm_"


def tokens_allowed(user: User) -> bool:
    """A role that must sign in with a second factor may have and use API tokens only while
    API_TOKENS_FOR_MFA_ROLES is on: a token is a way in without the second factor."""
    return settings.API_TOKENS_FOR_MFA_ROLES or not second_factor_required(user)


def create_api_token(
    *, request: HttpRequest | None, user: User, name: str, scope: str, expires_on: dt.date
) -> tuple[ApiToken, str]:
    """A new token of `user`'s own, valid to the end of `expires_on` (at most API_TOKEN_MAX_DAYS
    ahead). Returns the token and its secret: the secret is not stored, so it is shown once."""
    if not tokens_allowed(user):
        raise PermissionDenied("Your role signs in with a second factor, and API tokens are turned off for it.")
    today = timezone.localdate()
    if expires_on < today:
        raise ValidationError({"expires_on": "The expiry date cannot be in the past."})
    if expires_on > today + dt.timedelta(days=settings.API_TOKEN_MAX_DAYS):
        raise ValidationError({"expires_on": f"A token can last at most {settings.API_TOKEN_MAX_DAYS} days."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    end_of_day = dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time.min)
    token = ApiToken(
        user=user,
        name=name.strip(),
        scope=scope,
        digest=ApiToken.digest_of(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        expires_at=timezone.make_aware(end_of_day),
    )
    token.full_clean()
    token.save()
    record(
        SecurityEvent.Kind.API_TOKEN_CREATED, request=request, user=user,
        detail=f"{token.name} ({token.get_scope_display().lower()}, until {expires_on:%Y-%m-%d})",
    )  # fmt: skip
    return token, secret


def revoke_api_token(*, request: HttpRequest | None, token: ApiToken, by: User) -> None:
    """Revoke one of `by`'s own tokens; a second call changes nothing."""
    if token.user_id != by.pk:
        raise PermissionDenied("You can revoke only your own tokens.")
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        record(SecurityEvent.Kind.API_TOKEN_REVOKED, request=request, user=by, detail=token.name)
