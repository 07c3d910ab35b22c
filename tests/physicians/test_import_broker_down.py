"""A large import while the broker (Redis) is down: a clear failure on the job, not a 500."""

from __future__ import annotations

import pytest
from kombu.exceptions import OperationalError

from physicians import services, tasks
from physicians.models import ImportStatus, Physician, PhysicianImport
from physicians.npi import make_npi

from .test_import import make_csv, upload

pytestmark = pytest.mark.django_db


def _broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_large_upload_with_the_broker_down_fails_the_job_clearly(
    msl, client_for, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PHYSICIAN_IMPORT_ASYNC_ROWS = 2
    monkeypatch.setattr(tasks.validate_physician_import, "delay", _broker_down)
    rows = [
        [make_npi(400000000 + k), f"First{k}", f"Last{k}", "MD", "Cardiology", "Clinic", "City", "CA"] for k in range(5)
    ]
    client = client_for(msl)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, make_csv(rows))
    assert response.status_code == 302
    job = PhysicianImport.objects.get()
    assert job.status == ImportStatus.FAILED and job.failure == services.BROKER_DOWN
    page = client.get(f"/physicians/import/{job.pk}/").content.decode()
    assert "could not be reached" in page
    assert not Physician.objects.exists()


def test_confirming_a_large_import_with_the_broker_down_imports_nothing_and_says_so(
    msl, client_for, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PHYSICIAN_IMPORT_ASYNC_ROWS = 2
    rows = [
        [make_npi(400000100 + k), f"First{k}", f"Last{k}", "MD", "Cardiology", "Clinic", "City", "CA"] for k in range(5)
    ]
    client = client_for(msl)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, make_csv(rows))  # validated eagerly by the test settings' worker
    job = PhysicianImport.objects.get()
    assert job.status == ImportStatus.VALIDATED, job.failure
    monkeypatch.setattr(tasks.apply_physician_import, "delay", _broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/physicians/import/{job.pk}/confirm/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "nothing was" in job.failure
    assert not Physician.objects.exists()
