"""CSV import of physicians and institutions in the public NPI registry's column layout.

Two passes over the stored file: `validate_import` checks every row and records a report
(row, column, problem) without writing a physician; `apply_import`, run only once the user has
confirmed, creates or updates physicians by NPI and institutions by (organisation, city) in
batches with bulk_create / bulk_update, inside one transaction (a failure writes nothing).
Progress goes to the import row (validation) and to the cache (the import itself, whose
transaction hides the row's updates from the page that polls).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from . import conf
from .models import ImportStatus, Institution, Physician, PhysicianImport
from .npi import is_valid_npi

MAX_REPORTED_ERRORS = 500

# Our field → accepted header spellings (lower-cased, spaces collapsed), NPPES names included.
COLUMNS: dict[str, tuple[str, ...]] = {
    "npi": ("npi",),
    "first_name": ("first name", "first_name", "provider first name"),
    "last_name": ("last name", "last_name", "provider last name (legal name)", "provider last name"),
    "credentials": ("credential", "credentials", "provider credential text"),
    "specialty": (
        "taxonomy",
        "specialty",
        "taxonomy/specialty",
        "taxonomy description",
        "healthcare provider taxonomy description",
        "healthcare provider taxonomy code_1",
    ),
    "organisation": (
        "organisation",
        "organization",
        "organisation name",
        "organization name",
        "provider organization name (legal business name)",
    ),
    "city": ("city", "provider business practice location address city name"),
    "state": ("state", "provider business practice location address state name"),
}
LABELS = {
    "npi": "NPI",
    "first_name": "First name",
    "last_name": "Last name",
    "credentials": "Credential",
    "specialty": "Specialty",
    "organisation": "Organisation",
    "city": "City",
    "state": "State",
}
REQUIRED = ("npi", "first_name", "last_name")
MAX_LENGTH = {
    "first_name": Physician._meta.get_field("first_name").max_length,
    "last_name": Physician._meta.get_field("last_name").max_length,
    "credentials": Physician._meta.get_field("credentials").max_length,
    "specialty": Physician._meta.get_field("specialty").max_length,
    "organisation": Institution._meta.get_field("name").max_length,
    "city": Institution._meta.get_field("city").max_length,
    "state": Institution._meta.get_field("state").max_length,
}


# Cells a spreadsheet would run as a formula (CSV injection); never stored from an import.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ImportFileError(Exception):
    """The file as a whole cannot be read (not CSV, missing columns)."""


@dataclass
class Row:
    number: int  # 1-based line in the file, header = 1
    npi: str
    first_name: str
    last_name: str
    credentials: str
    specialty: str
    organisation: str
    city: str
    state: str


def decode(raw: bytes) -> str:
    # UTF-16 with its byte-order mark is what spreadsheets save as "Unicode text".
    encodings = ("utf-16",) if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        # NUL never occurs in text (binary data, UTF-16 without a BOM), and PostgreSQL refuses it.
        if "\x00" not in text:
            return text
        break
    raise ImportFileError("The file is not text: upload a CSV file (UTF-8 or Windows-1252 encoded).")


def _header_map(header: list[str]) -> dict[str, int]:
    normalised = [" ".join(h.strip().lower().split()) for h in header]
    found: dict[str, int] = {}
    for field, names in COLUMNS.items():
        for i, h in enumerate(normalised):
            if h in names:
                found[field] = i
                break
    missing = [LABELS[f] for f in REQUIRED if f not in found]
    if missing:
        raise ImportFileError(
            f"The file has no {', '.join(missing)} column. Expected columns: "
            + ", ".join(LABELS.values())
            + " (as in the NPI registry export)."
        )
    return found


def read_rows(content: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(content))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV: {exc}.") from None
    columns = _header_map(header)
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            cells = {f: (values[i].strip() if i < len(values) else "") for f, i in columns.items()}
            yield Row(number=number, **{f: cells.get(f, "") for f in COLUMNS})
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV near line {reader.line_num}: {exc}.") from None


def count_rows(content: str) -> int:
    return sum(1 for _ in read_rows(content))


def row_problems(row: Row, seen_npis: dict[str, int]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for field in REQUIRED:
        if not getattr(row, field):
            problems.append((LABELS[field], "Required."))
    if row.npi:
        if not (len(row.npi) == 10 and row.npi.isdigit()):
            problems.append(("NPI", f"{row.npi!r} is not 10 digits."))
        elif not is_valid_npi(row.npi):
            problems.append(("NPI", f"{row.npi} has a wrong check digit."))
        elif row.npi in seen_npis:
            problems.append(("NPI", f"{row.npi} also appears on row {seen_npis[row.npi]}."))
        else:
            seen_npis[row.npi] = row.number
    for field, limit in MAX_LENGTH.items():
        if len(getattr(row, field)) > limit:
            problems.append((LABELS[field], f"Longer than {limit} characters."))
    for field in LABELS:
        if getattr(row, field).startswith(FORMULA_PREFIXES):
            problems.append((LABELS[field], "Looks like a spreadsheet formula (starts with = + - or @): not imported."))
    if row.organisation and not row.city:
        problems.append(("City", "An organisation needs its city (institutions are told apart by name and city)."))
    return problems


def _progress_key(job_id: int) -> str:
    return f"physicians:import:{job_id}:processed"


def processed_rows(job: PhysicianImport) -> int:
    """Rows done so far: the cache during the import transaction, else the row."""
    if job.status == ImportStatus.IMPORTING:
        cached = cache.get(_progress_key(job.pk))
        if cached is not None:
            return int(cached)
    return job.processed_rows


def validate_import(job: PhysicianImport) -> PhysicianImport:
    """Check every row; record the report and what confirming would create or update. Writes no physician."""
    batch = conf.import_batch_size()
    errors: list[dict] = []
    error_count = 0
    valid_npis: list[str] = []
    seen: dict[str, int] = {}
    bad_rows = 0
    total = 0
    try:
        for row in read_rows(job.content):
            total += 1
            problems = row_problems(row, seen)
            if problems:
                bad_rows += 1
                error_count += len(problems)
                for column, problem in problems:
                    if len(errors) < MAX_REPORTED_ERRORS:
                        errors.append({"row": row.number, "column": column, "problem": problem})
            else:
                valid_npis.append(row.npi)
            if total % batch == 0:
                PhysicianImport.objects.filter(pk=job.pk).update(processed_rows=total)
    except ImportFileError as exc:
        job.status = ImportStatus.FAILED
        job.failure = str(exc)
        job.finished_at = timezone.now()
        job.save()
        return job
    existing = 0
    for start in range(0, len(valid_npis), batch):
        chunk = valid_npis[start : start + batch]
        existing += Physician.objects.filter(npi__in=chunk).count()
    job.total_rows = total
    job.processed_rows = total
    job.valid_rows = total - bad_rows
    job.error_count = error_count
    job.errors = errors
    job.to_update = existing
    job.to_create = len(valid_npis) - existing
    if total == 0:
        job.status = ImportStatus.FAILED
        job.failure = "The file has a header but no rows."
    else:
        job.status = ImportStatus.VALIDATED
    job.save()
    return job


def _institutions_for(rows: list[Row]) -> tuple[dict[tuple[str, str], int], int]:
    """(name, city) → id for the rows' organisations, creating the missing ones."""
    wanted = {(r.organisation, r.city): r.state for r in rows if r.organisation}
    if not wanted:
        return {}, 0
    names = {name for name, _ in wanted}
    found = {
        (name, city): pk
        for pk, name, city in Institution.objects.filter(name__in=names).values_list("id", "name", "city")
        if (name, city) in wanted
    }
    missing = [Institution(name=n, city=c, state=wanted[(n, c)]) for (n, c) in wanted if (n, c) not in found]
    if missing:
        Institution.objects.bulk_create(missing, ignore_conflicts=True)
        for pk, name, city in Institution.objects.filter(name__in={i.name for i in missing}).values_list(
            "id", "name", "city"
        ):
            if (name, city) in wanted:
                found[(name, city)] = pk
    return found, len(missing)


def _apply_batch(rows: list[Row]) -> tuple[int, int, int]:
    institutions, new_institutions = _institutions_for(rows)
    existing = {p.npi: p for p in Physician.objects.filter(npi__in=[r.npi for r in rows])}
    now = timezone.now()
    to_create: list[Physician] = []
    to_update: list[Physician] = []
    for r in rows:
        institution_id = institutions.get((r.organisation, r.city)) if r.organisation else None
        physician = existing.get(r.npi)
        if physician is None:
            to_create.append(
                Physician(
                    npi=r.npi,
                    first_name=r.first_name,
                    last_name=r.last_name,
                    credentials=r.credentials,
                    specialty=r.specialty,
                    institution_id=institution_id,
                )
            )
        else:
            physician.first_name = r.first_name
            physician.last_name = r.last_name
            if r.credentials:
                physician.credentials = r.credentials
            if r.specialty:
                physician.specialty = r.specialty
            if institution_id:
                physician.institution_id = institution_id
            physician.updated_at = now
            to_update.append(physician)
    Physician.objects.bulk_create(to_create)
    if to_update:
        _update_physicians(to_update)
    return len(to_create), len(to_update), new_institutions


UPDATED_FIELDS = ("first_name", "last_name", "credentials", "specialty", "institution", "updated_at")


def _update_physicians(physicians: list[Physician]) -> None:
    """One UPDATE ... FROM (VALUES ...) per batch on PostgreSQL; bulk_update elsewhere.

    bulk_update writes a CASE WHEN per column with a branch per row, which PostgreSQL walks for
    every row: on a 2,000-row batch that was a fifth of the import's update time.
    """
    if connection.vendor != "postgresql":
        Physician.objects.bulk_update(physicians, list(UPDATED_FIELDS), batch_size=500)
        return
    from psycopg2.extras import execute_values

    meta = Physician._meta
    columns = [meta.get_field(name).column for name in UPDATED_FIELDS]
    assignments = ", ".join(f'"{c}" = v."{c}"' for c in columns)
    sql = (
        f'UPDATE "{meta.db_table}" AS p SET {assignments} FROM (VALUES %s) AS v("id", '
        + ", ".join(f'"{c}"' for c in columns)
        + ') WHERE p."id" = v."id"'
    )
    template = "(%s::bigint, %s, %s, %s, %s, %s::bigint, %s::timestamptz)"
    rows = [
        (p.pk, p.first_name, p.last_name, p.credentials, p.specialty, p.institution_id, p.updated_at)
        for p in physicians
    ]
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, rows, template=template, page_size=len(rows))


def apply_import(job: PhysicianImport) -> PhysicianImport:
    """Write the valid rows of a validated import. All or nothing."""
    batch_size = conf.import_batch_size()
    created = updated = institutions = processed = 0
    try:
        with transaction.atomic():
            seen: dict[str, int] = {}
            batch: list[Row] = []
            for row in read_rows(job.content):
                processed += 1
                if not row_problems(row, seen):
                    batch.append(row)
                if len(batch) >= batch_size:
                    c, u, i = _apply_batch(batch)
                    created, updated, institutions = created + c, updated + u, institutions + i
                    batch = []
                    cache.set(_progress_key(job.pk), processed, 3600)
            if batch:
                c, u, i = _apply_batch(batch)
                created, updated, institutions = created + c, updated + u, institutions + i
    except Exception as exc:  # the transaction rolled back: say so on the import, then re-raise
        PhysicianImport.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, failure=f"Nothing was imported: {exc}", finished_at=timezone.now()
        )
        raise
    job.status = ImportStatus.DONE
    job.processed_rows = processed
    job.created_count = created
    job.updated_count = updated
    job.institutions_created = institutions
    job.finished_at = timezone.now()
    job.save()
    cache.delete(_progress_key(job.pk))
    return job
