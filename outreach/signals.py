"""Cached service-level parameters are forgotten whenever a rule row changes."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import rules
from .models import ServiceLevelRule


@receiver(post_save, sender=ServiceLevelRule)
@receiver(post_delete, sender=ServiceLevelRule)
def forget_service_levels(sender, **kwargs) -> None:
    # Now, for this process's next read; and after commit, since another process may have cached
    # the old row again between the save and the commit.
    rules.invalidate()
    transaction.on_commit(rules.invalidate)
