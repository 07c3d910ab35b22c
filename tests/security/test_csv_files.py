"""Malformed CSV imports and formula injection, on the way in and on the way out.

Upload: wrong encodings, binary data, missing columns, an empty file, a 10 MB single line and
formula cells give a clear report and write no physician or institution, never a 500.
Export: every CSV export of the project (physicians, every reporting table) neutralises cells a
spreadsheet would run as a formula (= + - @, tab, carriage return).
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from patients.models import Case
from physicians.models import Institution, Physician, PhysicianImport
from physicians.npi import make_npi
from reporting.widgets import REGISTRY
from tests.factories import CaseFactory, InstitutionFactory, PhysicianFactory

from .world import build_world

pytestmark = pytest.mark.django_db

HEADER = "NPI,First name,Last name,Credential,Specialty,Organisation,City,State\n"
GOOD_ROW = f"{make_npi(123456789)},Ada,Lovelace,MD,Cardiology,Mercy Hospital,Boston,MA\n"
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3", "@SUM(1)", '=HYPERLINK("http://x","y")', "\t=1", "\r=1"]


@pytest.fixture
def msl_client():
    world = build_world()
    client = Client()
    client.force_login(world.users["msl"])
    return client


def _upload(client, raw: bytes, name: str = "upload.csv"):
    before = (Physician.objects.count(), Institution.objects.count())
    response = client.post("/physicians/import/", {"file": SimpleUploadedFile(name, raw, "text/csv")})
    assert response.status_code < 500
    return response, before


def _nothing_written(before):
    assert (Physician.objects.count(), Institution.objects.count()) == before


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"\n\n", "no NPI"),
        (b"name,city\nAda,Boston\n", "no NPI, First name, Last name column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" + bytes(range(256)) * 40, "not text"),
        ((HEADER + GOOD_ROW).encode("utf-16"), None),
        ((HEADER + GOOD_ROW).encode("utf-16-le"), "not text"),
        (b"NPI,First name,Last name\n" + b"x" * (10 * 1024 * 1024), "not valid CSV"),
        (b"x" * (10 * 1024 * 1024), "not valid CSV"),
    ],
    ids=["empty", "blank-lines", "missing-columns", "binary", "utf-16-bom", "utf-16-no-bom", "10mb-cell", "10mb-line"],
)
def test_a_malformed_file_is_reported_and_writes_nothing(msl_client, raw, message):
    response, before = _upload(msl_client, raw)
    if message is None:
        # UTF-16 with its byte-order mark is a legitimate export (Excel "Unicode text"): read it.
        assert response.status_code == 302
        job = PhysicianImport.objects.get(filename="upload.csv")
        assert (job.status, job.valid_rows) == ("validated", 1)
        assert "\x00" not in job.content
    else:
        assert response.status_code == 422
        assert message in response.content.decode(), response.content.decode()[:2000]
        assert not PhysicianImport.objects.filter(filename="upload.csv").exists()
    _nothing_written(before)


def test_a_latin1_file_is_read_as_such(msl_client):
    raw = (HEADER + f"{make_npi(123456789)},José,Muñoz,MD,Cardiology,Clínica Señor,Málaga,\n").encode("latin-1")
    response, before = _upload(msl_client, raw)
    assert response.status_code == 302
    job = PhysicianImport.objects.get(filename="upload.csv")
    assert "Muñoz" in job.content and job.valid_rows == 1
    _nothing_written(before)  # nothing until the user confirms


@pytest.mark.parametrize("formula", FORMULAS)
def test_formula_cells_are_reported_and_never_imported(msl_client, formula):
    npi = make_npi(123456789)
    cell = '"' + formula.replace('"', '""') + '"'
    raw = (HEADER + f"{npi},{cell},Lovelace,MD,Cardiology,Mercy Hospital,Boston,MA\n").encode()
    _, before = _upload(msl_client, raw)
    job = PhysicianImport.objects.get(filename="upload.csv")
    assert job.valid_rows == 0
    assert any("formula" in e["problem"] for e in job.errors), job.errors
    page = msl_client.get(f"/physicians/import/{job.pk}/").content.decode()
    assert "formula" in page
    msl_client.post(f"/physicians/import/{job.pk}/confirm/")
    _nothing_written(before)
    assert not Physician.objects.filter(npi=npi).exists()


def _cells(body: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))) for cell in row]


def _streamed(response) -> str:
    assert response.status_code == 200, response.status_code
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8")


def _dangerous(cells: list[str]) -> list[str]:
    return [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


@pytest.fixture
def poisoned():
    """A world whose names, cities and programs are formulas, reachable from every export."""
    world = build_world()
    for i, formula in enumerate(FORMULAS):
        institution = InstitutionFactory(name=formula, city=f"{formula} city")
        physician = PhysicianFactory(
            first_name=formula,
            last_name=formula,
            specialty=formula,
            institution=institution,
            owner=world.users["msl"],
            npi=make_npi(555000000 + i),
        )
        CaseFactory(
            assigned_liaison=world.users["nurse"],
            referral_physician=physician,
            referral_institution=institution,
            program=formula,
        )
    return world


def test_the_physician_export_neutralises_formulas(poisoned):
    client = Client()
    client.force_login(poisoned.users["manager"])
    cells = _cells(_streamed(client.get("/physicians/export.csv", {"scope": "all"})))
    for formula in FORMULAS:
        assert "'" + formula in cells
    assert not _dangerous(cells)


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_reporting_export_neutralises_formulas(poisoned, key):
    client = Client()
    client.force_login(poisoned.users["admin"])
    assert Case.objects.filter(program__in=FORMULAS).count() == len(FORMULAS)
    response = client.get(f"/reporting/export/{key}.csv", {"range": "365d"})
    if response.status_code == 404:
        pytest.fail(f"{key} is registered but has no export")
    cells = _cells(_streamed(response))
    assert not _dangerous(cells), (key, _dangerous(cells))
