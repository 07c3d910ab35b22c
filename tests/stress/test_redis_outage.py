"""Redis (broker and cache) stopped while gunicorn and a Celery worker run.

Pages keep serving, follow-ups can still be created through the real form, /healthz names the
broker as down; follow-ups fall due during the outage; when Redis is back the same worker
reconnects and every one of them is reminded exactly once (one notification, one email line).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from collections import Counter

from .conftest import (
    db_rows,
    db_value,
    flush_redis_db,
    mail_entries,
    record,
    send_task,
    server_problems,
    start_redis,
    start_worker,
    stop_process_group,
    stop_redis,
    wait_for,
)
from .http import Session

DISPATCH = "outreach.tasks.dispatch_due_reminders"
BACKLOG_SQL = "SELECT count(*) FROM outreach_followup WHERE status = 'open' AND due_at <= now() AND reminded_at IS NULL"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _quick_add(session: Session, title: str, due_at: dt.datetime) -> int:
    session.get("/outreach/follow-ups/")
    response = session.post("/outreach/follow-ups/add/", {"title": title, "due_at": _iso(due_at), "notes": ""})
    return response.status


def test_redis_outage_pages_serve_and_reminders_due_meanwhile_are_sent_once(server, tmp_path):
    run = secrets.token_hex(3)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    flush_redis_db()  # no message of an earlier run may reach this worker
    worker_log = tmp_path / "worker.log"
    worker = start_worker(worker_log, concurrency=1, EMAIL_URL=f"filemail:///{mail_dir}")
    try:
        assert wait_for(lambda: " ready." in worker_log.read_text(), timeout=60), worker_log.read_text()
        # The demo data's own due follow-ups first, so the figures below are only the outage's.
        send_task(DISPATCH)
        assert wait_for(lambda: db_value(BACKLOG_SQL) == 0, timeout=120), worker_log.read_text()[-3000:]

        msl, nurse = Session(server.url, timeout=20), Session(server.url, timeout=20)
        msl.login("msl")
        nurse.login("nurse")
        worklist = nurse.get("/patients/")
        case_id = re.search(r"/patients/cases/(\d+)/", worklist.body).group(1)

        statuses: Counter = Counter()
        titles: list[str] = []
        started = time.monotonic()
        try:
            stop_redis()
            down_at = dt.datetime.now(dt.UTC)
            health = msl.get("/healthz")
            checks = [
                msl.get("/physicians/"),
                msl.get("/outreach/follow-ups/"),
                nurse.get(f"/patients/cases/{case_id}/"),
                nurse.get("/patients/"),
            ]
            statuses.update(r.status for r in checks)
            # Due before the outage (never reminded) and due a few seconds into it.
            for i in range(3):
                for who, session in (("msl", msl), ("nurse", nurse)):
                    title = f"Outage {run} {who} past {i}"
                    statuses[_quick_add(session, title, down_at - dt.timedelta(minutes=5))] += 1
                    titles.append(title)
                    title = f"Outage {run} {who} soon {i}"
                    statuses[_quick_add(session, title, down_at + dt.timedelta(seconds=3))] += 1
                    titles.append(title)
            created_during_outage = db_value(
                "SELECT count(*) FROM outreach_followup WHERE title LIKE %s", (f"Outage {run} %",)
            )
            time.sleep(max(0.0, 4 - (time.monotonic() - started)))  # let the 'soon' ones fall due
            health_body = msl.get("/healthz").body
        finally:
            start_redis()
        outage = time.monotonic() - started

        assert health.status == 503, health.body
        assert json.loads(health.body)["broker"].startswith("error"), health.body
        assert json.loads(health.body)["database"] == "ok", health.body
        assert "error" in json.loads(health_body)["broker"]
        assert all(r.status == 200 for r in checks), [(r.url, r.status) for r in checks]
        assert set(statuses) == {200, 302}, statuses  # pages 200, each quick-add a redirect
        assert created_during_outage == len(titles) == 12

        # The worker that lived through the outage reconnects and takes the next dispatch.
        assert wait_for(lambda: msl.get("/healthz").status == 200, timeout=30)
        sent_at = time.monotonic()
        send_task(DISPATCH)

        def all_sent() -> bool:
            reminded = db_value(
                "SELECT count(*) FROM outreach_followup WHERE title LIKE %s AND reminded_at IS NOT NULL",
                (f"Outage {run} %",),
            )
            unsent = db_value("SELECT count(*) FROM outreach_emailoutbox WHERE sent_at IS NULL")
            return reminded == len(titles) and unsent == 0

        assert wait_for(all_sent, timeout=90), worker_log.read_text()[-4000:]
        recovery = time.monotonic() - sent_at
        time.sleep(2)  # a duplicate, if any, would have time to appear
        assert worker.poll() is None, "the worker died with the broker"
    finally:
        stop_process_group(worker)
        start_redis()

    notifications = dict(
        db_rows(
            "SELECT f.title, count(n.id) FROM outreach_followup f LEFT JOIN outreach_notification n "
            "ON n.follow_up_id = f.id AND n.kind = 'reminder' WHERE f.title LIKE %s GROUP BY f.title",
            (f"Outage {run} %",),
        )
    )
    emails = Counter(e for e in mail_entries(mail_dir) if e.startswith(f"Outage {run} "))
    assert notifications == dict.fromkeys(titles, 1), notifications
    assert emails == dict.fromkeys(titles, 1), emails
    assert not server_problems(server), server_problems(server)
    record(
        "Redis stopped while gunicorn and a Celery worker run",
        outage_seconds=f"{outage:.1f}",
        pages_during_outage=f"{sum(1 for r in checks if r.status == 200)}/{len(checks)} served 200",
        healthz_during_outage=f"{health.status} ({json.loads(health.body)['broker'][:60]}...)",
        follow_ups_created_through_the_form_during_outage=len(titles),
        reminders_expected=len(titles),
        reminders_sent=sum(notifications.values()),
        reminders_duplicated=sum(v - 1 for v in notifications.values() if v > 1),
        email_lines_sent=sum(emails.values()),
        email_lines_duplicated=sum(v - 1 for v in emails.values() if v > 1),
        seconds_from_dispatch_to_all_sent=f"{recovery:.1f}",
    )
