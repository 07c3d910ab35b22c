"""A Celery worker killed (SIGKILL, its whole process group) in the middle of a dispatch batch.

Thousands of follow-ups are due; a worker starts reminding them in batches; once some but not
all are stamped, the worker dies without any chance to clean up. A new worker and a new dispatch
finish the job: every due reminder is sent exactly once (one notification per follow-up, one
line per follow-up across the grouped emails), and the email outbox is empty.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections import Counter

from .conftest import (
    db_connect,
    db_rows,
    db_value,
    flush_redis_db,
    mail_entries,
    manage,
    record,
    send_task,
    server_env,
    start_worker,
    stop_process_group,
    wait_for,
)

DISPATCH = "outreach.tasks.dispatch_due_reminders"
N = int(os.environ.get("STRESS_REMINDERS", "3000"))
OWNERS = ["msl", "msl_east2", "msl2", "msl_west2", "nurse", "nurse_north2", "nurse2", "nurse_south2"]

CREATE = """
import datetime as dt
from django.utils import timezone
from accounts.models import User
from outreach.models import FollowUp
from outreach.services import dispatch_due_reminders
dispatch_due_reminders()  # the demo data's own backlog first: the figures are only this test's
users = list(User.objects.filter(username__in={owners!r}).order_by("username"))
due = timezone.now() - dt.timedelta(minutes=5)
FollowUp.objects.bulk_create(
    [FollowUp(owner=users[i % len(users)], team_id=users[i % len(users)].team_id, title=f"Kill {run} #{{i}}", due_at=due)
     for i in range({n})],
    batch_size=1000,
)
"""


def test_a_worker_killed_mid_batch_loses_and_duplicates_no_reminder(stress_database, tmp_path):
    run = secrets.token_hex(3)
    like = (f"Kill {run} #%",)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    flush_redis_db()
    manage("shell", "-c", CREATE.format(owners=OWNERS, run=run, n=N), env=server_env())
    assert db_value("SELECT count(*) FROM outreach_followup WHERE title LIKE %s", like) == N

    first_log = tmp_path / "worker-1.log"
    first = start_worker(first_log, concurrency=2, EMAIL_URL=f"filemail:///{mail_dir}")
    try:
        assert wait_for(lambda: " ready." in first_log.read_text(), timeout=60), first_log.read_text()
        send_task(DISPATCH)
        conn = db_connect()
        reminded = 0
        deadline = time.monotonic() + 120
        with conn.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(
                    "SELECT count(*) FROM outreach_followup WHERE title LIKE %s AND reminded_at IS NOT NULL", like
                )
                reminded = cur.fetchone()[0]
                if reminded:
                    break
                time.sleep(0.01)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        conn.close()
    finally:
        stop_process_group(first, signal.SIGKILL)
    assert 0 < reminded < N, f"{reminded} of {N} stamped when killed: raise STRESS_REMINDERS to kill mid-batch"
    # What the dead worker left: whole batches committed, the one in flight rolled back.
    time.sleep(1)
    at_kill = {
        "reminded": db_value(
            "SELECT count(*) FROM outreach_followup WHERE title LIKE %s AND reminded_at IS NOT NULL", like
        ),
        "notifications": db_value(
            "SELECT count(*) FROM outreach_notification n JOIN outreach_followup f ON f.id = n.follow_up_id "
            "WHERE f.title LIKE %s AND n.kind = 'reminder'",
            like,
        ),
        "emails unsent": db_value("SELECT count(*) FROM outreach_emailoutbox WHERE sent_at IS NULL"),
    }
    assert at_kill["reminded"] == at_kill["notifications"] < N, at_kill

    second_log = tmp_path / "worker-2.log"
    second = start_worker(second_log, concurrency=2, EMAIL_URL=f"filemail:///{mail_dir}")
    try:
        assert wait_for(lambda: " ready." in second_log.read_text(), timeout=60), second_log.read_text()
        restarted = time.monotonic()
        send_task(DISPATCH)

        def done() -> bool:
            reminded = db_value(
                "SELECT count(*) FROM outreach_followup WHERE title LIKE %s AND reminded_at IS NOT NULL", like
            )
            return reminded == N and db_value("SELECT count(*) FROM outreach_emailoutbox WHERE sent_at IS NULL") == 0

        assert wait_for(done, timeout=180), second_log.read_text()[-4000:]
        finished = time.monotonic() - restarted
        time.sleep(2)
    finally:
        stop_process_group(second)

    per_follow_up = Counter(
        dict(
            db_rows(
                "SELECT f.id, count(n.id) FROM outreach_followup f LEFT JOIN outreach_notification n "
                "ON n.follow_up_id = f.id AND n.kind = 'reminder' WHERE f.title LIKE %s GROUP BY f.id",
                like,
            )
        )
    )
    lines = Counter(e for e in mail_entries(mail_dir) if e.startswith(f"Kill {run} #"))
    assert len(per_follow_up) == N and set(per_follow_up.values()) == {1}, Counter(per_follow_up.values())
    assert len(lines) == N and set(lines.values()) == {1}, Counter(lines.values())
    emails = db_value("SELECT count(*) FROM outreach_emailoutbox WHERE body_text LIKE %s", (f"%Kill {run} #%",))
    record(
        "Celery worker SIGKILLed mid dispatch batch",
        due_follow_ups=N,
        stamped_when_killed=f"{reminded} (after the kill: {at_kill['reminded']} committed, "
        f"{at_kill['emails unsent']} emails queued unsent)",
        reminders_expected=N,
        reminders_sent=sum(per_follow_up.values()),
        reminders_duplicated=sum(v - 1 for v in per_follow_up.values() if v > 1),
        grouped_emails=emails,
        email_lines_sent=sum(lines.values()),
        email_lines_duplicated=sum(v - 1 for v in lines.values() if v > 1),
        seconds_for_the_new_worker_to_finish=f"{finished:.1f}",
    )
