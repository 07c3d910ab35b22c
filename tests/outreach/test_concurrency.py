"""Four processes dispatch reminders at once: each due follow-up is reminded exactly once."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections import Counter

import pytest
from django.utils import timezone

from outreach.models import EmailOutbox, FollowUp, Notification

from .services_env import PYTHON, ROOT, require_postgres, subprocess_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCRIPT = "from outreach.services import dispatch_due_reminders; print('SENT', dispatch_due_reminders(batch_size=50))"


def test_four_racing_processes_remind_2000_follow_ups_exactly_once(tmp_path, msl, nurse):
    require_postgres(
        "The test database is SQLite in memory, which other processes cannot open; "
        "run with DATABASE_URL=postgres://... to race real processes."
    )
    due = timezone.now() - dt.timedelta(minutes=5)
    FollowUp.objects.bulk_create(
        FollowUp(
            owner=msl if i % 2 else nurse, team_id=(msl if i % 2 else nurse).team_id, title=f"Task {i}", due_at=due
        )
        for i in range(2000)
    )
    env = subprocess_env(tmp_path)
    procs = [
        subprocess.Popen(
            [PYTHON, "manage.py", "shell", "-c", SCRIPT],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    sent = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        sent.append(int(out.split("SENT")[-1].strip()))

    assert sum(sent) == 2000
    assert Notification.objects.count() == 2000
    assert Notification.objects.values("follow_up_id").distinct().count() == 2000
    assert not FollowUp.objects.filter(reminded_at__isnull=True).exists()
    # Every follow-up is in exactly one (grouped) email, and every email went out.
    bodies = list(EmailOutbox.objects.values_list("body_text", flat=True))
    mentions = Counter(
        line.split(" (due")[0] for body in bodies for line in body.splitlines() if line.startswith("- Task ")
    )
    assert len(mentions) == 2000 and set(mentions.values()) == {1}
    assert EmailOutbox.objects.filter(sent_at__isnull=True).count() == 0
