"""Celery tasks: thin wrappers over outreach.services (the beat schedule is in settings.py)."""

from __future__ import annotations

from celery import shared_task

from . import services
from .rules import run_rules


@shared_task(name="outreach.tasks.dispatch_due_reminders")
def dispatch_due_reminders() -> int:
    """Remind every due follow-up's owner exactly once; return how many were reminded."""
    return services.dispatch_due_reminders()


@shared_task(name="outreach.tasks.escalate_overdue")
def escalate_overdue() -> int:
    return services.escalate_overdue()


@shared_task(name="outreach.tasks.run_service_level_rules")
def run_service_level_rules() -> dict:
    return run_rules()


@shared_task(name="outreach.tasks.send_daily_digests")
def send_daily_digests() -> int:
    return services.send_daily_digests()


@shared_task(name="outreach.tasks.flush_outbox")
def flush_outbox() -> int:
    return services.flush_outbox()
