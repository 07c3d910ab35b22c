"""What the benchmark measures: the key pages, who opens them, their admin baseline, the budgets.

One declarative table, so URLs can be adjusted when the feature apps land. `{name}` in a path is
filled from the anchors the harness computes on the loaded data (bench/run.py `anchors()`):
  today, year_ago, cutoff_90d (YYYY-MM-DD), long_physician (the physician with the longest
  timeline, owned by `msl`), case_id (a case of `nurse`, as far along as possible), deep_page
  (90% down the whole physician list), msl_team, cl_team (ids of the demo users' teams), msl_id,
  nurse_id (user ids).
A page whose URL answers 404 is reported "missing" (not built yet, or its URL changed here);
one that still renders the foundation's placeholder is reported "placeholder".
"""

from __future__ import annotations

import csv
import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

# Budgets of issue 7.
LIST_DETAIL_P95_MS = 100.0
DASHBOARD_P95_MS = 300.0  # with a cold cache
FLOOR_RATIO_MAX = 3.0  # page p50 / database floor p50
ADMIN_RATIO_MAX = 0.5  # our list p50 / the admin changelist's p50
DISPATCH_SECONDS_MAX = 60.0
IMPORT_SECONDS_MAX = 60.0
IMPORT_MEMORY_MB_MAX = 500.0


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    path: str
    user: str  # a demo username (password "demo"); the loader gives each of them data
    kind: str  # "list" | "detail" | "dashboard" | "export"
    admin: str | None = None  # the same model's admin changelist with the same filter (as `admin`)
    cold_cache: bool = False  # clear Django's cache before every request (dashboards)
    in_mix: bool = True  # part of the throughput workload

    @property
    def budget_ms(self) -> float | None:
        if self.kind == "dashboard":
            return DASHBOARD_P95_MS
        if self.kind in ("list", "detail"):
            return LIST_DETAIL_P95_MS
        return None  # exports: reported, no p95 budget in the issue


PHYS_ADMIN = "/admin/physicians/physician/"

PAGES: tuple[Page, ...] = (
    Page(
        "physicians",
        "Physician list (default: my physicians)",
        "/physicians/",
        "msl",
        "list",
        admin=PHYS_ADMIN + "?owner__id__exact={msl_id}",
    ),
    Page(
        "physicians_search",
        "Physician list, searched",
        "/physicians/?q=Nguyen&scope=all",
        "msl",
        "list",
        admin=PHYS_ADMIN + "?q=Nguyen",
    ),
    Page(
        "physicians_filtered",
        "Physician list, tier 1 not contacted in 90 days",
        "/physicians/?tier=1&not_contacted_days=90&scope=all",
        "msl",
        "list",
        admin=PHYS_ADMIN + "?kol_tier__exact=1&last_interaction_at__lt={cutoff_90d}",
    ),
    Page(
        "physicians_sorted",
        "Physician list, sorted by last interaction",
        "/physicians/?sort=-last_interaction_at&scope=all",
        "msl",
        "list",
        # Admin sorts by list_display position (?o=N): adjust N to the last_interaction_at column.
        admin=PHYS_ADMIN + "?o=-5",
    ),
    Page(
        "physicians_deep",
        "Physician list, a deep page",
        "/physicians/?scope=all&page={deep_page}",
        "msl",
        "list",
        admin=PHYS_ADMIN + "?p={deep_page}",
    ),
    Page("physician_profile", "Physician profile (long timeline)", "/physicians/{long_physician}/", "msl", "detail"),
    Page(
        "interactions",
        "Interaction list",
        "/physicians/interactions/",
        "msl",
        "list",
        admin="/admin/physicians/interaction/?team__id__exact={msl_team}",
    ),
    Page(
        "insight_review",
        "Insight review queue",
        "/physicians/insights/review/",
        "manager",
        "list",
        admin="/admin/physicians/insight/?status__exact=new",
    ),
    Page(
        "inquiries",
        "Inquiry list",
        "/physicians/inquiries/",
        "msl",
        "list",
        admin="/admin/physicians/medicalinquiry/?team__id__exact={msl_team}",
    ),
    Page(
        "worklist_nurse",
        "Case worklist (nurse)",
        "/patients/",
        "nurse",
        "list",
        admin="/admin/patients/case/?team__id__exact={cl_team}",
    ),
    Page("worklist_manager", "Case worklist (manager)", "/patients/", "manager", "list", admin="/admin/patients/case/"),
    Page("case", "Case page", "/patients/cases/{case_id}/", "nurse", "detail"),
    Page(
        "follow_ups",
        "Follow-ups page",
        "/outreach/follow-ups/",
        "msl",
        "list",
        admin="/admin/outreach/followup/?owner__id__exact={msl_id}&status__exact=open",
    ),
    Page(
        "follow_ups_nurse",
        "Follow-ups page (nurse)",
        "/outreach/follow-ups/",
        "nurse",
        "list",
        admin="/admin/outreach/followup/?owner__id__exact={nurse_id}&status__exact=open",
    ),
    Page("dashboard", "Dashboard, default range", "/reporting/", "manager", "dashboard", cold_cache=True),
    Page("dashboard_year", "Dashboard, a year", "/reporting/?range=365d", "manager", "dashboard", cold_cache=True),
    # ~100,000 rows at scale 1 (a decade of 1M interactions: one year of them, seen by an admin).
    # Adjust to the export URL the physicians/reporting apps ship.
    Page(
        "export_csv",
        "CSV export (about 100,000 rows)",
        "/physicians/interactions/export/?date_from={year_ago}&date_to={today}",
        "admin",
        "export",
        in_mix=False,
    ),
)

# --- physician import ---------------------------------------------------------------------------

# Columns of the generated file: as in the public NPI registry export (issue 3).
IMPORT_COLUMNS = (
    "NPI",
    "Provider First Name",
    "Provider Last Name (Legal Name)",
    "Provider Credential Text",
    "Healthcare Provider Taxonomy Description",
    "Provider Organization Name (Legal Business Name)",
    "Provider Business Practice Location Address City Name",
    "Provider Business Practice Location Address State Name",
)

# Where the import service may live; the first one found is called. Adjust after merging.
IMPORT_CANDIDATES = (
    "physicians.imports:import_physicians",
    "physicians.importer:import_physicians",
    "physicians.services:import_physicians",
    "physicians.services:import_physicians_csv",
    "physicians.imports:run_import",
)


class Missing(Exception):
    """The feature is not there (yet): reported as "missing", never a crash."""


def find_import_service():
    for spec in IMPORT_CANDIDATES:
        module_name, attr = spec.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        func = getattr(module, attr, None)
        if callable(func):
            return spec, func
    raise Missing("no physician import service at " + ", ".join(IMPORT_CANDIDATES))


def run_physician_import(csv_path: Path, user) -> object:
    """Call the import service on `csv_path` as `user`, confirmed (not a dry run).

    The service's signature is matched by parameter names; adjust here if it differs.
    """
    from django.core.files import File

    spec, func = find_import_service()
    kwargs = {}
    opened = []
    for name, param in inspect.signature(func).parameters.items():
        lname = name.lower()
        if lname in ("file", "fileobj", "f", "stream", "csv_file", "upload", "uploaded_file", "source", "fp"):
            fh = open(csv_path, "rb")  # noqa: SIM115 - closed below
            opened.append(fh)
            kwargs[name] = File(fh, name=csv_path.name)
        elif lname in ("path", "csv_path", "filename"):
            kwargs[name] = str(csv_path)
        elif lname in ("text", "content", "data", "csv_text"):
            kwargs[name] = csv_path.read_text()
        elif lname == "rows":
            with open(csv_path, newline="") as fh:
                kwargs[name] = list(csv.DictReader(fh))
        elif lname in ("user", "by", "actor", "imported_by", "owner", "created_by", "requested_by"):
            kwargs[name] = user
        elif lname in ("dry_run", "validate_only"):
            kwargs[name] = False
        elif lname in ("confirm", "commit", "confirmed"):
            kwargs[name] = True
        elif param.default is inspect.Parameter.empty and param.kind not in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            raise Missing(f"{spec}{inspect.signature(func)}: cannot fill parameter {name!r}; adapt bench/pages.py")
    try:
        return func(**kwargs)
    finally:
        for fh in opened:
            fh.close()


DISPATCH_TASK = "outreach.tasks:dispatch_due_reminders"


def find_dispatch():
    module_name, attr = DISPATCH_TASK.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise Missing(f"{module_name} does not exist") from exc
    func = getattr(module, attr, None)
    if not callable(func):
        raise Missing(f"{DISPATCH_TASK} does not exist")
    return func
