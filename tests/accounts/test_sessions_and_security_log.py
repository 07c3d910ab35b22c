"""A user's own sessions (browser, address, last activity; sign any of them out) and the security
log administrators read, filter and export."""

from __future__ import annotations

import csv
import io

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent, User
from tests.factories import TeamFactory, UserFactory

PASSWORD = "a-long-password-1"


@pytest.fixture
def person(db) -> User:
    user = UserFactory(username="lee", role=User.Role.MSL, team=TeamFactory())
    user.set_password(PASSWORD)
    user.save()
    return user


def signed_in(user: User, agent: str, address: str = "10.0.0.1") -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def test_the_sessions_page_lists_each_browser_and_address(person):
    laptop = signed_in(person, "Firefox on the laptop", "10.0.0.1")
    signed_in(person, "Safari on the tablet", "10.0.0.2")
    page = laptop.get(reverse("usersessions_list")).content.decode()
    assert "Firefox on the laptop" in page and "Safari on the tablet" in page
    assert "10.0.0.2" in page
    assert page.count("This session") == 1


def test_a_user_signs_out_one_other_session(person):
    laptop = signed_in(person, "Firefox on the laptop")
    tablet = signed_in(person, "Safari on the tablet")
    session = UserSession.objects.get(user=person, user_agent="Safari on the tablet")
    response = laptop.post(reverse("session_end", args=[session.pk]))
    assert response.status_code == 302
    assert tablet.get(reverse("physicians:list")).status_code == 302
    assert laptop.get(reverse("physicians:list")).status_code == 200
    assert SecurityEvent.objects.filter(user=person, kind=SecurityEvent.Kind.SESSION_ENDED).exists()


def test_sign_out_all_other_sessions_keeps_this_one(person):
    laptop = signed_in(person, "Firefox")
    others = [signed_in(person, f"Browser {n}") for n in range(3)]
    laptop.post(reverse("session_end", args=[0]))
    assert laptop.get(reverse("physicians:list")).status_code == 200
    assert all(other.get(reverse("physicians:list")).status_code == 302 for other in others)


def test_another_users_session_is_a_404(person, db):
    stranger = UserFactory(username="stranger", team=TeamFactory())
    stranger.set_password(PASSWORD)
    stranger.save()
    theirs = signed_in(stranger, "Their browser")
    session = UserSession.objects.get(user=stranger)
    assert signed_in(person, "Mine").post(reverse("session_end", args=[session.pk])).status_code == 404
    assert theirs.get(reverse("physicians:list")).status_code == 200


@pytest.mark.parametrize("sessions", [1, 3])
def test_the_sessions_page_reads_each_live_session_once_over(sessions, person, django_assert_num_queries):
    """Not constant: allauth's purge_and_list checks every session of the user in the session
    store (exists, load, its user), and the page reads its last activity. A user has a handful."""
    client = signed_in(person, "Firefox")
    for n in range(sessions - 1):
        signed_in(person, f"Browser {n}")
    client.get(reverse("usersessions_list"))  # the first request stamps the session's activity
    with django_assert_num_queries(2 + 1 + 4 * sessions):
        response = client.get(reverse("usersessions_list"))
    assert len(response.context["rows"]) == sessions


def test_sign_in_events_are_logged(person):
    client = Client(REMOTE_ADDR="10.9.8.7", HTTP_USER_AGENT="Edge")
    client.post(reverse("login"), {"username": "lee", "password": "wrong"})
    client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    client.post(reverse("login"), {"username": "lee", "password": PASSWORD})
    client.post(reverse("logout"))
    events = list(SecurityEvent.objects.order_by("id").values_list("kind", "username", "ip", "user_agent"))
    assert events == [
        (SecurityEvent.Kind.SIGN_IN_FAILED, "lee", "10.9.8.7", "Edge"),
        (SecurityEvent.Kind.SIGN_IN_FAILED, "nobody", "10.9.8.7", "Edge"),
        (SecurityEvent.Kind.SIGNED_IN, "lee", "10.9.8.7", "Edge"),
        (SecurityEvent.Kind.SIGNED_OUT, "lee", "10.9.8.7", "Edge"),
    ]


def test_a_lockout_is_logged(person, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(2):
        client.post(reverse("login"), {"username": "lee", "password": "wrong"})
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT, user=person).exists()


@pytest.fixture
def admin_client(client_for, db):
    return client_for(UserFactory(username="root", role=User.Role.ADMIN))


def test_admins_filter_the_log(admin_client, person):
    SecurityEvent.objects.create(kind=SecurityEvent.Kind.SIGN_IN_FAILED, username="mallory", ip="203.0.113.5")
    SecurityEvent.objects.create(kind=SecurityEvent.Kind.SIGNED_IN, user=person, username="lee", ip="10.0.0.1")
    page = admin_client.get(reverse("security_log"), {"kind": "sign_in_failed"}).content.decode()
    assert "mallory" in page and ">lee<" not in page
    page = admin_client.get(reverse("security_log"), {"q": "203.0.113"}).content.decode()
    assert "mallory" in page
    bad = admin_client.get(reverse("security_log"), {"date_from": "not-a-date"})
    assert bad.status_code == 200 and "Enter a valid date." in bad.content.decode()


def test_the_log_exports_as_csv_with_its_filters(admin_client, person):
    SecurityEvent.objects.create(
        kind=SecurityEvent.Kind.SIGN_IN_FAILED, username="=cmd|' /C calc'!A0", ip="203.0.113.5"
    )
    SecurityEvent.objects.create(kind=SecurityEvent.Kind.SIGNED_IN, user=person, username="lee")
    response = admin_client.get(reverse("security_log_export"), {"kind": "sign_in_failed"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [rows[0][0].lstrip("\ufeff"), *rows[0][1:3]] == ["Time", "Event", "Username"]
    assert len(rows) == 2
    assert rows[1][1] == "Sign-in failed" and rows[1][2].startswith("'=")  # formula-safe


@pytest.mark.parametrize("rows", [2, 30])
def test_the_log_has_a_constant_number_of_queries(rows, admin_client, person, django_assert_num_queries):
    for _ in range(rows):
        SecurityEvent.objects.create(kind=SecurityEvent.Kind.SIGNED_IN, user=person, username="lee")
    admin_client.get(reverse("security_log"))
    with django_assert_num_queries(3):  # session, user, the page with its users
        admin_client.get(reverse("security_log"))


def test_the_log_is_for_administrators_only(client_for, person, db):
    manager = UserFactory(role=User.Role.MANAGER, team=TeamFactory())
    assert client_for(manager).get(reverse("security_log")).status_code == 403
    assert client_for(person).get(reverse("security_log_export")).status_code == 403
