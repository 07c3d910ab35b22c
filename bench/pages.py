"""What the benchmark measures: the key pages, who opens them, their admin baseline, the budgets.

One declarative table, so URLs can be adjusted when the feature apps land. `{name}` in a path is
filled from the anchors the harness computes on the loaded data (bench/run.py `anchors()`):
  today, year_ago, cutoff_90d (YYYY-MM-DD), long_physician (the physician with the longest
  timeline, owned by `msl`), case_id (a case of `nurse`, as far along as possible),
  documents_case_id (another case of `nurse`, with the 20 documents bench/load.py files), deep_page
  (90% down the whole physician list), msl_team, cl_team (ids of the demo users' teams), msl_id,
  nurse_id (user ids), participation_id (an enrolled participation of `nurse`), busy_site (the
  trial site with the most participations).
A page whose URL answers 404 is reported "missing" (not built yet, or its URL changed here);
one that still renders the foundation's placeholder is reported "placeholder".
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

# Budgets (DESIGN.md, issue 14). The page / database floor ratio is reported for information
# only: an empty signed-in page is already above 3x its floor, so it is no budget.
LIST_DETAIL_P95_MS = 100.0
DASHBOARD_P95_MS = 300.0  # with a cold cache
ADMIN_RATIO_MAX = 0.5  # our list's p95 / the admin changelist's p95 on the same data
# Up to this is accepted for a list whose rows in templates put it above ADMIN_RATIO_MAX, when its
# Page names the cause (`admin_ratio_cause`, repeated in bench/results.md).
ADMIN_RATIO_ACCEPTED = 0.7
DISPATCH_SECONDS_MAX = 60.0
IMPORT_SECONDS_MAX = 60.0
IMPORT_MEMORY_MB_MAX = 500.0


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    path: str
    user: str  # a demo username (password "demo"); the loader gives each of them data
    kind: str  # "list" | "detail" | "dashboard" | "export" | "reference" (bench/urls.py: no budgets)
    admin: str | None = None  # the same model's admin changelist with the same filter (as `admin`)
    cold_cache: bool = False  # clear Django's cache before every request (dashboards)
    in_mix: bool = True  # part of the throughput workload
    # Why this list may sit between ADMIN_RATIO_MAX and ADMIN_RATIO_ACCEPTED (measured, not guessed).
    admin_ratio_cause: str = ""

    @property
    def budget_ms(self) -> float | None:
        if self.kind == "dashboard":
            return DASHBOARD_P95_MS
        if self.kind in ("list", "detail"):
            return LIST_DETAIL_P95_MS
        return None  # exports: reported, no p95 budget in the issue


PHYS_ADMIN = "/admin/physicians/physician/"

PAGES: tuple[Page, ...] = (
    # What every page costs before it does anything of its own (bench/urls.py): reported beside
    # the pages, never budgeted, never in the throughput mix.
    Page(
        "reference_empty",
        "Reference: an empty signed-in page",
        "/bench/reference/empty/",
        "msl",
        "reference",
        in_mix=False,
    ),
    Page(
        "reference_layout",
        "Reference: the site layout around no content",
        "/bench/reference/layout/",
        "msl",
        "reference",
        in_mix=False,
    ),
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
        # Admin sorts by list_display position (?o=N): last_interaction_at is the 8th column.
        admin=PHYS_ADMIN + "?o=-8",
    ),
    Page(
        "physicians_deep",
        "Physician list, a deep page",
        "/physicians/?scope=all&page={deep_page}",
        "msl",
        "list",
        admin=PHYS_ADMIN + "?p={admin_deep_page}",  # same offset, 100 rows a page
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
        admin_ratio_cause=(
            "its rows and filter bar in templates: 11 ms of templates a request (the bar's eight "
            "crispy fields 3.2 ms alone), against 10 ms of queries; the admin's own p95 on this "
            "changelist moves between 65 and 90 ms from run to run"
        ),
    ),
    Page("worklist_manager", "Case worklist (manager)", "/patients/", "manager", "list", admin="/admin/patients/case/"),
    # The REST API (issue 19): a first page of each busiest list, with the browser session.
    Page("api_physicians", "API: physicians", "/api/v1/physicians/", "msl", "list"),
    Page("api_interactions", "API: interactions", "/api/v1/interactions/", "msl", "list"),
    Page("api_cases", "API: cases", "/api/v1/cases/", "nurse", "list"),
    Page("api_cases_manager", "API: cases (manager, four teams)", "/api/v1/cases/", "manager", "list"),
    Page("api_follow_ups", "API: follow-ups", "/api/v1/follow-ups/", "msl", "list"),
    Page("case", "Case page", "/patients/cases/{case_id}/", "nurse", "detail"),
    # The same page for a case with 20 documents (bench/load.py files them): one query more, at any number.
    Page("case_documents", "Case page with 20 documents", "/patients/cases/{documents_case_id}/", "nurse", "detail"),
    # Trials (issue 17): a participation's page, and a site's page whose counts read its participations.
    Page(
        "participation", "Trial participation page", "/research/participations/{participation_id}/", "nurse", "detail"
    ),
    Page("site", "Trial site page (enrolment counts)", "/physicians/sites/{busy_site}/", "msl", "detail"),
    Page(
        "sites",
        "Trial sites list",
        "/physicians/sites/",
        "msl",
        "list",
        admin="/admin/physicians/trialsite/",
    ),
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
    Page("dashboard_msl", "MSL dashboard, default range", "/reporting/msl/", "manager", "dashboard", cold_cache=True),
    Page(
        "dashboard_trials",
        "Trials dashboard, default range",
        "/reporting/trials/",
        "manager",
        "dashboard",
        cold_cache=True,
    ),
    Page(
        "dashboard_trials_year",
        "Trials dashboard, a year",
        "/reporting/trials/?range=365d",
        "manager",
        "dashboard",
        cold_cache=True,
    ),
    Page(
        "dashboard_msl_year",
        "MSL dashboard, a year",
        "/reporting/msl/?range=365d",
        "manager",
        "dashboard",
        cold_cache=True,
    ),
    Page(
        "dashboard_clinical",
        "Clinical dashboard, default range",
        "/reporting/clinical/",
        "manager",
        "dashboard",
        cold_cache=True,
    ),
    Page(
        "dashboard_clinical_year",
        "Clinical dashboard, a year",
        "/reporting/clinical/?range=365d",
        "manager",
        "dashboard",
        cold_cache=True,
    ),
    # The 100,000-row export: a year of interactions (about 100,000 at scale 1), streamed.
    Page(
        "export_interactions",
        "CSV export: a year of interactions",
        "/physicians/interactions/export.csv?date_from={year_ago}",
        "admin",
        "export",
        in_mix=False,
    ),
    # Every physician (50,000 at scale 1) as an admin, streamed.
    Page(
        "export_csv",
        "CSV export: the whole physician list",
        "/physicians/export.csv?scope=all&sort=last_name",
        "admin",
        "export",
        in_mix=False,
    ),
    Page(
        "export_report",
        "CSV export of a dashboard table (KOLs not reached, a year)",
        "/reporting/export/kols_not_reached.csv?range=365d",
        "manager",
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

IMPORT_SERVICE = "physicians.services:start_import + confirm_import"


class Missing(Exception):
    """The feature is not there (yet): reported as "missing", never a crash."""


def find_import_service():
    """The real two-step import: `start_import` (store the file in a PhysicianImport row and
    validate every row) then `confirm_import` (apply the valid rows)."""
    try:
        from physicians import services
    except ModuleNotFoundError as exc:
        raise Missing(f"physicians.services does not exist: {exc}") from exc
    if not (callable(getattr(services, "start_import", None)) and callable(getattr(services, "confirm_import", None))):
        raise Missing(f"no {IMPORT_SERVICE}")
    return IMPORT_SERVICE, services.start_import


def run_physician_import(csv_path: Path, user) -> object:
    """Upload `csv_path` as `user`, validate it, confirm it, as the import page does.

    Large files go through Celery tasks; bench.env runs Celery eagerly, so both steps finish
    here (outside a transaction, `on_commit` runs at once). Raises if the import did not finish.
    """
    from physicians import importer, services
    from physicians.models import ImportStatus

    find_import_service()
    job = services.start_import(user=user, filename=csv_path.name, raw=csv_path.read_bytes())
    job.refresh_from_db()
    if job.status == ImportStatus.VALIDATING:  # no eager Celery: validate here
        job = importer.validate_import(job)
    if job.status != ImportStatus.VALIDATED:
        raise RuntimeError(f"validation ended {job.status}: {job.failure or job.errors[:3]}")
    job = services.confirm_import(job=job, user=user)
    job.refresh_from_db()
    if job.status == ImportStatus.IMPORTING:  # no eager Celery: apply here
        job = importer.apply_import(job)
    if job.status != ImportStatus.DONE:
        raise RuntimeError(f"import ended {job.status}: {job.failure}")
    return {
        "rows": job.total_rows,
        "valid": job.valid_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "institutions_created": job.institutions_created,
    }


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
