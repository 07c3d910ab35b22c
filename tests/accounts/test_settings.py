"""Settings parse the environment strictly, and production settings pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789abcdef",
    "ALLOWED_HOSTS": "crm.example.org",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("value", ["maybe", "ture", "2"])
def test_malformed_boolean_fails_loudly_naming_the_variable(value):
    result = run_manage("check", env={"DEBUG": value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"DEBUG={value!r}" in result.stderr


def test_malformed_integer_fails_loudly():
    result = run_manage("check", env={"SESSION_IDLE_MINUTES": "thirty"})
    assert result.returncode != 0
    assert "SESSION_IDLE_MINUTES='thirty' is not an integer" in result.stderr


def test_production_requires_secret_key():
    result = run_manage("check", env={"DEBUG": "false", "ALLOWED_HOSTS": "crm.example.org"})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_production_requires_allowed_hosts():
    result = run_manage("check", env={"DEBUG": "false", "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"]})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is required" in result.stderr


def test_check_deploy_is_clean_under_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_database_url_switches_to_postgresql():
    code = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='liaison_crm.settings';django.setup();"
        "from django.conf import settings as s;d=s.DATABASES['default'];"
        "print(d['ENGINE'],d['NAME'],d['CONN_MAX_AGE'],d['CONN_HEALTH_CHECKS']);print(d['OPTIONS']['options'])"
    )
    env = {**os.environ, "DATABASE_URL": "postgres://u@db.example:5432/crm"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    first, options = out.stdout.splitlines()
    assert first.split() == ["django.db.backends.postgresql", "crm", "60", "True"]
    # Session settings: no JIT, and server-side cursors (exports) planned to read every row.
    assert options.split() == ["-c", "jit=off", "-c", "cursor_tuple_fraction=1"]


@pytest.mark.django_db
def test_the_database_session_plans_cursors_for_every_row():
    from django.db import connection

    if connection.vendor != "postgresql":
        assert "options" not in connection.settings_dict["OPTIONS"]  # SQLite has no such settings
        return
    with connection.cursor() as cur:
        cur.execute("SHOW cursor_tuple_fraction")
        assert cur.fetchone()[0] == "1"
        cur.execute("SHOW jit")
        assert cur.fetchone()[0] == "off"


def test_redis_url_switches_broker_and_cache():
    code = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='liaison_crm.settings';django.setup();"
        "from django.conf import settings as s;"
        "print(s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'])"
    )
    env = {**os.environ, "REDIS_URL": "redis://cache.example:6379/3"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["redis://cache.example:6379/3", "liaison_crm.cache.ResilientRedisCache"]
    env.pop("REDIS_URL")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["filesystem://", "django.core.cache.backends.filebased.FileBasedCache"]


def test_without_redis_the_cache_is_shared_between_processes(tmp_path):
    # The worker writes a physician import's progress; the web process polls it.
    env = {**os.environ, "CELERY_DATA_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    setup = "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='liaison_crm.settings';django.setup();"
    write = setup + "from django.core.cache import cache;cache.set('progress', 1234, 60)"
    read = setup + "from django.core.cache import cache;print(cache.get('progress'))"
    subprocess.run([sys.executable, "-c", write], cwd=ROOT, env=env, check=True)
    out = subprocess.run([sys.executable, "-c", read], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1234"


def test_collectstatic_succeeds_under_production_settings(tmp_path):
    # The manifest storage refuses a vendored file that references a missing one (a source map).
    result = run_manage("collectstatic", "--noinput", env={**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/htmx/htmx.min.*.js"))


@pytest.mark.parametrize(
    ("value", "roles"),
    [(None, ["clinical_liaison", "manager", "admin"]), ("", []), ("manager, admin", ["manager", "admin"])],
)
def test_mfa_required_roles_empty_turns_the_requirement_off(value, roles):
    code = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='liaison_crm.settings';django.setup();"
        "from django.conf import settings as s;print(','.join(s.MFA_REQUIRED_ROLES))"
    )
    env = {k: v for k, v in os.environ.items() if k != "MFA_REQUIRED_ROLES"}
    if value is not None:
        env["MFA_REQUIRED_ROLES"] = value
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ",".join(roles)
