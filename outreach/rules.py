"""Service-level rules: a registry that other apps fill without outreach importing them.

`physicians/rules.py` and `patients/rules.py` decorate functions with `@register(...)`; the
outreach AppConfig autodiscovers every app's `rules` module. A rule function receives `now` and
its parameters (defaults overridden by the admin's ServiceLevelRule row) and returns the
follow-ups it wants opened, unsaved; `open_follow_ups` inserts them set-based and idempotently.

The same rows are the one source of every service level: inquiry due dates, the worklist's gap
filter and the dashboards' figures and labels read `parameters(key)`, never a constant of their
own. The registered defaults are the only place the numbers are written down. A disabled rule
opens no follow-ups but still supplies its parameters (a due date or a figure needs a number).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .models import FollowUp, ServiceLevelRule

logger = logging.getLogger(__name__)

KEY_CHUNK = 5000

# Every rule's enabled flag and effective parameters, as one cache entry. Saving or deleting a
# ServiceLevelRule deletes it (outreach/signals.py); the timeout only bounds how long a write
# that bypasses save() (a queryset update) can go unseen.
CACHE_KEY = "outreach:service-levels:v1"
CACHE_SECONDS = 3600


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


def _read_rows() -> dict[str, dict]:
    """{key: {"enabled": bool, "parameters": defaults overridden by the row}} for every rule (one query)."""
    stored = {
        key: (enabled, params)
        for key, enabled, params in ServiceLevelRule.objects.filter(key__in=list(_REGISTRY)).values_list(
            "key", "enabled", "parameters"
        )
    }
    out = {}
    for rule in _REGISTRY.values():
        enabled, params = stored.get(rule.key, (True, {}))
        out[rule.key] = {
            "enabled": enabled,
            "parameters": {**rule.defaults, **(params if isinstance(params, dict) else {})},
        }
    return out


def _settings(*, fresh: bool = False) -> dict[str, dict]:
    value = None if fresh else cache.get(CACHE_KEY)
    if value is None or not set(_REGISTRY) <= set(value):  # a rule registered since it was cached
        value = _read_rows()
        cache.set(CACHE_KEY, value, CACHE_SECONDS)
    return value


def invalidate() -> None:
    """Forget the cached parameters (the signal on ServiceLevelRule save and delete calls this)."""
    cache.delete(CACHE_KEY)


def parameters(key: str) -> dict:
    """The effective parameters of rule `key`: its registered defaults, overridden by the admin's row.

    Cached, so a page may call it for every figure without a query per call; enabled or not (a
    disabled rule opens no follow-ups, but its numbers still set due dates and figures).
    """
    if key not in _REGISTRY:
        raise LookupError(f"No service-level rule {key!r} is registered.")
    return dict(_settings()[key]["parameters"])


def fingerprint() -> str:
    """A short digest of every rule's parameters: part of the dashboards' cache keys, so a figure
    computed with old parameters is never served after a rule is edited."""
    snapshot = sorted((key, sorted(value["parameters"].items())) for key, value in _settings().items())
    return hashlib.sha256(repr(snapshot).encode()).hexdigest()[:12]


def configured() -> list[tuple[Rule, bool, dict]]:
    """Every registered rule with its enabled flag and effective parameters (read fresh)."""
    ensure_rule_rows()
    current = _settings(fresh=True)
    return [(rule, current[rule.key]["enabled"], dict(current[rule.key]["parameters"])) for rule in _REGISTRY.values()]


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
