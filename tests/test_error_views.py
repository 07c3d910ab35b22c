"""The project's error views: a database fault is a 503 to retry, whatever Django wraps it in."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.core.exceptions import BadRequest
from django.db import OperationalError, connection
from django.test import RequestFactory

from liaison_crm.views import bad_request, server_error


def _session_lost_with_the_database() -> SessionInterrupted:
    try:
        try:
            try:
                raise OperationalError("connection refused")
            except OperationalError as exc:
                raise UpdateError from exc
        except UpdateError:
            raise SessionInterrupted("The request's session was deleted before the request completed.") from None
    except SessionInterrupted as exc:
        return exc


def test_a_session_that_could_not_be_saved_because_the_database_is_down_is_a_503():
    exc = _session_lost_with_the_database()
    # `from None` hides the cause from tracebacks but keeps __context__: walk that too.
    assert exc.__context__ is not None
    response = bad_request(RequestFactory().get("/physicians/"), exc)
    assert response.status_code == 503 and response["Retry-After"] == "10"


def test_a_real_bad_request_stays_a_400():
    response = bad_request(RequestFactory().get("/"), BadRequest("malformed"))
    assert response.status_code == 400


def test_a_database_error_raised_while_handling_is_a_503_and_others_a_500():
    request = RequestFactory().get("/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        assert server_error(request).status_code == 503
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500


@pytest.mark.django_db
def test_an_id_beyond_64_bits_is_a_400_not_a_500(client_for, msl):
    # SQLite cannot bind it (OverflowError); PostgreSQL simply finds nothing: never a 500.
    from physicians.models import Interaction
    from tests.factories import PhysicianFactory

    physician = PhysicianFactory(owner=msl)
    client = client_for(msl)
    client.raise_request_exception = False
    response = client.post(
        f"/physicians/{physician.pk}/log/",
        {"occurred_at": "2026-11-20T10:00", "channel": "phone", "duration_minutes": "30",
         "products": "99999999999999999999999", "insights-TOTAL_FORMS": "0", "insights-INITIAL_FORMS": "0"},
    )  # fmt: skip
    expected = 400 if connection.vendor == "sqlite" else 422  # SQLite: OverflowError; PostgreSQL: the form error
    assert response.status_code == expected
    assert not Interaction.objects.exists()
