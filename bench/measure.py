"""Server-side page measurements with Django's test Client, in-process, on the bench database."""

from __future__ import annotations

import contextlib
import re
import statistics
import time
from datetime import timedelta

from bench.pages import PAGES, Page

PLACEHOLDER_MARKER = b"This section is being built."
DECLARE_CURSOR = re.compile(r"^\s*DECLARE\s+\S+\s+.*?CURSOR\s+(?:WITH(?:OUT)?\s+HOLD\s+)?FOR\s+", re.I | re.S)
SKIP_ON_REPLAY = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
SCAN_NODES = {
    "Seq Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Heap Scan",
    "Tid Scan",
    "Tid Range Scan",
    "Parallel Seq Scan",
}
REQUEST_TIMEOUT_S = 60.0  # one page's loop stops after this much wall time, whatever the count


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def nurse_case(nurse, exclude: int | None = None) -> int | None:
    """A case of `nurse`, as far along as possible (the case page's anchor), other than `exclude`."""
    from patients.models import Case

    for stage in ("admitted", "accepted", "evaluating", "referred", "discharged"):
        qs = Case.objects.filter(assigned_liaison=nurse, stage=stage)
        if exclude is not None:
            qs = qs.exclude(pk=exclude)
        case_id = qs.order_by("id").values_list("id", flat=True).first()
        if case_id:
            return case_id
    return None


def anchors() -> dict[str, object]:
    """Values for the {placeholders} of bench/pages.py, found on the loaded data."""
    from django.conf import settings
    from django.db.models import Count
    from django.utils import timezone

    from accounts.models import User
    from patients.models import Case
    from physicians.models import Interaction, Physician

    users = {u.username: u for u in User.objects.filter(username__in=["msl", "nurse", "manager", "admin"])}
    msl, nurse = users["msl"], users["nurse"]
    today = timezone.localdate()
    long_physician = (
        Interaction.objects.filter(physician__owner=msl)
        .values("physician_id")
        .annotate(n=Count("id"))
        .order_by("-n", "physician_id")
        .values_list("physician_id", flat=True)
        .first()
    ) or Physician.objects.order_by("id").values_list("id", flat=True).first()
    case_id = nurse_case(nurse)
    # The case bench/load.py gave 20 documents (another of nurse's cases, so the case page stays as it was).
    documents_case_id = (
        Case.objects.filter(assigned_liaison=nurse, documents__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    from physicians.models import TrialSite
    from research.models import Participation

    # The participation page: one of nurse's, enrolled (the longest page); the site page: the
    # site with the most participations (its counts over the most rows).
    mine = Participation.objects.filter(case__assigned_liaison=nurse).order_by("id").values_list("id", flat=True)
    participation_id = mine.filter(status="enrolled").first() or mine.first()
    busy_site = (
        TrialSite.objects.annotate(n=Count("participations")).order_by("-n", "id").values_list("id", flat=True).first()
    )
    n_phys = Physician.objects.count()
    return {
        "today": today.isoformat(),
        "year_ago": (today - timedelta(days=365)).isoformat(),
        "cutoff_90d": (today - timedelta(days=90)).isoformat(),
        "long_physician": long_physician,
        "case_id": case_id or 0,
        "documents_case_id": documents_case_id or 0,
        "participation_id": participation_id or 0,
        "busy_site": busy_site or 0,
        "deep_page": max(1, int(n_phys / settings.PAGE_SIZE * 0.9)),
        # The admin changelist shows 100 rows a page: the page at the same offset.
        "admin_deep_page": max(1, int(n_phys / 100 * 0.9)),
        "msl_team": msl.team_id,
        "cl_team": nurse.team_id,
        "msl_id": msl.id,
        "nurse_id": nurse.id,
    }


class Clients:
    """One logged-in test Client per username (force_login: a real session row in the bench DB)."""

    def __init__(self) -> None:
        self._clients: dict = {}

    def get(self, username: str):
        from django.contrib.auth import get_user_model
        from django.test import Client

        if username not in self._clients:
            client = Client(raise_request_exception=False)
            client.force_login(get_user_model().objects.get(username=username))
            self._clients[username] = client
        return self._clients[username]


def clear_cache() -> None:
    from django.core.cache import cache

    # An unreachable Redis: the cache is an accelerator, the page still works.
    with contextlib.suppress(Exception):
        cache.clear()


def fetch(client, url: str) -> tuple[float, int, bytes, int]:
    """GET `url`, consume a streaming body too; (seconds, status, first bytes of the body, lines)."""
    started = time.perf_counter()
    response = client.get(url)
    if response.streaming:
        body = b""
        lines = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            if len(body) < 4096:
                body += chunk
    else:
        body = response.content
        lines = body.count(b"\n")
    return time.perf_counter() - started, response.status_code, body[:200_000], lines


def classify(status: int, body: bytes) -> str:
    if status == 200:
        return "placeholder" if PLACEHOLDER_MARKER in body else "ok"
    if status == 404:
        return "missing"
    return "error"


def capture(client, url: str, cold_cache: bool) -> tuple[int, list[dict], bytes]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if cold_cache:
        clear_cache()
    with CaptureQueriesContext(connection) as ctx:
        _, status, body, _ = fetch(client, url)
    return status, list(ctx.captured_queries), body


def _walk(plan: dict) -> int:
    rows = 0
    if plan.get("Node Type") in SCAN_NODES:
        per_loop = plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
        per_loop += plan.get("Rows Removed by Index Recheck", 0)
        rows += int(per_loop * plan.get("Actual Loops", 1))
    for child in plan.get("Plans", ()):
        rows += _walk(child)
    return rows


class Floor:
    """The page's queries alone on a cursor: the database floor, and the rows they read.

    Each timing runs in a transaction that is rolled back, so writes the page made (session,
    audit) are measured but leave nothing behind. The harness times the floor between the page's
    own timed requests, so that a machine slowed by a neighbour slows both alike.
    """

    def __init__(self, queries: list[dict]) -> None:
        # A server-side cursor (Django's .iterator(), e.g. a form's ModelChoiceField) is captured
        # as DECLARE ... FOR <select>: replay the select itself.
        self.statements = [
            DECLARE_CURSOR.sub("", q["sql"])
            for q in queries
            if not q["sql"].lstrip().upper().startswith(SKIP_ON_REPLAY)
        ]
        self.samples: list[float] = []

    def explain(self) -> dict:
        import json as _json

        from django.db import connection, transaction

        rows_read = rows_returned = 0
        with transaction.atomic(), connection.cursor() as cur:
            for sql in self.statements:
                if sql.lstrip().upper().startswith(("SELECT", "WITH")):
                    cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                    plan = cur.fetchone()[0]
                    plan = _json.loads(plan) if isinstance(plan, str) else plan
                    rows_read += _walk(plan[0]["Plan"])
                    rows_returned += int(plan[0]["Plan"].get("Actual Rows", 0))
            transaction.set_rollback(True)
        return {"rows_read": rows_read, "rows_returned": rows_returned}

    def time_once(self) -> None:
        from django.db import connection, transaction

        with transaction.atomic(), connection.cursor() as cur:
            started = time.perf_counter()
            for sql in self.statements:
                cur.execute(sql)
                if cur.description is not None:
                    cur.fetchall()
            self.samples.append(time.perf_counter() - started)
            transaction.set_rollback(True)

    def result(self) -> dict:
        return {"floor_p50_ms": round(statistics.median(self.samples) * 1000, 2) if self.samples else 0.0}


class TemplateClock:
    """Time spent inside Django's template engine during a request (the outermost render only:
    included templates are inside it). Queries a template triggers lazily count as template time.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0

    @contextlib.contextmanager
    def installed(self):
        from django.template.backends import django as backend

        original = backend.Template.render
        clock = self

        def render(template, context=None, request=None):
            clock._depth += 1
            started = time.perf_counter()
            try:
                return original(template, context, request)
            finally:
                clock._depth -= 1
                if clock._depth == 0:
                    clock.seconds += time.perf_counter() - started

        backend.Template.render = render
        try:
            yield self
        finally:
            backend.Template.render = original


def time_page(client, url: str, *, warmup: int, repeat: int, cold_cache: bool, between=None) -> dict:
    """The page's p50/p95/max over `repeat` requests after `warmup`, and the p50s of the time its
    templates took and of the rest; `between()` runs after each timed request (the floor's timing)."""
    times: list[float] = []
    template_times: list[float] = []
    untemplated: list[float] = []  # the rest of each request: Python, queries, the test client
    status, body, lines = 0, b"", 0
    deadline = time.monotonic() + REQUEST_TIMEOUT_S
    with TemplateClock().installed() as clock:
        for i in range(warmup + repeat):
            if cold_cache:
                clear_cache()
            clock.seconds = 0.0
            seconds, status, body, lines = fetch(client, url)
            if i == 0 and status != 200:
                break  # missing or broken: no point repeating
            if i >= warmup:
                times.append(seconds)
                template_times.append(clock.seconds)
                untemplated.append(seconds - clock.seconds)
                if between is not None:
                    between()
            if time.monotonic() > deadline and times:
                break
    result = {"status_code": status, "status": classify(status, body), "samples": len(times), "lines": lines}
    if times:
        result.update(
            p50_ms=round(pct(times, 50) * 1000, 2),
            p95_ms=round(pct(times, 95) * 1000, 2),
            max_ms=round(max(times) * 1000, 2),
            template_p50_ms=round(pct(template_times, 50) * 1000, 2),
            untemplated_p50_ms=round(pct(untemplated, 50) * 1000, 2),
        )
    return result


def measure_pages(
    anchor: dict, *, warmup: int = 3, repeat: int = 20, counts_only: bool = False, only: set[str] | None = None
) -> dict[str, dict]:
    clear_cache()
    clients = Clients()
    results: dict[str, dict] = {}
    for page in PAGES:
        if only and page.key not in only:
            continue
        results[page.key] = measure_page(page, anchor, clients, warmup=warmup, repeat=repeat, counts_only=counts_only)
        r = results[page.key]
        print(
            f"  {page.key:22} {r['status']:11} p95={r.get('p95_ms', '-')}ms queries={r.get('queries', '-')}"
            + (f" admin p95={r['admin'].get('p95_ms', '-')}ms" if r.get("admin") else ""),
            flush=True,
        )
    return results


def measure_page(page: Page, anchor: dict, clients: Clients, *, warmup: int, repeat: int, counts_only: bool) -> dict:
    url = page.path.format(**anchor)
    client = clients.get(page.user)
    result: dict = {"title": page.title, "url": url, "user": page.user, "kind": page.kind}
    try:
        fetch(client, url)  # warm-up: first-use caches of the process
        # The second request: the status and the queries the page runs.
        status, queries, body = capture(client, url, page.cold_cache)
        result.update(status_code=status, status=classify(status, body))
        if result["status"] in ("ok", "placeholder"):
            result["queries"] = len(queries)
            if not counts_only:
                floor = Floor(queries)
                result.update(floor.explain())
                result.update(
                    time_page(
                        client, url, warmup=warmup, repeat=repeat, cold_cache=page.cold_cache, between=floor.time_once
                    )
                )
                result.update(floor.result())
                if result.get("floor_p50_ms") and result.get("p50_ms"):
                    result["floor_ratio"] = round(result["p50_ms"] / result["floor_p50_ms"], 2)
    except Exception as exc:  # a broken page is a finding, not the end of the benchmark
        result.update(status="error", error=f"{type(exc).__name__}: {exc}"[:500])
    if page.admin and not counts_only:
        admin_url = page.admin.format(**anchor)
        admin = {"url": admin_url}
        try:
            admin.update(time_page(clients.get("admin"), admin_url, warmup=warmup, repeat=repeat, cold_cache=False))
        except Exception as exc:
            admin.update(status="error", error=f"{type(exc).__name__}: {exc}"[:500])
        result["admin"] = admin
        if admin.get("status") == "ok" and result.get("p95_ms") and result["status"] == "ok":
            result["admin_ratio"] = round(result["p95_ms"] / admin["p95_ms"], 2)
    return result
