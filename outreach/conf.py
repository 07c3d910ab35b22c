"""Outreach settings: each reads `settings.NAME` with the default below (no settings.py edit needed)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def digest_hour() -> int:
    """Local hour (TIME_ZONE) from which each user's daily digest goes out."""
    return int(_get("DIGEST_HOUR", 7))


def escalate_after() -> timedelta:
    """How long a follow-up may stay open after its due time before the managers hear of it."""
    return timedelta(hours=float(_get("FOLLOW_UP_ESCALATE_AFTER_HOURS", 24)))


def reminder_batch_size() -> int:
    return int(_get("REMINDER_BATCH_SIZE", 1000))


def outbox_lease() -> timedelta:
    """An outbox row claimed longer ago than this without `sent_at` is retried."""
    return timedelta(seconds=int(_get("EMAIL_OUTBOX_LEASE_SECONDS", 300)))


def outbox_max_attempts() -> int:
    return int(_get("EMAIL_OUTBOX_MAX_ATTEMPTS", 10))


def site_url() -> str:
    """Absolute base for links in emails (no request in a worker)."""
    return str(_get("SITE_URL", "http://localhost:8000")).rstrip("/")
