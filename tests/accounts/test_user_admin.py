"""User administration: invitations with a one-time link, role and team changes, deactivation,
second-factor resets and sessions ended by an administrator or the user's manager."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent, Team, User
from tests.factories import TeamFactory, UserFactory

PASSWORD = "a-long-password-1"


def signed_in(user: User, password: str = PASSWORD) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.username, "password": password}).status_code == 302
    return client


@pytest.fixture
def field_team(db) -> Team:
    return TeamFactory(name="MA North", kind=Team.Kind.MEDICAL_AFFAIRS)


@pytest.fixture
def lead(field_team) -> User:
    manager = UserFactory(username="lead", role=User.Role.MANAGER, team=None)
    manager.managed_teams.add(field_team)
    return manager


@pytest.fixture
def member(field_team) -> User:
    user = UserFactory(username="sam", role=User.Role.MSL, team=field_team, email="sam@example.org")
    user.set_password(PASSWORD)
    user.save()
    return user


def invite(client: Client, team: Team, **extra):
    data = {
        "first_name": "Ana", "last_name": "Lima", "email": "ana@example.org", "username": "ana",
        "role": User.Role.MSL, "team": team.pk, "job_title": "", "credentials": "PharmD", **extra,
    }  # fmt: skip
    return client.post(reverse("user_invite"), data)


def invitation_link() -> str:
    return re.search(r"https?://\S+/accounts/invitation/\S+/", mail.outbox[-1].body).group(0)


def test_a_manager_invites_into_their_team_and_the_link_works_once(
    client_for, lead, field_team, django_capture_on_commit_callbacks
):
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, field_team)
    ana = User.objects.get(username="ana")
    assert response.status_code == 302 and response["Location"] == reverse("user_detail", args=[ana.pk])
    assert not ana.has_usable_password() and ana.team == field_team
    assert mail.outbox[-1].to == ["ana@example.org"]
    link = invitation_link()

    browser = Client()
    form_url = browser.get(link, follow=True).redirect_chain[-1][0]
    assert "Your username is" in browser.get(form_url).content.decode()
    response = browser.post(
        form_url, {"new_password1": "Correct-horse-battery-7", "new_password2": "Correct-horse-battery-7"}
    )
    assert response["Location"] == reverse("login")
    assert browser.get(reverse("physicians:list")).status_code == 302  # not signed in by the link
    assert signed_in(ana, "Correct-horse-battery-7").get(reverse("physicians:list")).status_code == 200

    reused = Client().get(link, follow=True).content.decode()
    assert "This invitation does not work" in reused and "Nobody was signed in" in reused
    kinds = list(SecurityEvent.objects.filter(user=ana).values_list("kind", "actor__username"))
    assert (SecurityEvent.Kind.INVITED, "lead") in kinds
    assert (SecurityEvent.Kind.INVITATION_ACCEPTED, None) in kinds


def test_an_expired_invitation_is_refused(client_for, lead, field_team, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client_for(lead), field_team)
    link = invitation_link()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.INVITATION_TIMEOUT + 60)):
        response = Client().get(link, follow=True)
    assert "This invitation does not work" in response.content.decode()


def test_a_manager_cannot_give_roles_or_teams_beyond_their_own(client_for, lead, field_team, db):
    client = client_for(lead)
    response = invite(client, field_team, role=User.Role.ADMIN)
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()
    elsewhere = TeamFactory(name="MA South", kind=Team.Kind.MEDICAL_AFFAIRS)
    response = invite(client, elsewhere)
    assert response.status_code == 422
    assert not User.objects.filter(username="ana").exists()
    assert mail.outbox == []


def test_invalid_invitations_write_nothing(client_for, lead, field_team, member):
    response = invite(client_for(lead), field_team, email="SAM@example.org", username="")
    assert response.status_code == 422
    page = response.content.decode()
    assert "Another user has this email address." in page and "This field is required." in page
    assert not User.objects.filter(first_name="Ana").exists()


def test_role_and_team_changes_are_logged_with_who_made_them(client_for, lead, member, field_team, db):
    other = TeamFactory(name="MA East 2", kind=Team.Kind.MEDICAL_AFFAIRS)
    lead.managed_teams.add(other)
    response = client_for(lead).post(
        reverse("user_detail", args=[member.pk]),
        {"first_name": member.first_name, "last_name": member.last_name, "email": member.email,
         "role": User.Role.MSL, "team": other.pk, "job_title": "Senior MSL", "credentials": ""},
    )  # fmt: skip
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.team == other and member.job_title == "Senior MSL"
    event = SecurityEvent.objects.get(user=member, kind=SecurityEvent.Kind.USER_CHANGED)
    assert event.actor == lead
    assert "team: MA North → MA East 2" in event.detail and "job title: — → Senior MSL" in event.detail


def test_deactivation_ends_every_session_at_once(client_for, lead, member):
    phone = signed_in(member)
    assert phone.get(reverse("physicians:list")).status_code == 200
    response = client_for(lead).post(reverse("user_action", args=[member.pk, "deactivate"]))
    assert response.status_code == 302
    assert phone.get(reverse("physicians:list")).status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert Client().post(reverse("login"), {"username": "sam", "password": PASSWORD}).status_code == 200
    assert SecurityEvent.objects.filter(user=member, kind=SecurityEvent.Kind.USER_DEACTIVATED, actor=lead).exists()


def test_nobody_deactivates_themselves(client_for, db):
    admin = UserFactory(role=User.Role.ADMIN)
    response = client_for(admin).post(reverse("user_action", args=[admin.pk, "deactivate"]))
    assert response.status_code == 403
    admin.refresh_from_db()
    assert admin.is_active


def test_an_admin_resets_a_second_factor_and_ends_the_sessions(client_for, member, settings):
    settings.MFA_REQUIRED_ROLES = []
    phone = signed_in(member)
    Authenticator.objects.create(user=member, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert phone.get(reverse("physicians:list")).status_code == 200
    admin = UserFactory(role=User.Role.ADMIN)
    client_for(admin).post(reverse("user_action", args=[member.pk, "reset_second_factor"]))
    assert not Authenticator.objects.filter(user=member).exists()
    assert phone.get(reverse("physicians:list")).status_code == 302
    assert SecurityEvent.objects.filter(user=member, kind=SecurityEvent.Kind.SECOND_FACTOR_RESET, actor=admin).exists()


def test_the_list_shows_last_sign_in_and_is_scoped(client_for, lead, member, db):
    signed_in(member)
    outsider = UserFactory(username="far_away", role=User.Role.MSL, team=TeamFactory())
    page = client_for(lead).get(reverse("users")).content.decode()
    assert "sam" in page and "far_away" not in page
    assert "Never" not in page.split("sam")[1].split("</tr>")[0]
    assert client_for(lead).get(reverse("user_detail", args=[outsider.pk])).status_code == 404
    assert client_for(lead).post(reverse("user_action", args=[outsider.pk, "deactivate"])).status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active


def test_a_manager_does_not_administer_other_managers(client_for, lead, field_team, db):
    peer = UserFactory(role=User.Role.MANAGER, team=field_team)
    assert client_for(lead).get(reverse("user_detail", args=[peer.pk])).status_code == 404


@pytest.mark.parametrize("rows", [2, 12])
def test_the_users_list_has_a_constant_number_of_queries(rows, client_for, lead, field_team, django_assert_num_queries):
    for n in range(rows):
        UserFactory(username=f"u{n}", role=User.Role.MSL, team=field_team)
    client = client_for(lead)
    client.get(reverse("users"))
    # session, user, managed teams (scope), the page (with each one's second factor), the team
    # filter's choices
    with django_assert_num_queries(5):
        response = client.get(reverse("users"))
    assert len(response.context["page_obj"].object_list) == rows


def test_the_user_page_has_a_constant_number_of_queries(client_for, lead, member, django_assert_num_queries):
    client = client_for(lead)
    client.get(reverse("user_detail", args=[member.pk]))
    # session, user, managed teams, the user, the team choices, their sessions, their events
    with django_assert_num_queries(7):
        client.get(reverse("user_detail", args=[member.pk]))
