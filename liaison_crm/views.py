"""Project-level error views."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

DATABASE_DOWN = (OperationalError, InterfaceError)


def _database_down() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "10"
    return response


def _caused_by_database(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_DOWN):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a session that cannot be saved because the database just went away is
    reported by Django as SessionInterrupted (400); it is the database's fault, so a 503."""
    if _caused_by_database(exception):
        return _database_down()
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database that is down or restarting is a 503 to retry, not a 500.

    Called with the exception still being handled, whichever layer raised it (a middleware
    loading the session, a view), so the whole request path is covered. Renders without
    context processors: they may need the database that just failed.
    """
    if _caused_by_database(sys.exc_info()[1]):
        return _database_down()
    return HttpResponse(render_to_string("500.html"), status=500)
