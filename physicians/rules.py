"""Service-level rules about physicians and medical inquiries (registered with outreach.rules)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Q

from outreach.models import FollowUp
from outreach.rules import register

from .choices import InquiryStatus
from .models import MedicalInquiry, Physician


@register(
    "kol_cadence",
    "KOL not contacted within the cadence of their tier",
    {"tier1_days": 45, "tier2_days": 90, "tier3_days": 180},
)
def kol_cadence(*, now: datetime, params: dict) -> Iterator[FollowUp]:
    """A follow-up for the owning MSL, keyed by physician and last contact (one per lapse)."""
    for tier in (1, 2, 3):
        days = params.get(f"tier{tier}_days")
        if not days:
            continue
        cutoff = now - timedelta(days=float(days))
        rows = (
            Physician.objects.filter(kol_tier=tier, is_active=True, owner__isnull=False, owner__is_active=True)
            .filter(Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=cutoff))
            .values_list("pk", "first_name", "last_name", "owner_id", "owner__team_id", "last_interaction_at")
            .iterator(chunk_size=5000)
        )
        for pk, first, last, owner_id, team_id, last_at in rows:
            anchor = last_at.strftime("%Y%m%d%H%M%S") if last_at else "never"
            yield FollowUp(
                owner_id=owner_id,
                team_id=team_id,
                title=f"Contact Dr. {first} {last}: tier {tier} cadence is {float(days):g} days"[:200],
                due_at=now,
                physician_id=pk,
                rule_key=f"{pk}:{anchor}",
            )


@register(
    "inquiry_due_soon",
    "Medical inquiry service level: days to answer by priority; a follow-up when one nears its due date",
    {"urgent_days": 2, "standard_days": 10, "hours_before_due": 24},
)
def inquiry_due_soon(*, now: datetime, params: dict) -> Iterator[FollowUp]:
    """`urgent_days` and `standard_days` set each new inquiry's due date (physicians.conf); this
    function reminds the owner `hours_before_due` before a due date passes unanswered."""
    horizon = now + timedelta(hours=float(params["hours_before_due"]))
    rows = (
        MedicalInquiry.objects.filter(status=InquiryStatus.OPEN, answered_at__isnull=True, due_at__lte=horizon)
        .filter(owner__is_active=True)
        .values_list("pk", "owner_id", "team_id", "due_at")
        .iterator(chunk_size=5000)
    )
    for pk, owner_id, team_id, due_at in rows:
        yield FollowUp(
            owner_id=owner_id,
            team_id=team_id,
            title=f"Answer medical inquiry #{pk}: due {due_at:%Y-%m-%d %H:%M}",
            due_at=min(now, due_at),
            inquiry_id=pk,
            rule_key=f"{pk}:{due_at:%Y%m%d%H%M}",
        )
