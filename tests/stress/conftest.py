"""Load and fault tests (`make stress`): a real gunicorn against its own PostgreSQL database.

They need PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); they restart or stop those services
on this machine, so they run apart from `make test`. Without the services they skip, unless
REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .http import Server, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
STRESS_DB = "liaison_stress"
PORT = int(os.environ.get("STRESS_PORT", "8200"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/stress/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.stress)


def _require(var: str, scheme: str) -> str:
    value = os.environ.get(var, "")
    if not value.startswith(scheme):
        message = f"{var} must point at a real {scheme} server for load and fault tests"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return value


def stress_database_url() -> str:
    base = urlsplit(_require("DATABASE_URL", "postgres"))
    return urlunsplit(base._replace(path=f"/{STRESS_DB}"))


def admin_database_url() -> str:
    base = urlsplit(_require("DATABASE_URL", "postgres"))
    return urlunsplit(base._replace(path="/postgres"))


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=stress_database_url(),
        REDIS_URL=os.environ.get("REDIS_URL", ""),
        DEBUG="false",
        SECRET_KEY="stress-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        CONN_MAX_AGE="60",
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def stress_database() -> str:
    """A fresh database with the schema and the demo data (seed_demo --scale STRESS_SCALE)."""
    import psycopg2

    admin_url = admin_database_url()
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {STRESS_DB} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {STRESS_DB}")
    conn.close()
    env = server_env()
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", "--scale", os.environ.get("STRESS_SCALE", "1"), env=env, timeout=1800)
    manage("collectstatic", "--noinput", env=env)
    return stress_database_url()


@pytest.fixture
def server(stress_database):
    """gunicorn with two workers on loopback, stopped after the test."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "liaison_crm.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(f"http://127.0.0.1:{PORT}", proc)
    try:
        wait_until_up(server.url + "/healthz", timeout=30)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
