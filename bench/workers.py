"""Child processes of the harness; each prints one JSON line starting with BENCH_JSON.

python -m bench.workers dispatch --start-at EPOCH --deadline SECONDS
python -m bench.workers import CSV_PATH
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from bench import env


def _vm_kb(field: str) -> int:
    """VmHWM (peak) or VmRSS of this process. Not ru_maxrss: Linux carries that across exec from
    the parent, so a child of a big harness process would report the harness's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _emit(payload: dict) -> None:
    print("BENCH_JSON " + json.dumps(payload), flush=True)


def dispatch(start_at: float, deadline: float) -> None:
    """Call dispatch_due_reminders() until it finds nothing left (bounded by `deadline` seconds)."""
    env.configure()
    from bench.pages import Missing, find_dispatch

    try:
        func = find_dispatch()
    except Missing as exc:
        _emit({"status": "missing", "error": str(exc)})
        return
    from django.db import connection
    from django.utils import timezone

    from outreach.models import FollowUp

    due_before = timezone.now()
    connection.ensure_connection()  # connect before the start line, as a running worker would be
    while time.time() < start_at:
        time.sleep(0.005)
    started = time.time()
    sent = calls = 0
    error = None
    try:
        while time.time() - started < deadline:
            n = func()
            calls += 1
            n = int(n or 0)
            sent += n
            if n == 0:
                # Others may hold the remaining rows: stop only when nothing due is left unreminded.
                if not FollowUp.objects.due_unreminded(due_before).exists():
                    break
                time.sleep(0.05)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    _emit(
        {
            "status": "error" if error else "ok",
            "error": error,
            "sent": sent,
            "calls": calls,
            "started": started,
            "ended": time.time(),
        }
    )


def import_physicians(csv_path: str) -> None:
    env.configure()

    from django.contrib.auth import get_user_model

    from bench.pages import Missing, run_physician_import

    user = get_user_model().objects.get(username="admin")
    baseline_kb = _vm_kb("VmRSS")
    started = time.perf_counter()
    try:
        outcome = run_physician_import(Path(csv_path), user)
    except Missing as exc:
        _emit({"status": "missing", "error": str(exc)})
        return
    except Exception as exc:
        _emit({"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]})
        return
    seconds = time.perf_counter() - started
    peak_kb = _vm_kb("VmHWM")
    _emit(
        {
            "status": "ok",
            "seconds": round(seconds, 2),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "baseline_rss_mb": round(baseline_kb / 1024, 1),
            "outcome": repr(outcome)[:300],
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dispatch")
    d.add_argument("--start-at", type=float, required=True)
    d.add_argument("--deadline", type=float, default=300.0)
    i = sub.add_parser("import")
    i.add_argument("csv_path")
    args = parser.parse_args(argv)
    if args.cmd == "dispatch":
        dispatch(args.start_at, args.deadline)
    else:
        import_physicians(args.csv_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
