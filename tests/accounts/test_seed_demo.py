from __future__ import annotations

import io

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command

from accounts.models import Team, User

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_contract_users_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    counts = {model: model.objects.count() for model in (User, Team)}
    call_command("seed_demo", stdout=io.StringIO())
    assert {model: model.objects.count() for model in (User, Team)} == counts

    users = {u.username: u for u in User.objects.select_related("team")}
    for name in ("msl", "msl2", "nurse", "nurse2", "manager", "admin"):
        assert users[name].check_password("demo"), name
    assert users["msl"].team != users["msl2"].team
    assert users["msl"].team.kind == users["msl2"].team.kind == Team.Kind.MEDICAL_AFFAIRS
    assert users["nurse"].team != users["nurse2"].team
    assert users["nurse"].team.kind == users["nurse2"].team.kind == Team.Kind.CLINICAL_LIAISON
    led = set(users["manager"].managed_teams.all())
    assert {users[n].team for n in ("msl", "msl2", "nurse", "nurse2")} <= led
    assert users["admin"].is_superuser and users["admin"].is_staff
    # DESIGN's contract: no demo user is enrolled in a second factor.
    assert not Authenticator.objects.exists()


def test_seed_demo_if_empty_leaves_an_existing_database_alone():
    User.objects.create_user("someone", password="x")
    out = io.StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "left as it is" in out.getvalue()
    assert not User.objects.filter(username="msl").exists()
