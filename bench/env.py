"""Point Django at the benchmark database before anything imports settings."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/liaison_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"


def db_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB_URL)


def bench_environ(url: str) -> dict[str, str]:
    """The environment of every benchmark process (this one, gunicorn, the dispatch workers)."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            # Child processes (dispatch and import workers) call configure() without a URL.
            "BENCH_DATABASE_URL": url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_HSTS_SECONDS": "0",
            "EMAIL_URL": "dummymail://",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "AXES_ENABLED": "false",
            # The bench's users sign in without a second factor. On a session that passed one, the
            # requirement costs a key looked up in the session (accounts.middleware).
            "MFA_REQUIRED_ROLES": "",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "600",
            # The documents bench/load.py files (the default storage), out of the checkout's media/.
            "MEDIA_ROOT": os.environ.get("BENCH_MEDIA_ROOT", str(Path(tempfile.gettempdir()) / "liaison-bench-media")),
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
    )
    return env


def configure(url: str | None = None) -> str:
    """Set this process's environment for the bench database and set Django up."""
    url = url or db_url()
    os.environ.update(bench_environ(url))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return url


def maintenance_url(url: str) -> str:
    """The same server's `postgres` database, to create and drop the bench database from."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
