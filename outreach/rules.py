"""Service-level rules: a registry that other apps fill without outreach importing them.

`physicians/rules.py` and `patients/rules.py` decorate functions with `@register(...)`; the
outreach AppConfig autodiscovers every app's `rules` module. A rule function receives `now` and
its parameters (defaults overridden by the admin's ServiceLevelRule row) and returns the
follow-ups it wants opened, unsaved; `open_follow_ups` inserts them set-based and idempotently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .models import FollowUp, ServiceLevelRule

logger = logging.getLogger(__name__)

KEY_CHUNK = 5000


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    defaults: dict
    func: Callable[..., Iterable[FollowUp]]


_REGISTRY: dict[str, Rule] = {}


def register(key: str, label: str, defaults: dict | None = None):
    """Decorator: `@register("kol_cadence", "KOL not contacted within cadence", {"tier1_days": 45})`."""

    def decorator(func):
        _REGISTRY[key] = Rule(key=key, label=label, defaults=dict(defaults or {}), func=func)
        return func

    return decorator


def registry() -> dict[str, Rule]:
    return dict(_REGISTRY)


def ensure_rule_rows() -> None:
    """One admin-editable row per registered rule (existing rows are left as the admin set them)."""
    ServiceLevelRule.objects.bulk_create(
        [ServiceLevelRule(key=r.key, label=r.label, parameters=dict(r.defaults)) for r in _REGISTRY.values()],
        ignore_conflicts=True,
    )


def configured() -> list[tuple[Rule, bool, dict]]:
    """Every registered rule with its enabled flag and effective parameters."""
    ensure_rule_rows()
    rows = {row.key: row for row in ServiceLevelRule.objects.filter(key__in=list(_REGISTRY))}
    out = []
    for rule in _REGISTRY.values():
        row = rows.get(rule.key)
        params = {**rule.defaults, **(row.parameters if row and isinstance(row.parameters, dict) else {})}
        out.append((rule, row.enabled if row else True, params))
    return out


def open_follow_ups(rule_key: str, candidates: Iterable[FollowUp]) -> int:
    """Insert the candidates whose (rule, rule_key) was never opened before; return how many.

    A key that exists in any status is skipped, so completing a rule's follow-up does not make
    the next run open it again; the key carries the anchor (e.g. the last contact) so a new
    lapse gets a new key. The partial unique constraint covers two runs racing.
    """
    candidates = list(candidates)
    created = 0
    for start in range(0, len(candidates), KEY_CHUNK):
        chunk = candidates[start : start + KEY_CHUNK]
        keys = [c.rule_key for c in chunk]
        existing = set(FollowUp.objects.filter(rule=rule_key, rule_key__in=keys).values_list("rule_key", flat=True))
        fresh = []
        seen = set(existing)
        for c in chunk:
            if c.rule_key not in seen:
                seen.add(c.rule_key)
                c.rule = rule_key
                fresh.append(c)
        FollowUp.objects.bulk_create(fresh, batch_size=1000, ignore_conflicts=True)
        created += len(fresh)
    return created


def run_rules(*, now: datetime | None = None, only: Iterable[str] | None = None) -> dict[str, int]:
    """Run every enabled rule (or those in `only`); return {key: follow-ups opened}."""
    now = now or timezone.now()
    wanted = set(only) if only is not None else None
    results: dict[str, int] = {}
    for rule, enabled, params in configured():
        if not enabled or (wanted is not None and rule.key not in wanted):
            continue
        with transaction.atomic():
            results[rule.key] = open_follow_ups(rule.key, rule.func(now=now, params=params))
        if results[rule.key]:
            logger.info("Rule %s opened %d follow-ups", rule.key, results[rule.key])
    return results
