"""`/healthz`: is the database answering, is the broker answering."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from .celery import app as celery_app


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure is "down", reported with its reason
        return f"error: {type(exc).__name__}: {exc}".strip()[:300]
    return "ok"


def check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
            if conn.transport.driver_type == "redis":
                conn.default_channel.client.ping()
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}".strip()[:300]
    return "ok"


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    result = {"database": check_database(), "broker": check_broker()}
    status = 200 if all(v == "ok" for v in result.values()) else 503
    return JsonResponse(result, status=status)
