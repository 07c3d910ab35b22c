"""The project's error views: a database fault is a 503 to retry, whatever Django wraps it in."""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.core.exceptions import BadRequest
from django.db import OperationalError
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
