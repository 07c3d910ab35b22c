"""The benchmark harness: load, measure every key page, throughput, dispatch, import; report.

    python -m bench.run [--scale 1.0] [--skip-load] [--reference-scale 0.002] [--out bench]

Writes <out>/results.json and <out>/results.md. A page, task or service that does not exist yet
is reported "missing"; nothing here crashes on it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import env

BENCH_DIR = Path(__file__).resolve().parent


def with_db_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _json_line(output: str) -> dict | None:
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    return None


# --- machine -----------------------------------------------------------------------------------


def machine() -> dict:
    from django.db import connection

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "postgresql": pg,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --- reference run (query counts at a tiny scale) -------------------------------------------------


def reference_counts(url: str, scale: float) -> dict:
    """Query counts per page on a tiny separate database, in a child process."""
    ref_url = with_db_name(url, env.db_name(url) + "_ref")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "counts.json"
        cmd = [
            sys.executable,
            "-m",
            "bench.run",
            "--counts-only",
            "--scale",
            str(scale),
            "--db-url",
            ref_url,
            "--json",
            str(out),
        ]
        proc = subprocess.run(cmd, cwd=env.ROOT, env={**os.environ, "PYTHONPATH": str(env.ROOT)}, timeout=900)
        from bench.load import drop_database

        drop_database(ref_url)
        if proc.returncode != 0 or not out.exists():
            return {"scale": scale, "error": f"reference run failed (exit {proc.returncode})", "pages": {}}
        return {"scale": scale, "pages": json.loads(out.read_text())}


# --- reminder dispatch -----------------------------------------------------------------------------


def measure_dispatch(url: str, workers: int, deadline: float) -> dict:
    from django.db.models import Count
    from django.utils import timezone

    from bench.pages import Missing, find_dispatch

    try:
        find_dispatch()
    except Missing as exc:
        return {"status": "missing", "error": str(exc)}
    except Exception as exc:
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    from outreach.models import FollowUp, Notification

    before = timezone.now()
    due = FollowUp.objects.due_unreminded(before).count()
    start_at = time.time() + 4  # every worker has set Django up and connected by then
    cmd = [sys.executable, "-m", "bench.workers", "dispatch", "--start-at", str(start_at), "--deadline", str(deadline)]
    procs = [
        subprocess.Popen(cmd, cwd=env.ROOT, env=env.bench_environ(url), stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    outputs = []
    for proc in procs:
        try:
            stdout, _ = proc.communicate(timeout=deadline + 120)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, _ = proc.communicate()
        outputs.append(_json_line(stdout or "") or {"status": "error", "error": f"exit {proc.returncode}"})
    if any(o.get("status") == "missing" for o in outputs):
        return {"status": "missing", "error": outputs[0].get("error")}
    finished = [o for o in outputs if "started" in o]
    seconds = (max(o["ended"] for o in finished) - min(o["started"] for o in finished)) if finished else None
    sent = sum(o.get("sent", 0) for o in outputs)
    still_due = FollowUp.objects.due_unreminded(before).count()
    reminded_now = FollowUp.objects.filter(reminded_at__gte=before).count()
    notes = Notification.objects.filter(
        kind=Notification.Kind.REMINDER, created_at__gte=before, follow_up__isnull=False
    )
    repeated = notes.values("follow_up").annotate(n=Count("id")).filter(n__gt=1)
    dup_notifications = sum(r["n"] - 1 for r in repeated)
    notified_due = (
        notes.filter(follow_up__due_at__lte=before).values("follow_up").distinct().count() if notes.exists() else None
    )
    duplicates = max(dup_notifications, max(0, sent - reminded_now))
    misses = still_due + (max(0, due - notified_due) if notified_due is not None else 0)
    errors = [o["error"] for o in outputs if o.get("error")]
    return {
        "status": "error" if errors else "ok",
        "errors": errors,
        "workers": workers,
        "due": due,
        "seconds": round(seconds, 2) if seconds is not None else None,
        "sent": sent,
        "per_worker": [o.get("sent") for o in outputs],
        "reminded_during_run": reminded_now,
        "still_unreminded": still_due,
        "duplicate_notifications": dup_notifications,
        "due_with_notification": notified_due,
        "duplicates": duplicates,
        "misses": misses,
    }


# --- physician import ------------------------------------------------------------------------------


def write_import_csv(path: Path, rows: int) -> None:
    """Half the rows update physicians already loaded (same NPI), half are new."""
    from random import Random

    from bench.load import FIRST_NAMES, LAST_NAMES, SPECIALTIES
    from bench.pages import IMPORT_COLUMNS
    from physicians.models import Institution, Physician
    from physicians.npi import make_npi

    rng = Random(45)
    existing = list(Physician.objects.order_by("id").values_list("npi", flat=True)[: rows // 2])
    places = list(Institution.objects.order_by("id").values_list("name", "city", "state")[:500])
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(IMPORT_COLUMNS)
        for i in range(rows):
            npi = existing[i] if i < len(existing) else make_npi(200_000_000 + i)
            name, city, state = places[i % len(places)] if i % 3 else (f"New Clinic {i}", "Springfield", "IL")
            writer.writerow(
                [npi, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), "MD", rng.choice(SPECIALTIES), name, city, state]
            )


def measure_import(url: str, scale: float) -> dict:
    from bench.load import scaled
    from bench.pages import Missing, find_import_service

    try:
        spec, _ = find_import_service()
    except Missing as exc:
        return {"status": "missing", "error": str(exc)}
    except Exception as exc:
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    rows = scaled(50_000, scale, 100)
    data_dir = BENCH_DIR / "data"
    data_dir.mkdir(exist_ok=True)
    path = data_dir / "physicians-import.csv"
    write_import_csv(path, rows)
    cmd = [sys.executable, "-m", "bench.workers", "import", str(path)]
    try:
        proc = subprocess.run(
            cmd, cwd=env.ROOT, env=env.bench_environ(url), capture_output=True, text=True, timeout=900
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "error": "import did not finish within 900 s", "rows": rows, "service": spec}
    result = _json_line(proc.stdout) or {"status": "error", "error": (proc.stderr or proc.stdout)[-500:]}
    result.update(rows=rows, service=spec)
    return result


# --- budgets ---------------------------------------------------------------------------------------


def evaluate_budgets(results: dict) -> list[dict]:
    from bench import pages as P

    checks: list[dict] = []

    def check(name: str, value, limit, ok: bool | None, note: str = "") -> None:
        verdict = "missing" if ok is None else ("pass" if ok else "fail")
        checks.append({"budget": name, "value": value, "limit": limit, "result": verdict, "note": note})

    ref = results.get("reference", {}).get("pages", {})
    for key, r in results["pages"].items():
        page = next(p for p in P.PAGES if p.key == key)
        if page.kind == "reference":
            continue  # a yardstick for the pages, not a page of the product
        exists = r.get("status") in ("ok", "placeholder")
        real = r.get("status") == "ok"  # a placeholder's timings say nothing about the real page
        if page.budget_ms is not None:
            check(
                f"{key}: p95 (ms)",
                r.get("p95_ms"),
                page.budget_ms,
                (r["p95_ms"] <= page.budget_ms) if real and "p95_ms" in r else None,
                r.get("status", ""),
            )
        # The page / database floor ratio is in the pages table, for information: not a budget.
        if page.admin:
            ratio = r.get("admin_ratio")
            accepted = bool(ratio) and page.admin_ratio_cause and ratio <= P.ADMIN_RATIO_ACCEPTED
            check(
                f"{key}: ours / admin changelist (p95)",
                ratio,
                P.ADMIN_RATIO_MAX,
                (ratio <= P.ADMIN_RATIO_MAX or accepted) if ratio else None,
                f"accepted up to {P.ADMIN_RATIO_ACCEPTED}: {page.admin_ratio_cause}"
                if accepted and ratio > P.ADMIN_RATIO_MAX
                else (r.get("admin") or {}).get("status", ""),
            )
        ref_r = ref.get(key, {})
        if exists and ref_r.get("status") in ("ok", "placeholder") and "queries" in ref_r:
            check(
                f"{key}: queries at scale {results['scale']} = at {results['reference']['scale']}",
                f"{r.get('queries')} vs {ref_r['queries']}",
                "equal",
                r.get("queries") == ref_r["queries"],
            )
        else:
            check(f"{key}: query count independent of size", r.get("queries"), "equal", None)
    t = results.get("throughput", {})
    check("throughput: errors", t.get("errors"), 0, (t["errors"] == 0) if t.get("status") == "ok" else None)
    d = results.get("dispatch", {})
    ok = d.get("status") == "ok"
    check(
        "dispatch: seconds",
        d.get("seconds"),
        P.DISPATCH_SECONDS_MAX,
        (d["seconds"] is not None and d["seconds"] <= P.DISPATCH_SECONDS_MAX) if ok else None,
        d.get("status", ""),
    )
    check("dispatch: duplicates", d.get("duplicates"), 0, (d["duplicates"] == 0) if ok else None)
    check("dispatch: misses", d.get("misses"), 0, (d["misses"] == 0) if ok else None)
    i = results.get("import", {})
    ok = i.get("status") == "ok"
    check(
        "import: seconds",
        i.get("seconds"),
        P.IMPORT_SECONDS_MAX,
        (i["seconds"] <= P.IMPORT_SECONDS_MAX) if ok else None,
        i.get("status", ""),
    )
    check(
        "import: peak memory (MB)",
        i.get("peak_rss_mb"),
        P.IMPORT_MEMORY_MB_MAX,
        (i["peak_rss_mb"] <= P.IMPORT_MEMORY_MB_MAX) if ok else None,
    )
    return checks


# --- report ----------------------------------------------------------------------------------------


def _fmt(value, suffix: str = "") -> str:
    if value is None or value == "":
        return "–"
    return f"{value}{suffix}"


def _without_templates(r: dict) -> float | None:
    """The page / floor ratio the page would have if its templates took no time at all: a lower
    bound of what any template engine could reach (queries a template runs count as its time)."""
    if not (r.get("floor_p50_ms") and r.get("untemplated_p50_ms")):
        return None
    return round(r["untemplated_p50_ms"] / r["floor_p50_ms"], 2)


def reference_section(pages: dict) -> list[str]:
    """What every page costs before it does anything of its own (the reference pages of
    bench/urls.py), next to the floor ratios of the table above: for information, not a budget."""
    layout = pages.get("reference_layout") or {}
    empty = pages.get("reference_empty") or {}
    if not (layout.get("p50_ms") and layout.get("floor_p50_ms")):
        return []
    fixed = layout["p50_ms"] - layout["floor_p50_ms"]  # Python every page spends before its own work
    return [
        "",
        "## The floor ratio (information)",
        "",
        "The ×floor column is each page's p50 over the p50 of replaying its own queries (the database floor). "
        "It is reported, not budgeted: a page that does nothing of its own is already several times its floor.",
        "",
        f"- An empty signed-in page (session, user and team, the whole middleware stack, a one-line text body): "
        f"p50 {_fmt(empty.get('p50_ms'))} ms, floor {_fmt(empty.get('floor_p50_ms'))} ms, "
        f"**{_fmt(empty.get('floor_ratio'))}×** its floor.",
        f"- The same page in the site layout (base.html, no content): p50 {_fmt(layout['p50_ms'])} ms, floor "
        f"{_fmt(layout['floor_p50_ms'])} ms, **{_fmt(layout.get('floor_ratio'))}×**: every page spends "
        f"{fixed:.2f} ms outside the database before it does anything of its own.",
    ]


def write_report(results: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    m = results["machine"]
    load = results.get("load") or {}
    lines = [
        "# Liaison CRM benchmark results",
        "",
        f"Generated by `make bench` (`python -m bench.run`) on {m['date']}.",
        "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; PostgreSQL {m['postgresql']}; "
        f"Python {m['python']}",
        f"- Scale {results['scale']}"
        + (f": loaded in {load.get('seconds')} s" if load.get("seconds") is not None else " (data already loaded)")
        + (
            f" ({load.get('physicians'):,} physicians, {load.get('interactions'):,} interactions, "
            f"{load.get('cases'):,} cases, {load.get('follow_ups_due'):,} due follow-ups)"
            if load.get("physicians")
            else ""
        ),
        f"- {results['settings']['repeat']} timed requests per page after {results['settings']['warmup']} warm-ups, "
        "Django test Client in-process (server time); dashboards with the cache cleared before each request.",
        "",
        "## Pages",
        "",
        "| page | user | status | p50 ms | p95 ms | max ms | queries | rows read | floor ms | ×floor | templates ms "
        "| ×floor without templates | admin p95 ms | ours/admin |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results["pages"].items():
        admin = r.get("admin") or {}
        admin_cell = _fmt(admin.get("p95_ms")) if admin.get("status") == "ok" else (admin.get("status") or "–")
        lines.append(
            f"| {key} | {r['user']} | {r.get('status')} | {_fmt(r.get('p50_ms'))} | {_fmt(r.get('p95_ms'))} | "
            f"{_fmt(r.get('max_ms'))} | {_fmt(r.get('queries'))} | {_fmt(r.get('rows_read'))} | "
            f"{_fmt(r.get('floor_p50_ms'))} | {_fmt(r.get('floor_ratio'))} | {_fmt(r.get('template_p50_ms'))} | "
            f"{_fmt(_without_templates(r))} | {admin_cell} | {_fmt(r.get('admin_ratio'))} |"
        )
    lines += reference_section(results["pages"])
    t = results.get("throughput", {})
    d = results.get("dispatch", {})
    i = results.get("import", {})
    lines += ["", "## Throughput, dispatch, import", ""]
    if t.get("status") == "ok":
        lines.append(
            f"- Throughput (gunicorn 2 workers, {t['tool']}, {t['connections']} connections, {t['seconds']} s, "
            f"{t['pages']} pages round-robin): **{t['rps']} requests/s**, p50 {t['p50_ms']} ms, p95 {t['p95_ms']} ms, "
            f"max {t['max_ms']} ms, errors {t['errors']} {t.get('error_detail') or ''}"
        )
        lines.append(
            f"- Peak resident memory of a web worker after the run: {_fmt(t.get('worker_peak_rss_mb'), ' MB')}"
        )
    else:
        lines.append(f"- Throughput: {t.get('status', 'not run')} {t.get('error', '')}")
    if d.get("status") == "ok" or d.get("seconds") is not None:
        lines.append(
            f"- Reminder dispatch: {d['due']:,} due, {d['workers']} processes racing: {d['seconds']} s, "
            f"sent {d['sent']:,} {d['per_worker']}, duplicates {d['duplicates']}, misses {d['misses']}"
            + (f", errors {d['errors']}" if d.get("errors") else "")
        )
    else:
        lines.append(f"- Reminder dispatch: {d.get('status', 'not run')} {d.get('error', '')}")
    if i.get("status") == "ok":
        lines.append(
            f"- Physician import ({i['rows']:,} rows, `{i['service']}`): {i['seconds']} s, peak memory "
            f"{i['peak_rss_mb']} MB (process baseline {i['baseline_rss_mb']} MB)"
        )
    else:
        lines.append(f"- Physician import: {i.get('status', 'not run')} {i.get('error', '')}")
    for key, r in results["pages"].items():
        if r.get("kind") == "export" and r.get("status") == "ok":
            lines.append(
                f"- Export `{key}` ({r['url']}): {max(0, r.get('lines', 1) - 1):,} rows streamed, p50 {r['p50_ms']} ms"
            )
    ref = results.get("reference", {})
    lines += ["", "## Budgets", "", f"Query counts compared with a reference run at scale {ref.get('scale')}.", ""]
    lines += ["| budget | value | limit | result |", "|---|---|---|---|"]
    for c in results["budgets"]:
        shown = c.get("note") and (
            c["result"] != "pass" or "not applied" in c["note"] or c["note"].startswith("accepted")
        )
        note = f" ({c['note']})" if shown else ""
        lines.append(f"| {c['budget']} | {_fmt(c['value'])} | {c['limit']} | **{c['result']}**{note} |")
    summary = {k: sum(1 for c in results["budgets"] if c["result"] == k) for k in ("pass", "fail", "missing")}
    lines += ["", f"Pass {summary['pass']}, fail {summary['fail']}, missing {summary['missing']}.", ""]
    # Keep the hand-written "before and after" history across runs.
    previous = out_dir / "results.md"
    if previous.exists():
        text = previous.read_text()
        marker = "## Before and after"
        if marker in text:
            lines += [text[text.index(marker) :].rstrip(), ""]
    if not any(line.startswith("## Before and after") for line in lines):
        lines += ["## Before and after", "", "Fixes made for failed budgets, with figures before and after.", ""]
    (out_dir / "results.md").write_text("\n".join(lines))


# --- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=float(os.environ.get("SCALE", "1.0")))
    parser.add_argument("--db-url", default=None, help=f"bench database (default {env.DEFAULT_DB_URL})")
    parser.add_argument("--skip-load", action="store_true", help="measure the database as it is")
    parser.add_argument(
        "--reference-scale", type=float, default=0.002, help="tiny scale whose query counts must match (0: skip)"
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--duration", type=int, default=30, help="throughput run, seconds")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-wrk", action="store_true", help="use the Python load generator")
    parser.add_argument("--dispatch-workers", type=int, default=4)
    parser.add_argument("--skip", default="", help="comma-separated: throughput,dispatch,import")
    parser.add_argument("--only", default="", help="comma-separated page keys")
    parser.add_argument("--out", default=str(BENCH_DIR), help="directory for results.json and results.md")
    parser.add_argument("--counts-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = args.db_url or env.db_url()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None

    from bench.load import Progress, load

    log = Progress()
    if args.counts_only:
        load(scale=args.scale, url=url, log=log)
        from bench.measure import anchors, measure_pages

        pages = measure_pages(anchors(), counts_only=True, only=only)
        Path(args.json).write_text(
            json.dumps({k: {"status": v["status"], "queries": v.get("queries")} for k, v in pages.items()})
        )
        return 0

    reference = {"scale": None, "pages": {}}
    if args.reference_scale > 0:
        log(f"reference run at scale {args.reference_scale} (query counts)")
        reference = reference_counts(url, args.reference_scale)
    summary = None
    if args.skip_load:
        env.configure(url)
    else:
        log(f"loading scale {args.scale}")
        summary = load(scale=args.scale, url=url, log=Progress())
    from bench.measure import anchors, measure_pages
    from bench.throughput import measure_throughput

    anchor = anchors()
    log(f"anchors: {anchor}")
    log("pages")
    pages = measure_pages(anchor, warmup=args.warmup, repeat=args.repeat, only=only)
    results: dict = {
        "scale": args.scale,
        "machine": machine(),
        "load": summary,
        "settings": {"warmup": args.warmup, "repeat": args.repeat},
        "anchors": anchor,
        "reference": reference,
        "pages": pages,
    }
    if "throughput" not in skip:
        from bench.pages import PAGES

        mix = [
            (pages[p.key]["url"], p.user)
            for p in PAGES
            if p.in_mix and pages.get(p.key, {}).get("status") in ("ok", "placeholder")
        ]
        log(f"throughput: {len(mix)} pages in the mix, {args.duration} s")
        try:
            results["throughput"] = measure_throughput(
                url, mix, duration=args.duration, connections=args.connections, use_wrk=not args.no_wrk
            )
        except Exception as exc:
            results["throughput"] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
        log(f"throughput: {results['throughput']}")
    if "dispatch" not in skip:
        log("reminder dispatch")
        results["dispatch"] = measure_dispatch(url, args.dispatch_workers, deadline=300)
        log(f"dispatch: {results['dispatch']}")
    if "import" not in skip:
        log("physician import")
        results["import"] = measure_import(url, args.scale)
        log(f"import: {results['import']}")
    results["budgets"] = evaluate_budgets(results)
    write_report(results, Path(args.out))
    failed = [c["budget"] for c in results["budgets"] if c["result"] == "fail"]
    missing = [c["budget"] for c in results["budgets"] if c["result"] == "missing"]
    log(f"results in {args.out}/results.md: {len(failed)} budgets failed, {len(missing)} missing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
