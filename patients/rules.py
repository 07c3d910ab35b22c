"""Service-level rules about cases, consents and communications (registered with outreach.rules).

Titles name the case number, never the patient: they end up in reminders, emails and calendars.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.db.models.functions import Coalesce

from outreach.models import FollowUp
from outreach.rules import register

from .choices import PRE_ADMISSION_STAGES, ConsentKind, ConsentStatus, Priority, Stage
from .models import Case, Consent


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S")


@register(
    "referral_not_evaluated",
    "Referral not evaluated within its window",
    {"urgent_hours": 2, "standard_hours": 48},
)
def referral_not_evaluated(*, now: datetime, params: dict) -> Iterator[FollowUp]:
    windows = {Priority.URGENT: params["urgent_hours"], Priority.STANDARD: params["standard_hours"]}
    for priority, hours in windows.items():
        rows = (
            Case.objects.filter(
                priority=priority,
                stage__in=[Stage.REFERRED, Stage.EVALUATING],
                evaluated_at__isnull=True,
                assigned_liaison__isnull=False,
                referral_received_at__lte=now - timedelta(hours=float(hours)),
            )
            .values_list("pk", "assigned_liaison_id", "team_id", "referral_received_at")
            .iterator(chunk_size=5000)
        )
        for pk, owner_id, team_id, received in rows:
            yield FollowUp(
                owner_id=owner_id,
                team_id=team_id,
                title=f"Case #{pk}: {priority.label.lower()} referral not evaluated within {hours:g} h",
                due_at=now,
                case_id=pk,
                rule_key=f"{pk}:{_stamp(received)}",
            )


@register(
    "consent_superseded",
    "Signed consent superseded by a new form version before admission: re-consent due within the hours set",
    {"due_hours": 0},
)
def consent_superseded(*, now: datetime, params: dict) -> Iterator[FollowUp]:
    """A re-consent follow-up, due `due_hours` after the rule finds the superseded consent (0: at once)."""
    due_hours = float(params["due_hours"])
    rows = (
        Consent.objects.filter(
            status=ConsentStatus.SIGNED,
            form__kind=ConsentKind.CARE,  # a research consent has its own rule (research/rules.py)
            case__stage__in=PRE_ADMISSION_STAGES,
            case__assigned_liaison__isnull=False,
        )
        .exclude(form_version=F("form__current_version"))
        .values_list(
            "pk", "case_id", "case__assigned_liaison_id", "case__team_id", "form__name", "form__current_version"
        )
        .iterator(chunk_size=5000)
    )
    for pk, case_id, owner_id, team_id, form_name, version in rows:
        yield FollowUp(
            owner_id=owner_id,
            team_id=team_id,
            title=f"Case #{case_id}: re-consent needed, {form_name} is now v{version}"[:200],
            due_at=now + timedelta(hours=due_hours),
            case_id=case_id,
            rule_key=f"{pk}:{version}"[:120],
        )


@register(
    "admitted_no_communication",
    "Communication gap: admitted case with no communication logged (the worklist and dashboards use these days)",
    {"days": 3},
)
def admitted_no_communication(*, now: datetime, params: dict) -> Iterator[FollowUp]:
    """The one definition of a communication gap: its days also drive patients.conf.communication_gap_days."""
    days = float(params["days"])
    rows = (
        Case.objects.filter(stage=Stage.ADMITTED, assigned_liaison__isnull=False)
        .annotate(anchor=Coalesce("last_communication_at", "admitted_at", "stage_changed_at"))
        .filter(Q(anchor__lt=now - timedelta(days=days)))
        .values_list("pk", "assigned_liaison_id", "team_id", "anchor")
        .iterator(chunk_size=5000)
    )
    for pk, owner_id, team_id, anchor in rows:
        yield FollowUp(
            owner_id=owner_id,
            team_id=team_id,
            title=f"Case #{pk}: no communication logged for {days:g} days",
            due_at=now,
            case_id=pk,
            rule_key=f"{pk}:{_stamp(anchor)}",
        )
