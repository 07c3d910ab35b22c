"""A real Celery worker, through the Redis broker, sends a due reminder: notification and email."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest
from django.utils import timezone

from liaison_crm.celery import app as celery_app
from outreach import tasks
from outreach.models import FollowUp, Notification

from .services_env import CELERY, ROOT, require_postgres, require_redis, subprocess_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def test_a_worker_started_from_the_broker_reminds_a_due_follow_up(tmp_path, msl):
    redis_url = require_redis()
    require_postgres("The worker needs a database it can share with the test: set DATABASE_URL=postgres://...")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    fu = FollowUp.objects.create(
        owner=msl, team=msl.team, title="Send the trial data", due_at=timezone.now() - dt.timedelta(minutes=1)
    )
    # Four slashes: django-environ drops one, and the path must stay absolute.
    env = subprocess_env(tmp_path, REDIS_URL=redis_url, EMAIL_URL=f"filemail:///{mail_dir}")
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()  # messages left by an earlier run must not confuse this one
    worker = subprocess.Popen(
        [
            CELERY,
            "-A",
            "liaison_crm.celery:app",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        tasks.dispatch_due_reminders.delay()
        notification = wait_for(lambda: Notification.objects.filter(follow_up=fu).first())
        files = wait_for(lambda: [p for p in mail_dir.iterdir() if p.stat().st_size > 0])
        assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    output = worker.stdout.read() if worker.stdout else ""
    assert notification is not None, f"no notification arrived within 30 s; worker said:\n{output}"
    assert notification.user == msl and notification.kind == "reminder"
    assert files, "no email arrived within 30 s"
    content = files[0].read_text()
    assert f"To: {msl.email}" in content and "Send the trial data" in content
    fu.refresh_from_db()
    assert fu.reminded_at is not None
