"""Security headers: a strict Content Security Policy everywhere; HSTS and secure cookies in production."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_every_page_sends_a_csp_without_inline_scripts(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


def test_pages_carry_no_inline_script_code(client_for, msl):
    body = client_for(msl).get("/physicians/").content.decode()
    import re

    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", body, flags=re.S):
        assert tag.strip() == "", f"inline script found: {tag[:80]}"


def test_standard_headers(client):
    response = client.get("/accounts/login/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_production_settings_harden_transport(settings):
    # The values the production environment yields (see test_settings for check --deploy).
    from tests.accounts.test_settings import PRODUCTION_ENV, run_manage

    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s;print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.PASSWORD_HASHERS[0])",
        env=PRODUCTION_ENV,
    )
    assert result.stdout.split() == [
        "True",
        "31536000",
        "True",
        "True",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ], result.stderr
