"""`manage.py seed_demo [--scale N]`: realistic demo data, idempotent.

Each app contributes a `demo.py` module with `seed(*, scale: int, stdout) -> None`; they run in
INSTALLED_APPS order (accounts first) unless a module sets `SEED_ORDER` (a number; apps default
to their position), so no app imports another's demo code.
"""

from __future__ import annotations

import importlib
import time

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = "Create the demo teams, users (password 'demo') and data. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=1, help="Multiply data volumes (bulk inserts).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when users already exist.")

    def handle(self, *args, scale: int, if_empty: bool, **options):
        if scale < 1:
            raise CommandError("--scale must be 1 or more.")
        if if_empty and get_user_model().objects.exists():
            self.stdout.write("The database already has users: demo data left as it is.")
            return
        modules = []
        for position, config in enumerate(apps.get_app_configs()):
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name == f"{config.name}.demo":
                    continue
                raise
            modules.append((getattr(module, "SEED_ORDER", position), config, module))
        for _, config, module in sorted(modules, key=lambda item: item[0]):
            started = time.monotonic()
            with transaction.atomic():
                module.seed(scale=scale, stdout=self.stdout)
            self.stdout.write(f"  {config.label}: {time.monotonic() - started:.1f}s")
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Users: msl, msl2, nurse, nurse2, manager, admin (password: demo).")
        )
