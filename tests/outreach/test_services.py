"""Guards of the follow-up services and the demo data."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from outreach import services
from outreach.models import FollowUp, OutreachEvent
from tests.factories import CaseFactory, FollowUpFactory, MedicalInquiryFactory, PhysicianFactory

pytestmark = pytest.mark.django_db


def test_create_follow_up_keeps_the_owners_team_and_at_most_one_concern(msl):
    fu = services.create_follow_up(owner=msl, title="Call", due_at=timezone.now(), physician=PhysicianFactory())
    assert fu.team == msl.team
    with pytest.raises(ValidationError, match="at most one"):
        services.create_follow_up(
            owner=msl,
            title="x",
            due_at=timezone.now(),
            physician=PhysicianFactory(),
            inquiry=MedicalInquiryFactory(owner=msl),
        )


def test_an_msl_cannot_own_a_case_follow_up_nor_a_nurse_an_inquiry_follow_up(msl, nurse):
    with pytest.raises(ValidationError, match="patient information"):
        services.create_follow_up(owner=msl, title="x", due_at=timezone.now(), case=CaseFactory(assigned_liaison=nurse))
    with pytest.raises(ValidationError, match="medical affairs"):
        services.create_follow_up(
            owner=nurse, title="x", due_at=timezone.now(), inquiry=MedicalInquiryFactory(owner=msl)
        )
    assert not FollowUp.objects.exists()


def test_completing_twice_is_harmless_and_a_cancelled_one_cannot_be_completed(msl):
    fu = FollowUpFactory(owner=msl)
    first = services.complete_follow_up(follow_up=fu, by=msl)
    again = services.complete_follow_up(follow_up=fu, by=msl)
    assert first.completed_at == again.completed_at
    cancelled = FollowUpFactory(owner=msl, status="cancelled")
    with pytest.raises(ValidationError, match="Only an open follow-up"):
        services.complete_follow_up(follow_up=cancelled, by=msl)


def test_snooze_must_be_in_the_future(msl):
    fu = FollowUpFactory(owner=msl)
    with pytest.raises(ValidationError, match="future"):
        services.snooze_follow_up(follow_up=fu, until=timezone.now() - dt.timedelta(minutes=1), by=msl)


def test_who_may_assign_to_whom(msl, msl_teammate, other_msl, nurse, manager, other_manager, admin_user):
    assert set(services.assignable_users(msl)) == {msl, msl_teammate}
    assert set(services.assignable_users(manager)) == {msl, msl_teammate, nurse, manager}
    assert other_msl not in set(services.assignable_users(manager))
    assert {msl, other_msl, nurse} <= set(services.assignable_users(admin_user))
    fu = FollowUpFactory(owner=msl)
    with pytest.raises(ValidationError, match="cannot change"):
        services.reassign_follow_up(follow_up=fu, to=other_msl, by=other_manager)  # not their team's
    fu.refresh_from_db()
    assert fu.owner == msl


def test_titles_of_case_follow_ups_are_hidden_from_non_phi_viewers_and_outside_channels(nurse, msl, manager):
    fu = services.create_follow_up(
        owner=nurse, title="Call Mrs Zimmer", due_at=timezone.now(), case=CaseFactory(assigned_liaison=nurse)
    )
    assert services.safe_title(fu, manager) == "Call Mrs Zimmer"
    assert "Zimmer" not in services.safe_title(fu, msl)
    assert "Zimmer" not in services.safe_title(fu)


def test_seed_demo_gives_every_demo_user_each_kind_of_follow_up_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    counts = (FollowUp.objects.count(), OutreachEvent.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (FollowUp.objects.count(), OutreachEvent.objects.count()) == counts
    now = timezone.now()
    for username in ("msl", "msl2", "nurse", "nurse2", "manager", "admin"):
        mine = FollowUp.objects.filter(owner__username=username)
        assert mine.filter(status="open", due_at__lt=now - dt.timedelta(days=1)).exists(), username
        assert mine.filter(status="open", due_at__lte=now, reminded_at__isnull=True).exists(), username
        assert mine.filter(status="open", due_at__gt=now, due_at__lte=now + dt.timedelta(days=1)).exists()
        assert mine.filter(status="open", due_at__gt=now + dt.timedelta(days=7)).exists(), username
        assert mine.filter(status="done").exists(), username
    for username in ("msl", "msl2", "nurse", "nurse2"):
        assert OutreachEvent.objects.filter(organiser__username=username).exists()
    # No case follow-up ever belongs to someone who may not see PHI.
    for fu in FollowUp.objects.filter(case__isnull=False).select_related("owner"):
        assert fu.owner.sees_phi


def test_seed_demo_scale_multiplies_follow_ups():
    from outreach import demo

    call_command("seed_demo", stdout=io.StringIO())
    # Measure the outreach demo alone: the other apps' demos add follow-ups of their own.
    FollowUp.objects.all().delete()
    OutreachEvent.objects.all().delete()
    demo.seed(scale=1, stdout=io.StringIO())
    base = FollowUp.objects.filter(owner__username="msl").count()
    assert base > 0
    FollowUp.objects.all().delete()
    OutreachEvent.objects.all().delete()
    demo.seed(scale=3, stdout=io.StringIO())
    assert FollowUp.objects.filter(owner__username="msl").count() == 3 * base
    assert User.objects.filter(username="msl").exists()
