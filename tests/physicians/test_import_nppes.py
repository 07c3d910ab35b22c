"""NPPES files as CMS publishes them: the data dissemination CSV and a saved Registry API answer.

Fixtures are built here, small, with the real NPPES header names (the dissemination file's
column order, a subset of its 330 columns) and the Registry API v2.1 answer's shape.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from physicians import importer, services, taxonomy
from physicians.models import ImportStatus, Institution, Physician, PhysicianImport
from physicians.npi import make_npi
from tests.factories import PhysicianFactory

pytestmark = pytest.mark.django_db

# The NPPES data dissemination file's columns, in its order (the ones around what we read).
NPPES_HEADER = [
    "NPI",
    "Entity Type Code",
    "Replacement NPI",
    "Employer Identification Number (EIN)",
    "Provider Organization Name (Legal Business Name)",
    "Provider Last Name (Legal Name)",
    "Provider First Name",
    "Provider Middle Name",
    "Provider Name Prefix Text",
    "Provider Name Suffix Text",
    "Provider Credential Text",
    "Provider First Line Business Mailing Address",
    "Provider Second Line Business Mailing Address",
    "Provider Business Mailing Address City Name",
    "Provider Business Mailing Address State Name",
    "Provider Business Mailing Address Postal Code",
    "Provider First Line Business Practice Location Address",
    "Provider Second Line Business Practice Location Address",
    "Provider Business Practice Location Address City Name",
    "Provider Business Practice Location Address State Name",
    "Provider Business Practice Location Address Postal Code",
    "Provider Enumeration Date",
    "Last Update Date",
    "NPI Deactivation Reason Code",
    "NPI Deactivation Date",
    "NPI Reactivation Date",
    "Provider Sex Code",
] + [
    column
    for n in range(1, 16)
    for column in (
        f"Healthcare Provider Taxonomy Code_{n}",
        f"Provider License Number_{n}",
        f"Provider License Number State Code_{n}",
        f"Healthcare Provider Primary Taxonomy Switch_{n}",
    )
]

ADA, ALAN, GRACE, EDSGER = (make_npi(510000000 + k) for k in range(4))


def nppes_row(npi: str, taxonomies: list[tuple[str, str]] = (), **cells: str) -> dict[str, str]:
    """One row of the file: `cells` by header name, `taxonomies` as (code, primary switch)."""
    row = {"NPI": npi, **cells}
    for n, (code, switch) in enumerate(taxonomies, start=1):
        row[f"Healthcare Provider Taxonomy Code_{n}"] = code
        row[f"Healthcare Provider Primary Taxonomy Switch_{n}"] = switch
    return row


def individual(npi: str, first: str, last: str, taxonomies=(("207Q00000X", "Y"),), **cells: str) -> dict[str, str]:
    return nppes_row(
        npi,
        list(taxonomies),
        **{
            "Entity Type Code": "1",
            "Provider First Name": first,
            "Provider Last Name (Legal Name)": last,
            "Provider Credential Text": "M.D.",
            "Provider Enumeration Date": "05/23/2005",
            "Last Update Date": "07/08/2024",
            **cells,
        },
    )


def nppes_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=NPPES_HEADER, quoting=csv.QUOTE_ALL)  # as CMS quotes every cell
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(client, content: bytes, name: str = "npidata_pfile_20050523-20250713.csv", content_type="text/csv"):
    return client.post("/physicians/import/", {"file": SimpleUploadedFile(name, content, content_type=content_type)})


def uploaded(client, content: bytes, **kwargs) -> PhysicianImport:
    response = upload(client, content, **kwargs)
    assert response.status_code == 302, response.content.decode()[:2000]
    return PhysicianImport.objects.get()


def problems(job: PhysicianImport) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for e in job.errors:
        found.setdefault(e["row"], []).append((e["column"], e["problem"]))
    return found


# --- the NUCC code set shipped in the repository --------------------------------------------------


def test_the_shipped_nucc_code_set_names_the_physician_taxonomies():
    codes = taxonomy.codes()
    assert len(codes) == 238
    assert {t.grouping for t in codes.values()} == {"Allopathic & Osteopathic Physicians"}
    assert all(taxonomy.is_code_shaped(code) and code.startswith("20") for code in codes)
    assert codes["207Q00000X"] == (
        "207Q00000X",
        "Allopathic & Osteopathic Physicians",
        "Family Medicine",
        "",
        "Family Medicine Physician",
    )
    cardiology = codes["207RC0000X"]
    assert (cardiology.classification, cardiology.specialization, cardiology.display_name) == (
        "Internal Medicine",
        "Cardiovascular Disease",
        "Cardiovascular Disease Physician",
    )
    assert codes["2084P0800X"].display_name == "Psychiatry Physician"
    assert codes["207RE0101X"].specialization == "Endocrinology, Diabetes & Metabolism"  # a comma, quoted
    assert taxonomy.lookup("363L00000X") is None  # a nurse practitioner: not a physician code


# --- specialty from the primary taxonomy ----------------------------------------------------------


def test_the_specialty_is_the_primary_taxonomy_named_by_nucc_and_the_code_is_kept(msl, client_for):
    row = individual(ADA, "Ada", "Lovelace", taxonomies=[("207Q00000X", "N"), ("207RC0000X", "Y"), ("208D00000X", "N")])
    client = client_for(msl)
    job = uploaded(client, nppes_csv([row]))
    assert job.status == ImportStatus.VALIDATED, job.failure
    client.post(f"/physicians/import/{job.pk}/confirm/")
    ada = Physician.objects.get(npi=ADA)
    assert (ada.specialty, ada.taxonomy_code) == ("Cardiovascular Disease Physician", "207RC0000X")
    page = client.get(f"/physicians/{ada.pk}/").content.decode()
    assert "Cardiovascular Disease Physician" in page and "207RC0000X" in page


def test_with_no_primary_switch_the_first_taxonomy_listed_names_the_specialty():
    content = nppes_csv(
        [individual(ADA, "Ada", "Lovelace", taxonomies=[("", ""), ("2084P0800X", "X"), ("207Q00000X", "N")])]
    )
    (row,) = importer.read_rows(content.decode())
    assert (row.taxonomy_code, row.specialty) == ("2084P0800X", "Psychiatry Physician")


def test_a_taxonomy_outside_the_physician_code_set_is_kept_and_a_malformed_one_is_reported(msl, client_for):
    rows = [
        individual(ADA, "Ada", "Lovelace", taxonomies=[("363L00000X", "Y")]),
        individual(ALAN, "Alan", "Turing", taxonomies=[("CARDIOLOGY", "Y")]),
    ]
    client = client_for(msl)
    job = uploaded(client, nppes_csv(rows))
    assert problems(job) == {
        3: [("Taxonomy code", "'CARDIOLOGY' is not a NUCC taxonomy code (ten characters ending in X).")]
    }
    client.post(f"/physicians/import/{job.pk}/confirm/")
    ada = Physician.objects.get(npi=ADA)
    assert (ada.taxonomy_code, ada.specialty) == ("363L00000X", "")
    assert not Physician.objects.filter(npi=ALAN).exists()


def test_a_taxonomy_code_in_a_simple_files_specialty_column_is_named_too():
    content = f"NPI,First name,Last name,Specialty\n{ADA},Ada,Lovelace,207rc0000x\n{ALAN},Alan,Turing,Cardiology\n"
    ada, alan = importer.read_rows(content)
    assert (ada.taxonomy_code, ada.specialty) == ("207RC0000X", "Cardiovascular Disease Physician")
    assert (alan.taxonomy_code, alan.specialty) == ("", "Cardiology")  # a name stays a name


# --- practice location ----------------------------------------------------------------------------


def test_the_practice_location_is_imported_not_the_mailing_address(msl, client_for):
    row = individual(
        ADA,
        "Ada",
        "Lovelace",
        **{
            "Provider First Line Business Mailing Address": "PO BOX 99",
            "Provider Business Mailing Address City Name": "WORCESTER",
            "Provider Business Mailing Address State Name": "MA",
            "Provider Business Mailing Address Postal Code": "016099999",
            "Provider First Line Business Practice Location Address": "55 FRUIT ST",
            "Provider Second Line Business Practice Location Address": "SUITE 200",
            "Provider Business Practice Location Address City Name": "BOSTON",
            "Provider Business Practice Location Address State Name": "MA",
            "Provider Business Practice Location Address Postal Code": "021142621",
        },
    )
    client = client_for(msl)
    job = uploaded(client, nppes_csv([row]))
    client.post(f"/physicians/import/{job.pk}/confirm/")
    ada = Physician.objects.get(npi=ADA)
    assert (ada.practice_address, ada.practice_city, ada.practice_state, ada.practice_postal_code) == (
        "55 FRUIT ST",
        "Boston",
        "MA",
        "02114-2621",
    )
    assert ada.institution is None and not Institution.objects.exists()  # no organisation, no institution
    assert "55 FRUIT ST, Boston, MA 02114-2621" in client.get(f"/physicians/{ada.pk}/").content.decode()


def test_an_update_replaces_the_location_and_taxonomy_and_keeps_what_the_file_does_not_know(msl, client_for):
    existing = PhysicianFactory(
        npi=ADA,
        specialty="Family medicine",
        owner=msl,
        kol_tier=1,
        practice_address="1 Old Rd",
        practice_city="Salem",
        practice_state="MA",
        practice_postal_code="01970",
    )
    row = individual(
        ADA,
        "ADA",
        "LOVELACE",
        taxonomies=[("207RC0000X", "Y")],
        **{
            "Provider First Line Business Practice Location Address": "55 Fruit St",
            "Provider Business Practice Location Address City Name": "Boston",
        },
    )
    client = client_for(msl)
    job = uploaded(client, nppes_csv([row]))
    client.post(f"/physicians/import/{job.pk}/confirm/")
    existing.refresh_from_db()
    assert (existing.first_name, existing.last_name, existing.specialty, existing.taxonomy_code) == (
        "Ada",
        "Lovelace",
        "Cardiovascular Disease Physician",
        "207RC0000X",
    )
    # The location moves as one: no state or postal code of the old address is left behind.
    assert (
        existing.practice_address,
        existing.practice_city,
        existing.practice_state,
        existing.practice_postal_code,
    ) == (
        "55 Fruit St",
        "Boston",
        "",
        "",
    )
    assert (existing.owner, existing.kol_tier) == (msl, 1)


def test_a_formula_in_the_practice_address_is_reported_and_not_imported(msl, client_for):
    row = individual(
        ADA, "Ada", "Lovelace", **{"Provider First Line Business Practice Location Address": "=HYPERLINK(1)"}
    )
    job = uploaded(client_for(msl), nppes_csv([row]))
    assert [c for c, _ in problems(job)[2]] == ["Practice address"]
    assert job.valid_rows == 0 and not Physician.objects.exists()


# --- organisations and deactivated NPIs ------------------------------------------------------------


def test_organisation_rows_are_reported_as_not_physicians_and_write_nothing(msl, client_for):
    clinic = nppes_row(
        ALAN,
        [("261QM1300X", "Y")],
        **{
            "Entity Type Code": "2",
            "Provider Organization Name (Legal Business Name)": "MERCY MULTI-SPECIALTY CLINIC LLC",
            "Provider Business Practice Location Address City Name": "BOSTON",
        },
    )
    client = client_for(msl)
    job = uploaded(client, nppes_csv([individual(ADA, "Ada", "Lovelace"), clinic]))
    assert problems(job) == {3: [("Entity Type Code", "Organisation, not a physician (entity type 2): not imported.")]}
    assert (job.valid_rows, job.to_create) == (1, 1)
    client.post(f"/physicians/import/{job.pk}/confirm/")
    assert list(Physician.objects.values_list("npi", flat=True)) == [ADA]
    assert not Institution.objects.exists()


def test_a_deactivated_npi_is_reported_as_deactivated_not_as_a_missing_name(msl, client_for):
    # In the dissemination file a deactivated NPI's row holds its NPI and dates, nothing else.
    deactivated = nppes_row(ADA, **{"NPI Deactivation Reason Code": "", "NPI Deactivation Date": "05/14/2019"})
    reactivated = individual(
        ALAN, "Alan", "Turing", **{"NPI Deactivation Date": "05/14/2019", "NPI Reactivation Date": "06/01/2020"}
    )
    still_off = individual(
        GRACE, "Grace", "Hopper", **{"NPI Deactivation Date": "03/01/2021", "NPI Reactivation Date": "06/01/2020"}
    )
    client = client_for(msl)
    job = uploaded(client, nppes_csv([deactivated, reactivated, still_off]))
    assert problems(job) == {
        2: [("NPI Deactivation Date", f"NPI {ADA} was deactivated on 2019-05-14: not imported.")],
        4: [("NPI Deactivation Date", f"NPI {GRACE} was deactivated on 2021-03-01: not imported.")],
    }
    page = client.get(f"/physicians/import/{job.pk}/").content.decode()
    assert "was deactivated on 2019-05-14" in page and "Required." not in page
    client.post(f"/physicians/import/{job.pk}/confirm/")
    assert list(Physician.objects.values_list("npi", flat=True)) == [ALAN]


def test_an_unreadable_deactivation_date_is_reported():
    row = importer.Row(number=2, npi=ADA, first_name="Ada", last_name="Lovelace", deactivation_date="2019/14/05")
    assert importer.row_problems(row, {}) == [("NPI Deactivation Date", "'2019/14/05' is not a date (MM/DD/YYYY).")]


# --- names in capitals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("MCDONALD", "McDonald"),
        ("O'BRIEN", "O'Brien"),
        ("SMITH-JONES", "Smith-Jones"),
        ("MARY ANN", "Mary Ann"),
        ("DE LA CRUZ III", "De La Cruz III"),
        ("ÉLODIE", "Élodie"),
        ("McDonald", "McDonald"),  # mixed case is left as given
        ("DeVito", "DeVito"),
        ("van der Berg", "van der Berg"),
        ("MC", "Mc"),
    ],
)
def test_names_in_capitals_get_proper_case(given, expected):
    assert importer.proper_case(given) == expected


def test_an_nppes_file_in_capitals_is_imported_in_proper_case(msl, client_for):
    row = individual(
        ADA,
        "MARY-KATE",
        "O'BRIEN-MCDONALD",
        **{"Provider Business Practice Location Address City Name": "SAN FRANCISCO"},
    )
    client = client_for(msl)
    job = uploaded(client, nppes_csv([row, individual(ALAN, "Jean", "DeVito")]))
    client.post(f"/physicians/import/{job.pk}/confirm/")
    names = dict(Physician.objects.values_list("npi", "last_name"))
    assert names == {ADA: "O'Brien-McDonald", ALAN: "DeVito"}
    ada = Physician.objects.get(npi=ADA)
    assert (ada.first_name, ada.practice_city) == ("Mary-Kate", "San Francisco")


# --- no valid row; added, updated and rejected ----------------------------------------------------


def test_a_file_with_no_valid_row_is_never_ready_to_import(msl, client_for):
    rows = [
        nppes_row(ADA, **{"NPI Deactivation Date": "05/14/2019"}),
        nppes_row(ALAN, **{"Entity Type Code": "2", "Provider Organization Name (Legal Business Name)": "ACME LLC"}),
        individual("1234567890", "Bad", "Check"),
    ]
    client = client_for(msl)
    job = uploaded(client, nppes_csv(rows))
    assert job.status == ImportStatus.FAILED and job.valid_rows == 0
    assert job.failure.startswith("No row can be imported: all 3 rows have problems")
    page = client.get(f"/physicians/import/{job.pk}/").content.decode()
    assert "Ready to import" not in page and "valid row" not in page and "/confirm/" not in page
    assert "wrong check digit" in page and "Organisation, not a physician" in page  # the report is still there
    recent = client.get("/physicians/import/").content.decode()
    assert "Failed" in recent and "Ready to import" not in recent
    with pytest.raises(Exception, match="no valid rows"):
        services.confirm_import(job=job, user=msl)
    assert client.post(f"/physicians/import/{job.pk}/confirm/").status_code == 302
    assert not Physician.objects.exists() and not Institution.objects.exists()


@pytest.mark.parametrize("size", [2, 20])
def test_a_failed_reports_page_issues_the_same_queries_whatever_its_size(
    size, msl, client_for, django_assert_num_queries
):
    from tests.physicians.test_queries import BASE

    rows = [nppes_row(make_npi(530000000 + k), **{"NPI Deactivation Date": "01/01/2020"}) for k in range(size)]
    job = uploaded(client_for(msl), nppes_csv(rows))
    assert job.status == ImportStatus.FAILED
    client = client_for(msl)
    with django_assert_num_queries(BASE + 1):  # the import row (its report is a JSON column)
        page = client.get(f"/physicians/import/{job.pk}/").content.decode()
    assert page.count("was deactivated on 2020-01-01") == size


def test_another_users_failed_import_is_404(msl, msl_teammate, nurse, client_for):
    job = uploaded(client_for(msl), nppes_csv([nppes_row(ADA, **{"NPI Deactivation Date": "01/01/2020"})]))
    assert client_for(msl_teammate).get(f"/physicians/import/{job.pk}/").status_code == 404
    assert client_for(nurse).get(f"/physicians/import/{job.pk}/").status_code == 403


def test_the_summary_counts_added_updated_and_rejected_rows_apart(msl, client_for):
    PhysicianFactory(npi=ADA, first_name="Old")
    rows = [
        individual(ADA, "Ada", "Lovelace"),  # known NPI: updated
        individual(ALAN, "Alan", "Turing"),  # new NPI: added
        individual(GRACE, "Grace", "Hopper"),  # new NPI: added
        nppes_row(EDSGER, **{"NPI Deactivation Date": "01/01/2020"}),  # rejected
    ]
    client = client_for(msl)
    job = uploaded(client, nppes_csv(rows))
    assert (job.to_create, job.to_update, job.invalid_rows) == (2, 1, 1)
    report = client.get(f"/physicians/import/{job.pk}/").content.decode()
    assert 'data-testid="to-create">2<' in report
    assert 'data-testid="to-update">1<' in report
    assert 'data-testid="rejected">1<' in report
    response = client.post(f"/physicians/import/{job.pk}/confirm/", follow=True)
    job.refresh_from_db()
    assert (job.created_count, job.updated_count, job.invalid_rows) == (2, 1, 1)
    page = response.content.decode()
    assert "Imported 3 of 4 rows: 2 physicians added, 1 updated, 1 rejected" in page
    assert "2 physicians added, 1 updated, 1 rows rejected" in page  # the confirmation message
    assert Physician.objects.count() == 3


# --- a saved NPPES Registry API answer (JSON) -----------------------------------------------------


def registry_answer() -> dict:
    return {
        "result_count": 3,
        "results": [
            {
                "created_epoch": "1116806400000",
                "enumeration_type": "NPI-1",
                "last_updated_epoch": "1720396800000",
                "number": ADA,
                "addresses": [
                    {
                        "country_code": "US",
                        "country_name": "United States",
                        "address_purpose": "MAILING",
                        "address_type": "DOM",
                        "address_1": "PO BOX 99",
                        "city": "WORCESTER",
                        "state": "MA",
                        "postal_code": "016099999",
                        "telephone_number": "508-555-0100",
                    },
                    {
                        "country_code": "US",
                        "country_name": "United States",
                        "address_purpose": "LOCATION",
                        "address_type": "DOM",
                        "address_1": "55 FRUIT ST",
                        "address_2": "SUITE 200",
                        "city": "BOSTON",
                        "state": "MA",
                        "postal_code": "021142621",
                        "telephone_number": "617-555-0100",
                    },
                ],
                "practiceLocations": [],
                "basic": {
                    "first_name": "ADA",
                    "last_name": "MCDONALD",
                    "middle_name": "K",
                    "credential": "MD",
                    "sole_proprietor": "NO",
                    "sex": "F",
                    "enumeration_date": "2005-05-23",
                    "last_updated": "2024-07-08",
                    "status": "A",
                },
                "taxonomies": [
                    {
                        "code": "207R00000X",
                        "taxonomy_group": "",
                        "desc": "Internal Medicine",
                        "state": "MA",
                        "license": "123",
                        "primary": False,
                    },
                    {
                        "code": "207RC0000X",
                        "taxonomy_group": "",
                        "desc": "Internal Medicine, Cardiovascular Disease",
                        "state": "MA",
                        "license": "123",
                        "primary": True,
                    },
                ],
                "identifiers": [],
                "endpoints": [],
                "other_names": [],
            },
            {
                "enumeration_type": "NPI-2",
                "number": ALAN,
                "addresses": [
                    {
                        "address_purpose": "LOCATION",
                        "address_1": "1 MAIN ST",
                        "city": "BOSTON",
                        "state": "MA",
                        "postal_code": "02114",
                    }
                ],
                "basic": {"organization_name": "MERCY CLINIC LLC", "organizational_subpart": "NO", "status": "A"},
                "taxonomies": [{"code": "261QM1300X", "desc": "Clinic/Center, Multi-Specialty", "primary": True}],
            },
            {
                "enumeration_type": "NPI-1",
                "number": GRACE,
                "addresses": [],
                "basic": {
                    "first_name": "GRACE",
                    "last_name": "HOPPER",
                    "status": "D",
                    "deactivation_date": "2021-03-01",
                },
                "taxonomies": [],
            },
        ],
    }


def test_a_saved_registry_answer_is_imported(msl, client_for):
    client = client_for(msl)
    job = uploaded(
        client, json.dumps(registry_answer()).encode(), name="npi-registry.json", content_type="application/json"
    )
    assert job.status == ImportStatus.VALIDATED, job.failure
    assert problems(job) == {
        2: [("Entity Type Code", "Organisation, not a physician (entity type 2): not imported.")],
        3: [("NPI Deactivation Date", f"NPI {GRACE} was deactivated on 2021-03-01: not imported.")],
    }
    assert (job.total_rows, job.to_create, job.invalid_rows) == (3, 1, 2)
    client.post(f"/physicians/import/{job.pk}/confirm/")
    ada = Physician.objects.get()
    assert (ada.npi, ada.first_name, ada.last_name, ada.credentials) == (ADA, "Ada", "McDonald", "MD")
    assert (ada.taxonomy_code, ada.specialty) == ("207RC0000X", "Cardiovascular Disease Physician")
    assert (ada.practice_address, ada.practice_city, ada.practice_state, ada.practice_postal_code) == (
        "55 FRUIT ST",
        "Boston",
        "MA",
        "02114-2621",
    )
    assert not Institution.objects.exists()


def test_a_registry_answer_is_recognised_by_its_content_whatever_its_name(msl, client_for):
    answer = registry_answer()
    answer["results"] = answer["results"][:1]
    job = uploaded(client_for(msl), json.dumps(answer, indent=2).encode(), name="export.txt")
    assert (job.status, job.valid_rows) == (ImportStatus.VALIDATED, 1)


def test_an_unknown_taxonomy_keeps_the_registry_description():
    answer = registry_answer()
    answer["results"][0]["taxonomies"] = [{"code": "363L00000X", "desc": "Nurse Practitioner", "primary": True}]
    (row, *_) = importer.read_rows(json.dumps(answer), "answer.json")
    assert (row.taxonomy_code, row.specialty) == ("363L00000X", "Nurse Practitioner")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"result_count": 0}', 'not an NPPES Registry API answer: expected an object with a "results" list'),
        (b'[{"number": "1234567893"}]', "not an NPPES Registry API answer"),
        (b'{"results": [1, 2]}', "Result 1 is not a provider record"),
        (b'{"results": [{"name": "x"}]}', "Result 1 is not a provider record"),
        (b'{"results": [{"number": ', "not valid JSON"),
        (
            b'{"Errors": [{"description": "No valid search criteria entered", "field": "generic", "number": "04"}]}',
            "an NPPES Registry error answer, with no providers: No valid search criteria entered",
        ),
    ],
    ids=["no-results", "a-list", "results-not-objects", "results-not-providers", "truncated", "api-error"],
)
def test_a_json_file_that_is_not_a_registry_answer_gets_a_clear_error_and_writes_nothing(
    msl, client_for, content, message
):
    response = upload(client_for(msl), content, name="answer.json", content_type="application/json")
    assert response.status_code == 422
    assert message in response.content.decode().replace("&quot;", '"'), response.content.decode()[:3000]
    assert not PhysicianImport.objects.exists() and not Physician.objects.exists()


def test_a_registry_answer_with_no_results_is_never_ready_to_import(msl, client_for):
    job = uploaded(client_for(msl), b'{"result_count": 0, "results": []}', name="answer.json")
    assert (job.status, job.failure) == (ImportStatus.FAILED, "The registry answer has no results.")


# --- large files: the worker path streams the same rows ----------------------------------------


def test_a_large_nppes_file_goes_through_the_worker_with_the_same_rules(
    msl, client_for, settings, django_capture_on_commit_callbacks
):
    settings.PHYSICIAN_IMPORT_ASYNC_ROWS = 5
    settings.PHYSICIAN_IMPORT_BATCH_SIZE = 4
    rows = [
        individual(make_npi(520000000 + k), "FIRST", f"LAST{k}", taxonomies=[("207Q00000X", "N"), ("2084P0800X", "Y")])
        for k in range(10)
    ]
    rows.append(
        nppes_row(
            make_npi(520000099), **{"Entity Type Code": "2", "Provider Organization Name (Legal Business Name)": "X"}
        )
    )
    client = client_for(msl)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, nppes_csv(rows))
    job = PhysicianImport.objects.get()
    assert (job.status, job.valid_rows, job.invalid_rows) == (ImportStatus.VALIDATED, 10, 1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/physicians/import/{job.pk}/confirm/")
    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportStatus.DONE, 10)
    assert set(Physician.objects.values_list("first_name", "specialty", "taxonomy_code")) == {
        ("First", "Psychiatry Physician", "2084P0800X")
    }
