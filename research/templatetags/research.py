"""The case page's Trials section and the trial steps of its history, included with one line
(templates/research/_case_trials.html): one query, whatever the number of participations."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from .. import selectors, services

register = template.Library()


@dataclass
class CaseTrials:
    participations: list
    history: list
    can_screen: bool


@register.simple_tag(takes_context=True)
def case_trials(context, case) -> CaseTrials:
    user = context["request"].user
    participations, history = selectors.case_trials(case)
    return CaseTrials(
        participations=participations,
        history=history,
        can_screen=services.can_change(user, case) and case.is_open,
    )
