"""Password reset by email through Django's own views, its rate limits, the validators, and what a
password change or reset does to the user's other sessions."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent
from tests.factories import TeamFactory, UserFactory

NEW_PASSWORD = "Correct-horse-battery-7"


@pytest.fixture
def person(db):
    user = UserFactory(username="rosa", email="rosa@example.org", team=TeamFactory())
    user.set_password("old-password-123")
    user.save()
    return user


def _link(message) -> str:
    return re.search(r"https?://\S+/accounts/password/reset/\S+/", message.body).group(0)


def _signed_in(user) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.username, "password": "old-password-123"}).status_code == 302
    return client


def test_the_login_page_links_to_the_reset(client):
    response = client.get(reverse("login"))
    assert f'href="{reverse("password_reset")}"' in response.content.decode()
    assert "Forgot password?" in response.content.decode()


def test_known_and_unknown_addresses_get_the_same_answer(client, person):
    known = client.post(reverse("password_reset"), {"email": "rosa@example.org"})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rosa@example.org"]
    done = client.get(reverse("password_reset_done")).content.decode()
    assert "If that address belongs to an account" in done


def test_a_reset_link_sets_the_password_once_and_ends_every_session(person):
    other_device = _signed_in(person)
    assert other_device.get(reverse("physicians:list")).status_code == 200
    Client().post(reverse("password_reset"), {"email": "ROSA@example.org"})
    link = _link(mail.outbox[0])

    browser = Client()
    form_url = browser.get(link, follow=True).redirect_chain[-1][0]  # Django hides the token in the session
    response = browser.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_complete")
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    # The other device is signed out, and nobody was signed in by the reset.
    assert other_device.get(reverse("physicians:list")).status_code == 302
    assert browser.get(reverse("physicians:list")).status_code == 302
    kinds = list(SecurityEvent.objects.filter(user=person).values_list("kind", flat=True))
    assert SecurityEvent.Kind.PASSWORD_RESET_REQUESTED in kinds and SecurityEvent.Kind.PASSWORD_RESET in kinds

    # The link works once.
    again = Client().get(link, follow=True)
    assert "This link does not work" in again.content.decode()
    assert "Nobody was signed in" in again.content.decode()


def test_a_tampered_link_is_refused(client, person):
    client.post(reverse("password_reset"), {"email": "rosa@example.org"})
    link = _link(mail.outbox[0])
    response = client.get(link[:-3] + "xx/", follow=True)
    assert "This link does not work" in response.content.decode()
    person.refresh_from_db()
    assert person.check_password("old-password-123")


def test_an_expired_link_is_refused(client, person, settings):
    client.post(reverse("password_reset"), {"email": "rosa@example.org"})
    link = _link(mail.outbox[0])
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)):
        response = Client().get(link, follow=True)
    assert "This link does not work" in response.content.decode()


def test_reset_requests_are_limited_per_address(client, person, settings):
    settings.PASSWORD_RESET_RATE_PER_ADDRESS = "2/h"
    for _ in range(2):
        assert client.post(reverse("password_reset"), {"email": "rosa@example.org"}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": "Rosa@Example.org"}, REMOTE_ADDR="10.0.0.9")
    assert refused.status_code == 429
    assert len(mail.outbox) == 2
    # Another address from the same client still gets its answer.
    assert client.post(reverse("password_reset"), {"email": "other@example.org"}).status_code == 302


def test_reset_requests_are_limited_per_client_whatever_the_address(client, db, settings):
    settings.PASSWORD_RESET_RATE_PER_CLIENT = "3/h"
    for n in range(3):
        assert client.post(reverse("password_reset"), {"email": f"a{n}@example.org"}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": "a9@example.org"})
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    # Another client is not held back.
    assert (
        Client(REMOTE_ADDR="10.1.2.3").post(reverse("password_reset"), {"email": "a9@example.org"}).status_code == 302
    )


def test_a_malformed_address_is_a_field_error_and_sends_nothing(client, person):
    response = client.post(reverse("password_reset"), {"email": "not-an-address"})
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Short-pw-1", "at least 12 characters"),
        ("password1234", "too common"),
        ("839201746518", "entirely numeric"),
        ("rosa.example.org", "too similar"),
    ],
)
def test_the_validators_refuse_weak_passwords(person, password, message):
    with pytest.raises(ValidationError) as error:
        validate_password(password, user=person)
    assert message in " ".join(error.value.messages)


def test_a_password_change_keeps_this_session_and_ends_the_others(person):
    phone, laptop = _signed_in(person), _signed_in(person)
    response = laptop.post(
        reverse("password_change"),
        {"old_password": "old-password-123", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password was changed. 1 other session was signed out." in response.content.decode()
    assert laptop.get(reverse("physicians:list")).status_code == 200
    assert phone.get(reverse("physicians:list")).status_code == 302
    assert SecurityEvent.objects.filter(user=person, kind=SecurityEvent.Kind.PASSWORD_CHANGED).exists()
