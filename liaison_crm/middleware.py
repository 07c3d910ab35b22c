"""Project-wide middleware."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A database that is down or restarting gives a calm 503 page, never a traceback; a number
    the database cannot hold gives a 400.

    With CONN_HEALTH_CHECKS on, the next request after the database returns opens a fresh
    connection, so the app recovers by itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError):
            # An id or number too large for the database (SQLite binds 64-bit integers only):
            # bad input, refused before anything was written.
            return HttpResponseBadRequest("A number in this request is out of range.")
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable while serving %s: %s", request.path, exception)
        body = render_to_string("503.html", {"request": request})
        response = HttpResponse(body, status=503)
        response["Retry-After"] = "10"
        return response
