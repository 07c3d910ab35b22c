"""A database outage is a calm 503 page, whichever layer hits it first."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def _broken_session_load(self, *args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def test_outage_in_a_middleware_gives_503_not_a_traceback(settings, monkeypatch, msl):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(msl)
    from django.contrib.sessions.backends.db import SessionStore

    monkeypatch.setattr(SessionStore, "load", _broken_session_load)
    response = client.get("/physicians/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    body = response.content.decode()
    assert "briefly unavailable" in body and "Traceback" not in body


def test_outage_in_a_view_gives_503_in_debug_too(rf):
    # With DEBUG on, Django shows its technical page instead of handler500; the middleware
    # catches what views raise so developers see the same 503 as users.
    from liaison_crm.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    response = middleware.process_exception(rf.get("/"), OperationalError("could not connect"))
    assert response.status_code == 503
    assert middleware.process_exception(rf.get("/"), ValueError("a bug")) is None


def test_other_errors_are_still_500(settings, monkeypatch, msl):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(msl)
    from django.contrib.sessions.backends.db import SessionStore

    def boom(self, *args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(SessionStore, "load", boom)
    response = client.get("/physicians/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
