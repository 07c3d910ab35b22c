"""Helpers for tests that run real processes against the test database."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CELERY = str(Path(sys.executable).with_name("celery"))


def require_postgres(why: str) -> None:
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but the tests run on {connection.vendor}, not PostgreSQL.")
        pytest.skip(why)


def require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but REDIS_URL is not set.")
        pytest.skip("Needs a real Redis broker: set REDIS_URL (and DATABASE_URL for PostgreSQL).")
    return url


def test_database_url() -> str:
    """The URL of the (committed) test database, for a subprocess to use."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=test_database_url(),
        DJANGO_SETTINGS_MODULE="liaison_crm.settings",
        CELERY_DATA_DIR=str(tmp_path / "celery"),
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
        CONN_MAX_AGE="0",
    )
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env.update(extra)
    return env
