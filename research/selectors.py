"""Read-side queries of trial participation: a case's participations, one participation's page.
(The medical-affairs side's counts are physicians.selectors.with_enrolment: figures, no rows.)"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User

from . import services
from .choices import NEXT_STATUSES, ParticipationStatus
from .models import Participation, ParticipationTransition

PEOPLE = ("screened_by", "concluded_by")


def participation_detail_queryset(user) -> QuerySet[Participation]:
    return (
        Participation.objects.visible_to(user)
        .select_related(
            "case__patient", "case__team", "site__institution", "site__principal_investigator", "trial", *PEOPLE
        )
        .defer(*User.unshown(*PEOPLE))
    )


def case_trials(case) -> tuple[list[Participation], list[ParticipationTransition]]:
    """The case's participations (newest first) and every step of them (oldest first), for the
    case page, in one query: every participation has its first step, so the steps name them all.
    The caller has checked that the user sees the case."""
    steps = list(
        ParticipationTransition.objects.filter(participation__case=case)
        .select_related("participation__trial", "participation__site__institution", "by")
        .defer(*User.unshown("by"))
        .order_by("at", "pk")
    )
    participations = {t.participation_id: t.participation for t in steps}
    newest_first = sorted(participations.values(), key=lambda p: (p.screened_at, p.pk), reverse=True)
    return newest_first, steps


def participation_page(participation: Participation, user) -> dict:
    """What research/participation.html shows: the screening's answers, the research consents and
    their signed copies, the history, and the steps this user may take next (`next_steps`)."""
    consents = services.research_consents(participation)
    copies = services.signed_copies(consents)
    for consent in consents:
        consent.has_signed_copy = consent.pk in copies
    can_change = services.can_change(user, participation)
    status = participation.status
    S = ParticipationStatus
    return {
        "participation": participation,
        "case": participation.case,
        "can_change": can_change,
        "next_steps": NEXT_STATUSES.get(status, ()) if can_change else (),
        "criteria": services.criteria_with_answers(participation),
        "consents": consents,
        "consent_form": services.research_consent_form(participation.trial),
        "transitions": list(
            participation.transitions.select_related("by").defer(*User.unshown("by")).order_by("at", "pk")
        ),
        "eligibility_blockers": services.eligibility_blockers(participation) if status == S.SCREENING else [],
        "consent_blockers": services.consent_blockers(participation, consents, copies)
        if status in (S.ELIGIBLE, S.CONSENTED)
        else [],
        "can_add_consent": can_change and not services.research_consent_refusal(participation, consents),
    }
