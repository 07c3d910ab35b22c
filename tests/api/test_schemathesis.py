"""schemathesis fuzzes every operation of the live schema, on gunicorn with the demo data, as an
MSL, a nurse and a manager: no 5xx, and every answer conforms to the schema.

The database is its own (liaison_api_fuzz), so the fuzzer's writes touch nothing else. Examples
per operation are few here (SCHEMATHESIS_EXAMPLES, 8 by default) so the run fits CI; raise it for a
longer hunt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.stress.conftest import (
    admin_database_url,
    manage,
    server_env,
    start_gunicorn,
    stop_process_group,
)

DB = "liaison_api_fuzz"
PORT = int(os.environ.get("SCHEMATHESIS_PORT", "8310"))
EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "8")
ROLES = ("msl", "nurse", "manager")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
FAULTS = ("Internal Server Error:", "WORKER TIMEOUT", "[CRITICAL]", "Exception in worker", "Traceback")
TOKENS = """
import datetime as dt, json
from django.utils import timezone
from accounts.models import User
from accounts.services import create_api_token
until = timezone.localdate() + dt.timedelta(days=1)
print(json.dumps({name: create_api_token(request=None, user=User.objects.get(username=name), name="fuzz",
                                         scope="write", expires_on=until)[1] for name in %r}))
"""


@pytest.fixture(scope="module")
def live_api(tmp_path_factory):
    import psycopg2

    url = urlunsplit(urlsplit(admin_database_url())._replace(path=f"/{DB}"))
    conn = psycopg2.connect(admin_database_url())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {DB}")
    conn.close()
    media, static = tmp_path_factory.mktemp("media"), tmp_path_factory.mktemp("static")
    # No throttling in the way of the fuzzer (throttling has its own test).
    extra = {"DATABASE_URL": url, "MEDIA_ROOT": str(media), "STATIC_ROOT": str(static), "API_THROTTLE_TOKEN": "100000/min",
             "API_THROTTLE_USER": "100000/min"}  # fmt: skip
    env = server_env(**extra)
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", env=env)
    # The pages' 404 (schemathesis probes a path outside the API too) renders with the manifest.
    manage("collectstatic", "--noinput", env=env)
    tokens = json.loads(manage("shell", "-c", TOKENS % (ROLES,), env=env).stdout.strip().splitlines()[-1])
    server = start_gunicorn(PORT, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log", **extra)
    try:
        yield server, tokens
    finally:
        stop_process_group(server.process)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_survives_fuzzing_and_answers_as_its_schema_says(live_api, role, tmp_path):
    server, tokens = live_api
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{server.url}/api/v1/schema/?format=json",
        "--url", server.url, "--header", f"Authorization: Bearer {tokens[role]}",
        "--checks", CHECKS, "--max-examples", EXAMPLES, "--phases", "examples,coverage,fuzzing",
        "--workers", "2", "--seed", "19", "--suppress-health-check", "all", "--request-timeout", "30",
        "--report", "ndjson", "--report-dir", str(tmp_path), "--no-color",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=900)
    # The fuzzer's bad input is answered 400 (logged as "Bad Request"): only faults count here.
    log = server.log_path.read_text()
    problems = [line for line in log.splitlines() if any(sign in line for sign in FAULTS)]
    assert run.returncode == 0 and not problems, (
        f"schemathesis as {role}:\n{run.stdout[-12000:]}\n{run.stderr[-3000:]}\ngunicorn:\n" + "\n".join(problems[-40:])
    )
