"""CSV import (NPI registry layout) and CSV export."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from physicians import importer, services
from physicians.models import ImportStatus, Institution, Physician, PhysicianImport
from physicians.npi import make_npi
from tests.factories import InstitutionFactory, PhysicianFactory

pytestmark = pytest.mark.django_db

HEADER = [
    "NPI",
    "Provider First Name",
    "Provider Last Name (Legal Name)",
    "Provider Credential Text",
    "Taxonomy",
    "Organization Name",
    "City",
    "State",
]


def make_csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(client, content: bytes, name: str = "npi.csv"):
    return client.post("/physicians/import/", {"file": SimpleUploadedFile(name, content, content_type="text/csv")})


GOOD = [
    [make_npi(300000001), "Ada", "Lovelace", "MD", "Cardiology", "Boston General", "Boston", "MA"],
    [make_npi(300000002), "Alan", "Turing", "MD, PhD", "Neurology", "Boston General", "Boston", "MA"],
    [make_npi(300000003), "Grace", "Hopper", "DO", "Oncology", "", "", ""],
]


def test_a_good_file_is_validated_then_imported_only_on_confirmation(msl, client_for):
    client = client_for(msl)
    response = upload(client, make_csv(GOOD))
    job = PhysicianImport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/physicians/import/{job.pk}/"
    assert job.status == ImportStatus.VALIDATED and job.to_create == 3 and job.error_count == 0
    assert not Physician.objects.exists()  # nothing until confirmed
    page = client.get(f"/physicians/import/{job.pk}/").content.decode()
    assert "Every row is valid" in page and "Import 3 valid rows" in page

    response = client.post(f"/physicians/import/{job.pk}/confirm/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created_count == 3 and job.institutions_created == 1
    ada = Physician.objects.get(npi=GOOD[0][0])
    assert (ada.first_name, ada.specialty, ada.institution.name, ada.institution.city) == (
        "Ada",
        "Cardiology",
        "Boston General",
        "Boston",
    )
    assert Physician.objects.get(npi=GOOD[2][0]).institution is None
    # Confirming twice imports nothing more.
    client.post(f"/physicians/import/{job.pk}/confirm/")
    assert Physician.objects.count() == 3


def test_bad_rows_are_reported_and_nothing_is_written(msl, client_for):
    rows = [
        GOOD[0],
        ["1234567890", "Bad", "Check", "MD", "", "", "", ""],  # wrong check digit
        ["12345", "Short", "Npi", "MD", "", "", "", ""],
        [make_npi(300000009), "", "NoFirst", "", "", "", "", ""],
        [GOOD[0][0], "Dup", "Licate", "", "", "", "", ""],
        [make_npi(300000010), "No", "City", "", "", "Somewhere Clinic", "", ""],
    ]
    client = client_for(msl)
    upload(client, make_csv(rows))
    job = PhysicianImport.objects.get()
    problems = {(e["row"], e["column"]) for e in job.errors}
    assert problems == {(3, "NPI"), (4, "NPI"), (5, "First name"), (6, "NPI"), (7, "City")}
    assert job.valid_rows == 1
    html = client.get(f"/physicians/import/{job.pk}/").content.decode()
    assert "wrong check digit" in html and "also appears on row 2" in html
    assert not Physician.objects.exists() and not Institution.objects.exists()


def test_a_file_without_the_required_columns_is_refused(msl, client_for):
    response = upload(client_for(msl), make_csv([["x"]], header=["Name"]))
    assert response.status_code == 422
    assert "no NPI, First name, Last name column" in response.content.decode()
    assert not PhysicianImport.objects.exists()


def test_existing_physicians_are_updated_by_npi_and_institutions_matched_by_name_and_city(msl, client_for):
    boston = InstitutionFactory(name="Boston General", city="Boston")
    InstitutionFactory(name="Boston General", city="Cambridge")
    existing = PhysicianFactory(npi=GOOD[0][0], first_name="Old", specialty="Old", owner=msl, kol_tier=1)
    client = client_for(msl)
    upload(client, make_csv(GOOD[:1]))
    job = PhysicianImport.objects.get()
    assert job.to_update == 1 and job.to_create == 0
    client.post(f"/physicians/import/{job.pk}/confirm/")
    existing.refresh_from_db()
    assert (existing.first_name, existing.specialty, existing.institution_id) == ("Ada", "Cardiology", boston.pk)
    assert existing.owner == msl and existing.kol_tier == 1  # what the registry does not know is kept
    assert Physician.objects.count() == 1 and Institution.objects.count() == 3


def test_a_liaison_cannot_import(nurse, client_for):
    assert upload(client_for(nurse), make_csv(GOOD)).status_code == 403


def test_another_users_import_is_404(msl, msl_teammate, client_for):
    upload(client_for(msl), make_csv(GOOD))
    job = PhysicianImport.objects.get()
    assert client_for(msl_teammate).get(f"/physicians/import/{job.pk}/").status_code == 404
    assert client_for(msl_teammate).post(f"/physicians/import/{job.pk}/confirm/").status_code == 404
    assert not Physician.objects.exists()


@pytest.mark.slow
def test_a_50000_row_file_imports_through_the_worker(msl, client_for, settings, django_capture_on_commit_callbacks):
    settings.PHYSICIAN_IMPORT_ASYNC_ROWS = 2000
    rows = [
        [
            make_npi(400000000 + k),
            f"First{k}",
            f"Last{k}",
            "MD",
            "Cardiology",
            f"Clinic {k % 500}",
            f"City{(k % 500) % 7}",
            "CA",
        ]
        for k in range(50_000)
    ]
    existing = PhysicianFactory(npi=rows[10][0], first_name="Old")
    client = client_for(msl)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, make_csv(rows))
    assert response.status_code == 302
    job = PhysicianImport.objects.get()
    assert job.status == ImportStatus.VALIDATED, job.failure
    assert (job.to_create, job.to_update, job.error_count) == (49_999, 1, 0)
    progress = client.get(f"/physicians/import/{job.pk}/progress/")
    assert progress.status_code == 200 and "Import 50000 valid rows" in progress.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/physicians/import/{job.pk}/confirm/")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.failure
    assert Physician.objects.count() == 50_000
    assert Institution.objects.count() == 500 + 1  # the existing physician's own
    existing.refresh_from_db()
    assert existing.first_name == "First10"
    assert time.monotonic() - started < 120


def test_progress_is_polled_while_the_worker_runs(msl, client_for):
    job = PhysicianImport.objects.create(
        uploaded_by=msl, content="NPI\n", status=ImportStatus.VALIDATING, total_rows=10_000, processed_rows=2_500
    )
    html = client_for(msl).get(f"/physicians/import/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in html and 'value="25"' in html


def test_import_progress_during_the_import_comes_from_the_cache(msl):
    from django.core.cache import cache

    job = PhysicianImport.objects.create(uploaded_by=msl, content="", status=ImportStatus.IMPORTING, total_rows=100)
    cache.set(importer._progress_key(job.pk), 40)
    assert importer.processed_rows(job) == 40


def test_confirm_requires_a_validated_file(msl):
    job = PhysicianImport.objects.create(uploaded_by=msl, content="", status=ImportStatus.FAILED)
    with pytest.raises(Exception, match="no valid rows"):
        services.confirm_import(job=job, user=msl)


# --- export -----------------------------------------------------------------------------------


def test_export_follows_the_filters_and_neutralises_formulas(msl, client_for):
    PhysicianFactory(owner=msl, first_name='=HYPERLINK("http://evil")', last_name="Aaron", kol_tier=1)
    PhysicianFactory(owner=msl, first_name="+1", last_name="Abbott", specialty="@SUM(A1)", kol_tier=1)
    PhysicianFactory(owner=msl, first_name="Zed", last_name="Zulu", kol_tier=2)
    response = client_for(msl).get("/physicians/export.csv?tier=1")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "NPI"
    assert [r[2] for r in rows[1:]] == ["Aaron", "Abbott"]
    assert rows[1][1].startswith("'=") and rows[2][1] == "'+1" and rows[2][4] == "'@SUM(A1)"


def test_csv_safe_leaves_ordinary_text_alone():
    from liaison_crm.csv_export import csv_safe

    assert csv_safe("Smith") == "Smith"
    assert csv_safe("-5") == "'-5"
    assert csv_safe(None) == ""
    assert csv_safe(-5) == -5  # a number stays a number


def test_csv_safe_writes_datetimes_in_the_export_s_zone():
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from liaison_crm.csv_export import csv_safe

    value = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert csv_safe(value) == timezone.localtime(value).isoformat(timespec="minutes")
    assert csv_safe(value, ZoneInfo("Asia/Tokyo")) == "2026-01-02T12:04+09:00"
    assert csv_safe(dt.date(2026, 1, 2), ZoneInfo("Asia/Tokyo")) == "2026-01-02"
