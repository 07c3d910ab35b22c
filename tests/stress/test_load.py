"""Load: 100 simulated users against gunicorn (2 workers) on loopback, mixed reads and writes.

MSLs read physician lists and profiles and log interactions through the real form; clinical
liaisons read the worklist and case pages and log communications; managers read dashboards;
everyone adds follow-ups. Bounded by STRESS_DURATION seconds (default 120) with STRESS_USERS
users (default 100), each thinking ~STRESS_THINK seconds (default 1) between requests.
Asserts zero errors (no 5xx, no 4xx, no connection error) and that every write the server
acknowledged is in the database afterwards; reports p50/p95/p99 latency.

Logging in costs a deliberate ~0.5 s of PBKDF2 per user, so each demo account logs in once
and its simulated users share that session (each with its own cookie jar).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import re
import secrets
import threading
import time
from collections import Counter, defaultdict

from .conftest import db_value, record, server_problems
from .http import Session, form_fields, select_options

DURATION = float(os.environ.get("STRESS_DURATION", "120"))
USERS = int(os.environ.get("STRESS_USERS", "100"))
THINK = float(os.environ.get("STRESS_THINK", "1.0"))
MSLS = ["msl", "msl_east2", "msl2", "msl_west2"]
NURSES = ["nurse", "nurse_north2", "nurse2", "nurse_south2"]
MANAGERS = ["manager"]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.writes: Counter = Counter()

    def add(self, kind: str, seconds: float, status, path: str, ok: bool) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_kind[kind].append(seconds)
            self.statuses[status] += 1
            if not ok and len(self.errors) < 50:
                self.errors.append(f"{kind} {path}: {status}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class User:
    def __init__(self, base: Session, role: str, targets: list[str], run: str, stats: Stats, rng: random.Random):
        self.s = Session(base.base_url, timeout=60)
        for cookie in base.jar:
            self.s.jar.set_cookie(copy.copy(cookie))
        self.role, self.targets, self.run, self.stats, self.rng = role, targets, run, stats, rng

    def call(self, kind: str, method: str, path: str, data: dict | None = None, expect=(200,)):
        started = time.perf_counter()
        try:
            response = self.s.get(path) if method == "GET" else self.s.post(path, data)
        except OSError as exc:
            self.stats.add(kind, time.perf_counter() - started, f"connection error ({type(exc).__name__})", path, False)
            return None
        ok = response.status in expect
        detail = path
        if not ok:  # say why: the form's error messages
            errors = re.findall(
                r'class="[^"]*(?:invalid-feedback|alert-danger)[^"]*"[^>]*>(.*?)</', response.body, re.S
            )
            detail += " " + " | ".join(re.sub(r"<[^>]+>|\s+", " ", e).strip() for e in errors)[:300]
        self.stats.add(kind, time.perf_counter() - started, response.status, detail, ok)
        return response if ok else None

    def write(self, kind: str, path: str, data: dict) -> None:
        if self.call(kind, "POST", path, data, expect=(302,)) is not None:
            with self.stats.lock:
                self.stats.writes[kind] += 1

    # --- actions ---------------------------------------------------------------------------
    def follow_up(self) -> None:
        page = self.call("follow-up list", "GET", "/outreach/follow-ups/")
        if page is None:
            return
        due = dt.datetime.now(dt.UTC) + dt.timedelta(days=self.rng.randint(1, 30))
        title = f"LT{self.run} follow-up {secrets.token_hex(4)}"
        self.write(
            "follow-up add", "/outreach/follow-ups/add/", {"title": title, "due_at": due.strftime("%Y-%m-%dT%H:%M")}
        )

    def msl(self) -> None:
        roll = self.rng.random()
        if roll < 0.3:
            self.call(
                "physician list",
                "GET",
                self.rng.choice(
                    [
                        "/physicians/",
                        "/physicians/?sort=-last_interaction_at",
                        "/physicians/?tier=1",
                        "/physicians/?q=a",
                    ]
                ),
            )
        elif roll < 0.6:
            self.call("physician profile", "GET", f"/physicians/{self.rng.choice(self.targets)}/")
        elif roll < 0.8:
            path = f"/physicians/{self.rng.choice(self.targets)}/log/"
            page = self.call("interaction form", "GET", path)
            if page is not None:
                fields = form_fields(page.body, path)
                fields.update(summary=f"LT{self.run} interaction {secrets.token_hex(4)}", follow_up_days="")
                self.write("interaction log", path, fields)
        elif roll < 0.9:
            self.call("interactions", "GET", "/physicians/interactions/")
        else:
            self.follow_up()

    def nurse(self) -> None:
        roll = self.rng.random()
        if roll < 0.3:
            self.call(
                "worklist", "GET", self.rng.choice(["/patients/", "/patients/?priority=urgent", "/patients/?q=a"])
            )
        elif roll < 0.65:
            self.call("case page", "GET", f"/patients/cases/{self.rng.choice(self.targets)}/")
        elif roll < 0.85:
            case = self.rng.choice(self.targets)
            self.call("case page", "GET", f"/patients/cases/{case}/")
            # The add forms load when their <details> opens; without htmx, the page with it open.
            page = self.call("communication form", "GET", f"/patients/cases/{case}/forms/communication/")
            if page is not None:
                path = f"/patients/cases/{case}/communications/"
                fields = form_fields(page.body, path)
                parties = self.rng.choice(select_options(page.body, "comm-parties"))
                fields.update({"comm-parties": parties, "comm-summary": f"LT{self.run} call {secrets.token_hex(4)}"})
                self.write("communication log", path, fields)
        else:
            self.follow_up()

    def manager(self) -> None:
        roll = self.rng.random()
        if roll < 0.5:
            self.call(
                "dashboard",
                "GET",
                self.rng.choice(
                    [
                        "/reporting/",
                        "/reporting/?range=90d",
                        "/reporting/?range=365d",
                        "/reporting/msl/",
                        "/reporting/clinical/",
                    ]
                ),
            )
        elif roll < 0.7:
            self.call("follow-up list", "GET", "/outreach/follow-ups/?state=overdue")
        elif roll < 0.9:
            self.call("worklist", "GET", "/patients/")
        else:
            self.follow_up()

    def loop(self, deadline: float) -> None:
        action = getattr(self, self.role)
        while time.monotonic() < deadline:
            try:
                action()
            except Exception as exc:  # a page without the expected form is a failure, not a dead thread
                self.stats.add(self.role, 0.0, f"client error ({type(exc).__name__})", str(exc)[:200], False)
            time.sleep(self.rng.uniform(0.5, 1.5) * THINK)


def _ids(body: str, pattern: str) -> list[str]:
    return list(dict.fromkeys(re.findall(pattern, body)))


def test_100_users_mixed_workload_no_errors_and_every_write_kept(server):
    run = secrets.token_hex(3)
    stats = Stats()
    bases: dict[str, tuple[Session, str, list[str]]] = {}
    for name in MSLS + NURSES + MANAGERS:
        session = Session(server.url, timeout=60)
        session.login(name)
        if name in MSLS:
            targets = _ids(session.get("/physicians/?scope=team").body, r"/physicians/(\d+)/")
            bases[name] = (session, "msl", targets)
        elif name in NURSES:
            cases = _ids(session.get("/patients/").body, r"/patients/cases/(\d+)/")
            targets = [c for c in cases[:15] if session.get(f"/patients/cases/{c}/edit/").status == 200]
            bases[name] = (session, "nurse", targets)
        else:
            bases[name] = (session, "manager", [])
        assert bases[name][1] == "manager" or bases[name][2], f"{name} has nothing to work on"

    # 45% MSLs, 40% liaisons, 15% managers, spread over the demo accounts.
    plan = [MSLS] * 9 + [NURSES] * 8 + [MANAGERS] * 3
    users = []
    for i in range(USERS):
        group = plan[i % len(plan)]
        base, role, targets = bases[group[i % len(group)]]
        users.append(User(base, role, targets, run, stats, random.Random(i)))

    started = time.monotonic()
    deadline = started + DURATION
    threads = [threading.Thread(target=u.loop, args=(deadline,), daemon=True) for u in users]
    for t in threads:
        t.start()
        time.sleep(0.01)  # ramp up over a second
    for t in threads:
        t.join(timeout=DURATION + 120)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "some simulated users never finished"

    in_db = {
        "follow-up add": db_value("SELECT count(*) FROM outreach_followup WHERE title LIKE %s", (f"LT{run} %",)),
        "interaction log": db_value(
            "SELECT count(*) FROM physicians_interaction WHERE summary LIKE %s", (f"LT{run} %",)
        ),
        "communication log": db_value(
            "SELECT count(*) FROM patients_communication WHERE summary LIKE %s", (f"LT{run} %",)
        ),
    }
    requests = len(stats.latencies)
    errors = sum(v for k, v in stats.statuses.items() if k not in (200, 302))
    slowest = sorted(((percentile(v, 95), k, len(v)) for k, v in stats.by_kind.items()), reverse=True)
    record(
        f"Load: {USERS} users, {DURATION:.0f} s, gunicorn 2 workers",
        requests=f"{requests} in {elapsed:.0f} s ({requests / elapsed:.1f} req/s)",
        errors=errors,
        statuses=", ".join(f"{k}: {v}" for k, v in sorted(stats.statuses.items(), key=str)),
        latency=f"p50 {percentile(stats.latencies, 50) * 1000:.0f} ms, p95 {percentile(stats.latencies, 95) * 1000:.0f} ms, "
        f"p99 {percentile(stats.latencies, 99) * 1000:.0f} ms, max {max(stats.latencies) * 1000:.0f} ms",
        p95_by_kind="; ".join(f"{k} {p * 1000:.0f} ms (n={n})" for p, k, n in slowest),
        writes_acknowledged_vs_in_database=", ".join(f"{k} {stats.writes[k]}/{in_db[k]}" for k in in_db),
    )
    assert errors == 0, stats.errors
    assert all(stats.writes[k] == in_db[k] for k in in_db), (dict(stats.writes), in_db)
    assert all(stats.writes[k] > 0 for k in in_db), dict(stats.writes)
    assert not server_problems(server), server_problems(server)
