"""The second factor (django-allauth's mfa): who must use one (MFA_REQUIRED_ROLES), enrolment right
after the password, the code at sign-in, recovery codes, replays, and the lockout it shares with
wrong passwords (django-axes)."""

from __future__ import annotations

import re

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent, User
from tests.factories import TeamFactory, UserFactory

PASSWORD = "a-long-password-1"
REQUIRED = ["clinical_liaison", "manager", "admin"]


@pytest.fixture(autouse=True)
def _required(settings):
    settings.MFA_REQUIRED_ROLES = REQUIRED


@pytest.fixture
def nurse(db) -> User:
    user = UserFactory(username="kim", role=User.Role.CLINICAL_LIAISON, team=TeamFactory())
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, user: User, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": user.username, "password": password})


def enrol(client: Client) -> tuple[str, list[str]]:
    """Set up the authenticator app on the enrolment page; returns the secret and the codes."""
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page).group(1)
    response = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_view_recovery_codes")
    codes = re.findall(
        r'<li class="col">([a-z0-9]+)</li>', client.get(reverse("mfa_view_recovery_codes")).content.decode()
    )
    return secret, codes


@pytest.fixture
def enrolled(nurse) -> tuple[User, str, list[str]]:
    client = Client()
    sign_in(client, nurse)
    secret, codes = enrol(client)
    return nurse, secret, codes


def test_a_required_role_is_taken_to_enrolment_right_after_the_password(client, nurse):
    response = sign_in(client, nurse)
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"].startswith(reverse("mfa_activate_totp"))
    # No other page until done: lists, details, admin, and htmx requests alike.
    for url in (reverse("patients:worklist"), reverse("physicians:list"), reverse("usersessions_list"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_activate_totp")), url
    htmx = client.get(reverse("patients:worklist"), HTTP_HX_REQUEST="true")
    assert htmx.status_code == 401 and htmx["HX-Redirect"] == reverse("mfa_activate_totp")
    assert client.post(reverse("logout")).status_code == 302


def test_the_enrolment_page_shows_the_secret_as_text_and_as_a_qr_code(client, nurse):
    sign_in(client, nurse)
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page).group(1)
    assert len(secret) >= 16
    assert 'src="data:image/svg+xml;base64,' in page
    assert "Secret key, for manual entry" in page


def test_a_wrong_code_at_enrolment_is_a_field_error_and_enrols_nothing(client, nurse):
    sign_in(client, nurse)
    client.get(reverse("mfa_activate_totp"))
    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert not Authenticator.objects.filter(user=nurse).exists()


def test_enrolment_opens_the_app_and_is_logged(client, nurse, django_capture_on_commit_callbacks):
    sign_in(client, nurse)
    with django_capture_on_commit_callbacks(execute=True):
        _, codes = enrol(client)
    assert len(codes) == 10
    assert client.get(reverse("patients:worklist")).status_code == 200
    assert SecurityEvent.objects.filter(user=nurse, kind=SecurityEvent.Kind.SECOND_FACTOR_ENROLLED).exists()


def test_after_enrolment_the_password_alone_signs_nobody_in(enrolled):
    nurse, secret, _ = enrolled
    client = Client()
    response = sign_in(client, nurse)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("patients:worklist"))["Location"].startswith(reverse("login"))
    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.get(reverse("patients:worklist")).status_code == 200


def test_a_replayed_code_is_refused(enrolled):
    nurse, secret, _ = enrolled
    code = pyotp.TOTP(secret).now()
    first = Client()
    sign_in(first, nurse)
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    second = Client()
    sign_in(second, nurse)
    response = second.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert second.get(reverse("patients:worklist"))["Location"].startswith(reverse("login"))


def test_a_recovery_code_works_once(enrolled):
    nurse, _, codes = enrolled
    client = Client()
    sign_in(client, nurse)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 302
    assert client.get(reverse("patients:worklist")).status_code == 200
    again = Client()
    sign_in(again, nurse)
    response = again.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 200 and "Incorrect code" in response.content.decode()
    assert again.get(reverse("patients:worklist")).status_code == 302


def test_wrong_codes_count_towards_the_lockout(enrolled, settings):
    settings.AXES_FAILURE_LIMIT = 3
    nurse, secret, _ = enrolled
    client = Client()
    sign_in(client, nurse)
    for _ in range(2):
        assert client.post(reverse("mfa_authenticate"), {"code": "123456"}).status_code == 200
    locked = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.content.decode()
    # Locked: the right code is refused now, and so is the password.
    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200 and "sign-in for this account is locked" in response.content.decode()
    assert client.get(reverse("patients:worklist")).status_code == 302
    assert sign_in(Client(), nurse).status_code == 429
    kinds = set(SecurityEvent.objects.filter(user=nurse).values_list("kind", flat=True))
    assert {SecurityEvent.Kind.SECOND_FACTOR_FAILED, SecurityEvent.Kind.LOCKED_OUT} <= kinds


def test_a_session_that_never_used_its_second_factor_confirms_a_code(enrolled):
    """Signed in some other way (here by hand, as an administrator could): a code first."""
    nurse, secret, _ = enrolled
    client = Client()
    client.force_login(nurse)
    response = client.get(reverse("patients:worklist"))
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client.post(reverse("mfa_reauthenticate"), {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get(reverse("patients:worklist")).status_code == 200


def test_roles_outside_the_list_are_not_asked(client, db):
    msl = UserFactory(role=User.Role.MSL, team=TeamFactory())
    msl.set_password(PASSWORD)
    msl.save()
    sign_in(client, msl)
    assert client.get(reverse("physicians:list")).status_code == 200


def test_an_empty_list_turns_the_requirement_off(client, nurse, settings):
    settings.MFA_REQUIRED_ROLES = []
    sign_in(client, nurse)
    assert client.get(reverse("patients:worklist")).status_code == 200


def test_a_user_with_a_second_factor_is_asked_for_it_even_when_not_required(enrolled, settings):
    settings.MFA_REQUIRED_ROLES = []
    nurse, _, _ = enrolled
    client = Client()
    assert sign_in(client, nurse)["Location"] == reverse("mfa_authenticate")


def test_the_admin_site_signs_in_through_the_same_page(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/admin/"
