from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from outreach.models import FollowUp
from physicians import demo
from physicians.choices import InquiryStatus, InsightStatus
from physicians.models import (
    ClinicalTrial,
    Insight,
    Institution,
    Interaction,
    MedicalInquiry,
    Physician,
    Product,
    TrainingAttendee,
    TrainingSession,
    TrialSite,
)
from physicians.npi import is_valid_npi

pytestmark = pytest.mark.django_db

MODELS = (Institution, Physician, Product, Interaction, Insight, MedicalInquiry, TrainingSession, TrialSite, FollowUp)


def test_seed_demo_builds_the_medical_affairs_side_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    counts = {m: m.objects.count() for m in MODELS}
    call_command("seed_demo", stdout=io.StringIO())
    assert {m: m.objects.count() for m in MODELS} == counts

    assert Institution.objects.count() == 40
    assert Physician.objects.count() == 300
    assert all(is_valid_npi(n) for n in Physician.objects.values_list("npi", flat=True))
    assert set(Physician.objects.values_list("kol_tier", flat=True)) == {0, 1, 2, 3}
    assert Product.objects.count() == 8
    year_ago = timezone.now() - timezone.timedelta(days=360)
    for name in demo.MSLS:
        msl = User.objects.get(username=name)
        visits = Interaction.objects.filter(msl=msl)
        assert (
            visits.filter(occurred_at__lt=year_ago).exists()
            and visits.filter(occurred_at__gt=timezone.now() - timezone.timedelta(days=7)).exists()
        ), name
        assert visits.exclude(team=msl.team).count() == 0
    assert set(Insight.objects.values_list("status", flat=True)) == set(InsightStatus.values)
    assert MedicalInquiry.objects.overdue().exists()
    assert MedicalInquiry.objects.filter(status=InquiryStatus.OPEN, due_at__gt=timezone.now()).exists()
    assert TrainingAttendee.objects.exists() and TrainingSession.objects.count() >= 4
    assert ClinicalTrial.objects.count() == 2 and TrialSite.objects.count() >= 2
    # last contact is kept in step with the visits
    p = Physician.objects.filter(interactions__isnull=False).first()
    assert p.last_interaction_at == p.interactions.order_by("-occurred_at").first().occurred_at
    for name in ("msl", "msl2"):
        assert FollowUp.objects.due_unreminded().filter(owner__username=name, physician__isnull=False).exists()
        assert FollowUp.objects.filter(owner__username=name, inquiry__isnull=False).exists()
    # the demo never logs a visit on a withdrawn channel
    assert not Interaction.objects.filter(
        channel="email", physician__consents__channel="email", physician__consents__status="withdrawn"
    ).exists()


def test_scale_multiplies_physicians_and_interactions():
    call_command("seed_demo", "--scale", "2", stdout=io.StringIO())
    assert Physician.objects.count() == 600
    assert Interaction.objects.count() == 2 * 500 * len(demo.MSLS)
