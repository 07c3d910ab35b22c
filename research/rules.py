"""Service-level rules about trial participation (registered with outreach.rules).

Titles name the case and the protocol, never the patient or the participant id: they end up in
reminders, emails and calendars. A participation's "open too long" follow-ups are done once it
moves on (services._move); a re-consent's once the new consent is signed (patients' re-consent)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef

from outreach.models import FollowUp
from outreach.rules import register
from patients.choices import ConsentStatus
from patients.models import Consent

from .choices import ParticipationStatus
from .models import Participation


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%d%H%M%S")


def _aged(status: str, days: float, now: datetime, title: str) -> Iterator[FollowUp]:
    """A follow-up for each participation in `status` for more than `days`; `title` is formatted
    with the case number, the protocol and the days (no patient, no participant id)."""
    rows = (
        Participation.objects.filter(
            status=status,
            status_changed_at__lte=now - timedelta(days=days),
            case__assigned_liaison__isnull=False,
        )
        .values_list(
            "pk", "case_id", "case__assigned_liaison_id", "case__team_id", "trial__protocol_number", "status_changed_at"
        )
        .iterator(chunk_size=5000)
    )
    for pk, case_id, owner_id, team_id, protocol, since in rows:
        yield FollowUp(
            owner_id=owner_id,
            team_id=team_id,
            title=title.format(case=case_id, protocol=protocol, days=f"{days:g}")[:200],
            due_at=now,
            case_id=case_id,
            rule_key=f"{pk}:{_stamp(since)}",
        )


@register("screening_open", "Trial screening open longer than the days set", {"days": 14})
def screening_open(*, now: datetime, params: dict) -> Iterator[FollowUp]:
    title = "Case #{case}: screening for {protocol} open for more than {days} days"
    return _aged(ParticipationStatus.SCREENING, float(params["days"]), now, title)


@register("consented_not_enrolled", "Consented for a trial but not enrolled within the days set", {"days": 7})
def consented_not_enrolled(*, now: datetime, params: dict) -> Iterator[FollowUp]:
    title = "Case #{case}: consented for {protocol} {days} days ago, not enrolled"
    return _aged(ParticipationStatus.CONSENTED, float(params["days"]), now, title)


@register(
    "research_reconsent",
    "Research consent on an old IRB version while the patient takes part: re-consent due within the hours set",
    {"due_hours": 0},
)
def research_reconsent(*, now: datetime, params: dict) -> Iterator[FollowUp]:
    """A signed research consent whose trial's IRB has approved a newer version, while the case is
    consented or enrolled in that trial."""
    due_hours = float(params["due_hours"])
    taking_part = Participation.objects.filter(
        case_id=OuterRef("case_id"),
        trial_id=OuterRef("form__trial_id"),
        status__in=[ParticipationStatus.CONSENTED, ParticipationStatus.ENROLLED],
    )
    rows = (
        Consent.objects.filter(
            status=ConsentStatus.SIGNED, form__trial__isnull=False, case__assigned_liaison__isnull=False
        )
        .exclude(form_version=F("form__current_version"))
        .filter(Exists(taking_part))
        .values_list(
            "pk",
            "case_id",
            "case__assigned_liaison_id",
            "case__team_id",
            "form__trial__protocol_number",
            "form__current_version",
        )
        .iterator(chunk_size=5000)
    )
    for pk, case_id, owner_id, team_id, protocol, version in rows:
        yield FollowUp(
            owner_id=owner_id,
            team_id=team_id,
            title=f"Case #{case_id}: research re-consent needed, {protocol} consent is now v{version}"[:200],
            due_at=now + timedelta(hours=due_hours),
            case_id=case_id,
            rule_key=f"{pk}:{version}"[:120],
        )
