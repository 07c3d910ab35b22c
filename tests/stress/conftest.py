"""Load and fault tests (`make stress`): a real gunicorn against its own PostgreSQL database.

They need PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); they restart or stop those services
on this machine, so they run apart from `make test`. Without the services they skip, unless
REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .http import Server, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
STRESS_DB = "liaison_stress"
PORT = int(os.environ.get("STRESS_PORT", "8200"))
CELERY = str(Path(sys.executable).with_name("celery"))
RESULTS_FILE = ROOT / "bench" / "stress-results.md"
# Figures of this run, one (title, lines) per test; written to RESULTS_FILE when the session ends.
RESULTS: list[tuple[str, list[str]]] = []


def record(title: str, **figures) -> None:
    """Keep a test's figures for bench/stress-results.md (and print them)."""
    lines = [f"- {key.replace('_', ' ')}: {value}" for key, value in figures.items()]
    RESULTS.append((title, lines))
    print(f"\n{title}\n" + "\n".join(lines))


def pytest_sessionfinish(session, exitstatus):
    if not RESULTS:
        return
    header = (
        f"\n## Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: STRESS_SCALE={os.environ.get('STRESS_SCALE', '1')}, "
        f"STRESS_DURATION={os.environ.get('STRESS_DURATION', '120')}, STRESS_USERS={os.environ.get('STRESS_USERS', '100')}, "
        f"{os.cpu_count()} CPUs, outcome: {'passed' if exitstatus == 0 else f'FAILED (exit {exitstatus})'}\n"
    )
    body = "".join(f"\n### {title}\n" + "\n".join(lines) + "\n" for title, lines in RESULTS)
    if not RESULTS_FILE.exists():
        RESULTS_FILE.write_text(
            "# Load and fault test results (`make stress`)\n\n"
            'Appended by tests/stress/conftest.py after each run; see README, "Load and fault tests".\n'
        )
    with RESULTS_FILE.open("a") as fh:
        fh.write(header + body)


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
        # The demo users sign in with their password only, as in `make run` (DESIGN's contract).
        MFA_REQUIRED_ROLES="",
        # The demo documents seed_demo files, out of the checkout's media/.
        MEDIA_ROOT=str(Path(tempfile.gettempdir()) / "liaison-stress-media"),
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
    bench_scale = os.environ.get("STRESS_BENCH_SCALE")
    if bench_scale:
        # Benchmark-scale data (bench/load.py: COPY, 50k physicians and 1M interactions at 1.0),
        # with the demo users, instead of seed_demo.
        subprocess.run(
            [sys.executable, "-m", "bench.load", "--scale", bench_scale, "--db-url", stress_database_url()],
            cwd=ROOT, env={**env, "BENCH_DATABASE_URL": stress_database_url()}, check=True, timeout=1800,
        )  # fmt: skip
    else:
        manage("migrate", "--noinput", env=env)
        manage("seed_demo", "--scale", os.environ.get("STRESS_SCALE", "1"), env=env, timeout=1800)
    manage("collectstatic", "--noinput", env=env)
    return stress_database_url()


def start_gunicorn(port: int, log_path: Path, **env: str) -> Server:
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "liaison_crm.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = Server(f"http://127.0.0.1:{port}", proc)
    server.log_path = log_path
    wait_until_up(server.url + "/healthz", timeout=30)
    return server


def stop_process_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def server_problems(server: Server) -> list[str]:
    """What gunicorn logged that is a fault: a 500, a worker crash or timeout, a bad request.
    (A 503 while the database is down is logged by Django with its traceback: expected.)"""
    text = server.log_path.read_text() if server.log_path.exists() else ""
    signs = ("Internal Server Error:", "Bad Request:", "WORKER TIMEOUT", "[CRITICAL]", "Exception in worker")
    return [line for line in text.splitlines() if any(sign in line for sign in signs)]


@pytest.fixture
def server(stress_database, tmp_path):
    """gunicorn with two workers on loopback, stopped after the test (its log: tmp_path)."""
    srv = start_gunicorn(PORT, tmp_path / "gunicorn.log")
    try:
        yield srv
    finally:
        stop_process_group(srv.process)
        problems = server_problems(srv)
        if problems:
            print(f"\ngunicorn log ({srv.log_path}):\n" + srv.log_path.read_text()[-5000:])


def start_worker(log_path: Path, *, concurrency: int = 1, beat: bool = False, **env: str) -> subprocess.Popen:
    """A real Celery worker (its own process group, so it can be killed whole)."""
    args = [
        CELERY,
        "-A",
        "liaison_crm.celery:app",
        "worker",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
    ]
    if beat:
        args.append("--beat")
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=server_env(CELERY_DATA_DIR=str(log_path.parent / "celery"), CONN_MAX_AGE="0", **env),
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def db_connect():
    import psycopg2

    conn = psycopg2.connect(stress_database_url())
    conn.autocommit = True
    return conn


def db_value(sql: str, params: tuple = ()):
    conn = db_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def db_rows(sql: str, params: tuple = ()) -> list[tuple]:
    conn = db_connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def mail_entries(mail_dir: Path) -> list[str]:
    """Every follow-up line ("- title (due ...)") of every email the file backend wrote."""
    import email
    from email import policy

    separator = b"\n" + b"-" * 79 + b"\n"
    entries = []
    for path in sorted(mail_dir.glob("*")):
        for raw in path.read_bytes().split(separator):
            if not raw.strip():
                continue
            message = email.message_from_bytes(raw.lstrip(b"\n"), policy=policy.default)
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    text = part.get_content()
                    entries += [line[2:].rsplit(" (due", 1)[0] for line in text.splitlines() if line.startswith("- ")]
    return entries


def flush_redis_db() -> None:
    """Empty the REDIS_URL database (its number only), so no message of an earlier run remains."""
    db = urlsplit(os.environ.get("REDIS_URL", "")).path.strip("/") or "0"
    redis_cli("-n", db, "flushdb")


def redis_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["redis-cli", "-p", "6379", *args], capture_output=True, text=True, timeout=10)


REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def redis_up() -> bool:
    return redis_cli("ping").stdout.strip() == "PONG"


def stop_redis() -> None:
    redis_cli("shutdown", "nosave")
    assert wait_for(lambda: not redis_up(), timeout=10), "Redis did not stop"


def start_redis() -> None:
    if not redis_up():
        Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
        Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
        subprocess.run(REDIS_START, check=True, timeout=30)
    assert wait_for(redis_up, timeout=30), "Redis did not come back"


def send_task(name: str) -> None:
    """Publish a task to the broker (REDIS_URL) as beat would."""
    from liaison_crm.celery import app

    app.conf.task_always_eager = False  # the test settings may make tasks eager; this goes to Redis
    app.send_task(name)
