from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_is_public_and_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_healthz_reports_the_broker_down_with_503(client, monkeypatch):
    from liaison_crm.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error:")
    assert "127.0.0.1:1" in body["broker"]


def test_healthz_reports_the_database_down_with_503(client, monkeypatch):
    from django.db import OperationalError

    import liaison_crm.health as health

    class Broken:
        def __enter__(self):
            raise OperationalError("connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", lambda: Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: OperationalError: connection refused"
