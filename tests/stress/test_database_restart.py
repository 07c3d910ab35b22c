"""PostgreSQL restarted while the app serves: clean 503s during the restart, then recovery."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter

from .conftest import record, server_problems
from .http import Session


def pg_cluster() -> tuple[str, str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return version, "main"


def test_requests_during_a_postgresql_restart_fail_cleanly_and_the_app_recovers(server):
    session = Session(server.url, timeout=15)
    session.login("msl")
    assert session.get("/physicians/").status == 200

    statuses: Counter[int] = Counter()
    tracebacks: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            for path in ("/physicians/", "/healthz"):
                try:
                    response = session.get(path)
                except OSError as exc:
                    statuses["connection error"] += 1
                    tracebacks.append(f"{path}: {type(exc).__name__}: {exc}")
                    continue
                statuses[response.status] += 1
                if "Traceback" in response.body or response.status == 500:
                    tracebacks.append(f"{path}: {response.status}")
            time.sleep(0.05)

    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    time.sleep(1)
    version, cluster = pg_cluster()
    started = time.monotonic()
    try:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "stop", "-m", "fast"], check=True
        )
        time.sleep(3)  # the outage: every request now meets a dead database
    finally:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "start"], check=True)
    outage = time.monotonic() - started
    time.sleep(2)
    stop.set()
    thread.join(timeout=30)

    assert not tracebacks, tracebacks
    assert statuses[503] > 0, f"the outage was never seen: {statuses}"
    assert set(statuses) <= {200, 503}, statuses
    # Recovery by itself: no restart of the app, the same session keeps working.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and session.get("/physicians/").status != 200:
        time.sleep(0.5)
    assert session.get("/physicians/").status == 200
    assert session.get("/healthz").status == 200
    assert not server_problems(server), server_problems(server)
    record(
        "PostgreSQL restarted while requests run",
        outage_seconds=f"{outage:.1f}",
        requests=sum(statuses.values()),
        responses=", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)),
        errors_other_than_503=sum(v for k, v in statuses.items() if k not in (200, 503)),
        recovered_without_restart="yes",
    )
