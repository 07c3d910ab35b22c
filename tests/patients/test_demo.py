from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from outreach.models import FollowUp
from patients.choices import ConsentStatus, Stage
from patients.models import Case, Communication, Consent, Evaluation, Patient


@pytest.mark.django_db
def test_seed_demo_creates_cases_in_every_stage_per_team_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    assert 140 <= Patient.objects.count() <= 170
    for team in ("Clinical Liaison North", "Clinical Liaison South"):
        stages = set(Case.objects.filter(team__name=team).values_list("stage", flat=True))
        assert stages == set(Stage.values)
    assert set(Consent.objects.values_list("status", flat=True)) == set(ConsentStatus.values)
    discharged = Case.objects.filter(stage=Stage.DISCHARGED)
    assert all(c.discharged_at > c.admitted_at for c in discharged)
    first = discharged.order_by("discharged_at").first().discharged_at
    last = discharged.order_by("-discharged_at").first().discharged_at
    assert (last - first).days > 200  # about a year of discharges
    for username in ("nurse", "nurse_north2", "nurse2", "nurse_south2"):
        assert Case.objects.filter(assigned_liaison__username=username).exists()
    assert Case.objects.filter(referral_physician__isnull=False).exists()
    due_now = FollowUp.objects.due_unreminded().filter(case__isnull=False)
    # The outreach demo (run last) may add more; the two contract nurses must have their own.
    assert {f.owner.username for f in due_now} >= {"nurse", "nurse2"}
    now = timezone.now()
    assert not Case.objects.filter(Q(stage_changed_at__gt=now) | Q(referral_received_at__gt=now)).exists()
    assert not Consent.objects.filter(Q(signed_at__gt=now) | Q(withdrawn_at__gt=now) | Q(explained_at__gt=now)).exists()
    assert not Evaluation.objects.filter(records_reviewed_at__gt=now).exists()
    assert not Communication.objects.filter(occurred_at__gt=now).exists()
    for case in Case.objects.filter(stage=Stage.DISCHARGED)[:20]:
        stamps = [case.referral_received_at, case.evaluation_started_at, case.evaluated_at, case.accepted_at]
        stamps += [case.admitted_at, case.discharged_at]
        assert stamps == sorted(stamps)
    counts = (Patient.objects.count(), Case.objects.count(), FollowUp.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Patient.objects.count(), Case.objects.count(), FollowUp.objects.count()) == counts


@pytest.mark.django_db
def test_seed_demo_scale_multiplies_patients():
    call_command("seed_demo", "--scale", "2", stdout=io.StringIO())
    assert Patient.objects.count() == 300
