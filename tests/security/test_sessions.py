from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_login_rotates_the_session_key_against_fixation(client, msl):
    client.get("/accounts/login/")
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    before = session.session_key
    response = client.post("/accounts/login/", {"username": "msl", "password": "demo-password-1"})
    assert response.status_code == 302
    assert client.session.session_key != before


def test_logout_flushes_the_session(client_for, msl):
    client = client_for(msl)
    key = client.session.session_key
    client.post("/accounts/logout/")
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=key).exists()


def test_session_cookie_is_http_only(client, msl):
    response = client.post("/accounts/login/", {"username": "msl", "password": "demo-password-1"})
    assert response.cookies["sessionid"]["httponly"]
