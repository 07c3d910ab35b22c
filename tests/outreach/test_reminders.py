"""Reminders, escalations, digests and the email outbox (services called directly)."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from outreach import services, tasks
from outreach.models import DigestLog, EmailOutbox, FollowUp, FollowUpStatus, Notification
from tests.factories import CaseFactory, FollowUpFactory, PatientFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_a_due_follow_up_is_reminded_once_with_a_notification_and_an_email(clock, msl):
    fu = FollowUpFactory(owner=msl, title="Send the trial data", due_at=NOW - dt.timedelta(minutes=5))
    FollowUpFactory(owner=msl, title="Not yet", due_at=NOW + dt.timedelta(hours=1))

    assert tasks.dispatch_due_reminders() == 1
    assert tasks.dispatch_due_reminders() == 0  # a retried or second run sends nothing

    fu.refresh_from_db()
    assert fu.reminded_at == NOW
    notes = list(Notification.objects.filter(user=msl))
    assert [(n.kind, n.title, n.follow_up_id) for n in notes] == [("reminder", "Due: Send the trial data", fu.pk)]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [msl.email]
    assert "Send the trial data" in message.subject and "Send the trial data" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<strong>Send the trial data</strong>" in html
    assert EmailOutbox.objects.get().sent_at == NOW


def test_done_cancelled_and_future_follow_ups_are_not_reminded(clock, msl):
    FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(hours=1), status=FollowUpStatus.CANCELLED)
    FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(hours=1), status=FollowUpStatus.DONE, completed_at=NOW)
    FollowUpFactory(owner=msl, due_at=NOW + dt.timedelta(seconds=1))
    assert services.dispatch_due_reminders() == 0
    assert not Notification.objects.exists() and not mail.outbox


def test_many_due_follow_ups_go_out_in_batches_each_once(clock, msl, nurse):
    for i in range(25):
        FollowUpFactory(owner=msl if i % 2 else nurse, title=f"Task {i:02d}", due_at=NOW - dt.timedelta(minutes=i))
    assert services.dispatch_due_reminders(batch_size=4) == 25
    assert Notification.objects.count() == 25
    assert Notification.objects.values("follow_up").distinct().count() == 25
    # One email per owner per batch; every follow-up is in exactly one email, to its owner.
    for i in range(25):
        owner = msl if i % 2 else nurse
        carrying = [m for m in mail.outbox if f"Task {i:02d} " in m.body]
        assert len(carrying) == 1 and carrying[0].to == [owner.email]
    assert not FollowUp.objects.filter(reminded_at__isnull=True).exists()


def test_a_case_follow_up_email_names_the_case_number_never_the_patient(clock, nurse):
    case = CaseFactory(assigned_liaison=nurse, patient=PatientFactory(first_name="Agatha", last_name="Zimmer"))
    services.create_follow_up(
        owner=nurse, title="Call Agatha Zimmer's daughter", due_at=NOW - dt.timedelta(minutes=1), case=case
    )
    assert services.dispatch_due_reminders() == 1
    message = mail.outbox[0]
    everything = message.subject + message.body + message.alternatives[0][0]
    assert "Zimmer" not in everything and f"Case #{case.pk}" in everything
    # In the application the owner (a liaison) sees the real title.
    assert "Zimmer" in Notification.objects.get(user=nurse).title


def test_a_worker_killed_after_the_claim_commits_loses_nothing(clock, msl):
    """The stamp, the notification and the queued email commit together; the email goes out
    on the next run even though the first process died before sending it."""
    FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(minutes=1))
    with mock.patch.object(services, "flush_outbox", side_effect=SystemExit("killed")), pytest.raises(SystemExit):
        services.dispatch_due_reminders()
    assert Notification.objects.count() == 1 and not mail.outbox
    assert EmailOutbox.objects.filter(sent_at__isnull=True).count() == 1

    assert services.dispatch_due_reminders() == 0  # nothing left to claim...
    assert len(mail.outbox) == 1  # ...but the queued email was sent
    assert Notification.objects.count() == 1


def test_a_worker_killed_before_the_claim_commits_leaves_the_follow_up_for_the_next_run(clock, msl):
    fu = FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(minutes=1))
    with (
        mock.patch.object(Notification.objects, "bulk_create", side_effect=SystemExit("killed")),
        pytest.raises(SystemExit),
    ):
        services.dispatch_due_reminders()
    fu.refresh_from_db()
    assert fu.reminded_at is None and not Notification.objects.exists() and not EmailOutbox.objects.exists()
    assert services.dispatch_due_reminders() == 1
    assert len(mail.outbox) == 1


def test_a_sender_killed_after_claiming_an_email_retries_it_after_the_lease(clock, msl):
    FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(minutes=1))
    services.dispatch_due_reminders(send_email=False)
    row = EmailOutbox.objects.get()
    EmailOutbox.objects.filter(pk=row.pk).update(claimed_at=NOW)  # claimed, then the process died

    assert services.flush_outbox() == 0  # the lease still holds: nobody else sends it
    clock.shift(dt.timedelta(minutes=6))
    assert services.flush_outbox() == 1
    assert len(mail.outbox) == 1
    assert services.flush_outbox() == 0


def test_a_failing_mail_server_keeps_the_email_for_a_later_attempt(clock, msl):
    FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(minutes=1))
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("connection refused")):
        assert services.dispatch_due_reminders() == 1
    row = EmailOutbox.objects.get()
    assert row.sent_at is None and row.attempts == 1 and "connection refused" in row.last_error
    clock.shift(dt.timedelta(minutes=6))
    assert services.flush_outbox() == 1 and len(mail.outbox) == 1


def test_snoozing_a_reminded_follow_up_reminds_again_at_the_new_time(clock, msl):
    fu = FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(minutes=1))
    services.dispatch_due_reminders()
    services.snooze_follow_up(follow_up=fu, until=NOW + dt.timedelta(days=1), by=msl)
    assert services.dispatch_due_reminders() == 0
    clock.shift(dt.timedelta(days=1, seconds=1))
    assert services.dispatch_due_reminders() == 1
    assert Notification.objects.filter(kind="reminder").count() == 2


# --- Escalation -------------------------------------------------------------------------------


def test_escalation_tells_the_owners_managers_once_after_the_grace_period(clock, msl, manager, other_manager):
    fu = FollowUpFactory(owner=msl, title="Send the data", due_at=NOW - dt.timedelta(hours=23))
    assert services.escalate_overdue() == 0
    clock.shift(dt.timedelta(hours=1, seconds=1))
    assert services.escalate_overdue() == 1
    assert services.escalate_overdue() == 0
    fu.refresh_from_db()
    assert fu.escalated_at is not None
    notes = Notification.objects.filter(kind="escalation")
    assert [n.user for n in notes] == [manager]  # not the other team's manager, not the owner
    assert "Send the data" in notes[0].title
    assert [m.to for m in mail.outbox] == [[manager.email]]


def test_escalation_delay_is_configurable(clock, settings, msl, manager):
    settings.FOLLOW_UP_ESCALATE_AFTER_HOURS = 2
    FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(hours=3))
    assert services.escalate_overdue() == 1


def test_a_completed_follow_up_is_not_escalated(clock, msl, manager):
    fu = FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(days=3))
    services.complete_follow_up(follow_up=fu, by=msl)
    assert services.escalate_overdue() == 0
    assert not Notification.objects.exists()


# --- Digest -------------------------------------------------------------------------------------------


def test_daily_digest_lists_overdue_and_today_once_per_user_and_skips_idle_users(settings, msl, nurse, manager):
    settings.DIGEST_HOUR = 7
    with time_machine.travel(dt.datetime(2026, 3, 10, 6, 0, tzinfo=dt.UTC), tick=False) as clock:
        FollowUpFactory(owner=msl, title="Overdue thing", due_at=timezone.now() - dt.timedelta(days=1))
        FollowUpFactory(owner=msl, title="Today thing", due_at=timezone.now() + dt.timedelta(hours=8))
        FollowUpFactory(owner=msl, title="Tomorrow thing", due_at=timezone.now() + dt.timedelta(days=1))
        FollowUpFactory(owner=nurse, title="Next week", due_at=timezone.now() + dt.timedelta(days=7))
        assert services.send_daily_digests() == 0  # before the digest hour
        clock.shift(dt.timedelta(hours=1))
        assert services.send_daily_digests() == 1
        assert services.send_daily_digests() == 0
        clock.shift(dt.timedelta(hours=5))
        assert services.send_daily_digests() == 0  # once a day
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [msl.email]
    assert "1 overdue, 1 due today" in message.subject
    assert "Overdue thing" in message.body and "Today thing" in message.body
    assert "Tomorrow thing" not in message.body
    assert DigestLog.objects.get().user == msl

    with time_machine.travel(dt.datetime(2026, 3, 11, 7, 5, tzinfo=dt.UTC), tick=False):
        assert services.send_daily_digests() == 1  # the next day again


def test_the_tasks_are_thin_wrappers_over_the_services(clock, msl, manager):
    FollowUpFactory(owner=msl, due_at=NOW - dt.timedelta(days=2))
    assert tasks.dispatch_due_reminders.delay().get() == 1
    assert tasks.escalate_overdue.delay().get() == 1
    assert tasks.send_daily_digests.delay().get() == 1
    assert tasks.flush_outbox.delay().get() == 0
    assert isinstance(tasks.run_service_level_rules.delay().get(), dict)
