"""A new referral warns of a patient on file who is almost the same: a similar name with the same
or a mistyped birth date, or the same phone number (issue 15). Of another team's patient the
nurse learns only that one exists; she links the referral to a patient she may see, or confirms
a new one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from patients import matching, services
from patients.choices import Stage
from patients.models import Case, Patient
from tests.factories import CaseFactory

BORN = dt.date(1980, 3, 12)


def _on_file(liaison, first="Aisha", last="Khan", born=BORN, phone="", mrn=None, **case) -> Patient:
    extra = {"patient__mrn": mrn} if mrn else {}
    return CaseFactory(
        assigned_liaison=liaison,
        patient__first_name=first,
        patient__last_name=last,
        patient__date_of_birth=born,
        patient__phone=phone,
        **extra,
        **case,
    ).patient


def _find(user, first="Aysha", last="Khan", born=BORN, phone="", mrn="NEW-1") -> services.Duplicates:
    return services.find_duplicates(
        user=user, mrn=mrn, first_name=first, last_name=last, date_of_birth=born, phone=phone
    )


def _referral(liaison, **overrides) -> dict:
    data = {
        "mrn": "MRN-NEW-1",
        "first_name": "Aysha",
        "last_name": "Khan",
        "date_of_birth": BORN.isoformat(),
        "sex": "female",
        "preferred_language": "English",
        "program": "Cardiac rehabilitation",
        "priority": "standard",
        "reason": "CHF",
        "referral_source_other": "Walk-in",
        "referral_received_at": "2026-01-05T10:00",
        "assigned_liaison": liaison.pk,
    }
    data.update(overrides)
    return data


# --- what matches ------------------------------------------------------------------------------


def test_aisha_matches_aysha(nurse):
    p = _on_file(nurse)
    found = _find(nurse, "Aysha", "Khan")
    assert found.candidates == [p] and not found.elsewhere
    assert found.candidates[0].match_reasons == ["similar name", matching.SAME_DATE]


def test_first_and_last_name_swapped_match(nurse):
    p = _on_file(nurse)
    assert _find(nurse, "Khan", "Aisha").candidates == [p]


def test_birth_day_and_month_swapped_match(nurse):
    p = _on_file(nurse)
    found = _find(nurse, born=dt.date(1980, 12, 3))
    assert found.candidates == [p]
    assert found.candidates[0].match_reasons == ["similar name", matching.DAY_MONTH_SWAPPED]


@pytest.mark.parametrize("typed", [dt.date(1980, 3, 13), dt.date(1989, 3, 12), dt.date(1980, 3, 2)])
def test_birth_date_one_digit_off_matches(nurse, typed):
    p = _on_file(nurse)
    found = _find(nurse, born=typed)
    assert found.candidates == [p]
    assert found.candidates[0].match_reasons == ["similar name", matching.ONE_DIGIT_OFF]


@pytest.mark.parametrize(
    ("on_file", "typed"),
    [
        (dt.date(1980, 9, 30), dt.date(1980, 10, 30)),  # 09 -> 10: two digits, one month
        (dt.date(1980, 12, 20), dt.date(1981, 1, 20)),  # over the new year
    ],
)
def test_birth_date_one_month_off_matches(nurse, on_file, typed):
    p = _on_file(nurse, born=on_file)
    found = _find(nurse, born=typed)
    assert found.candidates == [p]
    assert found.candidates[0].match_reasons == ["similar name", matching.ONE_MONTH_OFF]


def test_same_phone_with_a_different_name_matches(nurse):
    p = _on_file(nurse, phone="(617) 555-0100")
    found = _find(nurse, "Omar", "Haddad", born=dt.date(1961, 7, 1), phone="617.555.0100")
    assert found.candidates == [p] and found.candidates[0].match_reasons == ["same phone number"]


def test_a_clearly_different_person_is_not_warned(nurse):
    _on_file(nurse, phone="617-555-0100")
    # the same birth date, another name; a similar name, another birth date; another phone
    assert _find(nurse, "Grace", "Hopper") == services.Duplicates()
    assert _find(nurse, "Aysha", "Khan", born=dt.date(1955, 7, 1)) == services.Duplicates()
    assert _find(nurse, "Grace", "Hopper", phone="617-555-0199") == services.Duplicates()
    # a shared last name with another first name is another person, twins included
    assert _find(nurse, "Omar", "Khan") == services.Duplicates()
    # a few digits are no phone number to match on
    _on_file(nurse, "Zed", "Other", born=dt.date(1970, 1, 1), phone="0")
    assert _find(nurse, "Grace", "Hopper", born=dt.date(1990, 1, 1), phone="0") == services.Duplicates()


def test_birth_date_variants():
    variants = matching.birth_date_variants(dt.date(1980, 1, 31), today=dt.date(2026, 1, 1))
    assert variants[dt.date(1980, 1, 31)] == matching.SAME_DATE
    assert variants[dt.date(1980, 2, 29)] == matching.ONE_MONTH_OFF  # the month's last day
    assert variants[dt.date(1979, 12, 31)] == matching.ONE_MONTH_OFF
    assert variants[dt.date(1980, 1, 30)] == matching.ONE_DIGIT_OFF
    assert dt.date(1980, 1, 2) not in variants  # two digits off
    # no future and no impossible dates
    assert all(dt.date(1900, 1, 1) <= day <= dt.date(2026, 1, 1) for day in variants)
    assert matching.birth_date_variants(dt.date(1980, 3, 12))[dt.date(1980, 12, 3)] == matching.DAY_MONTH_SWAPPED


# --- the PostgreSQL path and the fallback ------------------------------------------------------

PAIRS = [
    ("Aisha Khan", "Aysha Khan"),
    ("Jon Smith", "John Smith"),
    ("Mary Smith", "John Smith"),
    ("Khan Aisha", "Aisha Khan"),
    ("Siobhan O'Brien", "Siobhan OBrien"),
    ("Aisha Li", "Aysha Li"),
    ("Grace Hopper", "Ada Lovelace"),
]


def test_fallback_similarity_thresholds():
    assert matching.trigram_similarity("Aisha Khan", "Aysha Khan") >= matching.NAME_SIMILARITY
    assert matching.trigram_similarity("Aisha Li", "aysha li") >= matching.NAME_SIMILARITY
    assert matching.trigram_similarity("Khan Aisha", "Aisha Khan") == 1.0
    assert matching.trigram_similarity("Mary Smith", "John Smith") < matching.NAME_SIMILARITY
    assert matching.trigram_similarity("Grace Hopper", "Ada Lovelace") < 0.1
    assert matching.trigram_similarity("", "") == 0.0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares with pg_trgm")
@pytest.mark.django_db
def test_fallback_similarity_is_pg_trgm_similarity():
    with connection.cursor() as cursor:
        for a, b in PAIRS:
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            assert matching.trigram_similarity(a, b) == pytest.approx(cursor.fetchone()[0], abs=1e-6), (a, b)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the pg_trgm path")
def test_postgresql_compares_names_in_the_query(nurse, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    p = _on_file(nurse)
    with CaptureQueriesContext(connection) as queries:
        assert _find(nurse).candidates == [p]
    assert "SIMILARITY(" in queries.captured_queries[0]["sql"].upper()
    monkeypatch.setattr(services, "_names_compared_in_sql", lambda: False)
    with CaptureQueriesContext(connection) as queries:
        assert _find(nurse).candidates == [p]
    assert "SIMILARITY(" not in queries.captured_queries[0]["sql"].upper()


def test_fallback_finds_what_the_database_finds(nurse, other_nurse, monkeypatch):
    """find_duplicates without pg_trgm (SQLite's path) answers as with it."""
    mine = [
        _on_file(nurse),
        _on_file(nurse, "Aysha", "Khan", born=dt.date(1980, 12, 3)),
        _on_file(nurse, "Omar", "Haddad", born=dt.date(1961, 7, 1), phone="+1 (617) 555-0100"),
    ]
    _on_file(nurse, "Grace", "Hopper")  # same birth date, another name
    _on_file(other_nurse, "Aysha", "Khan", born=dt.date(1980, 3, 13))

    def answer():
        found = _find(nurse, "Aysha", "Khan", phone="1 617 555 0100")
        return found, [(p.pk, p.match_reasons) for p in found.candidates]

    in_database = answer()
    monkeypatch.setattr(services, "_names_compared_in_sql", lambda: False)
    in_python = answer()
    assert in_python == in_database
    found, _ = in_python
    assert sorted(p.pk for p in found.candidates) == sorted(p.pk for p in mine) and found.elsewhere


# --- who learns what ---------------------------------------------------------------------------


def test_the_warning_shows_candidates_with_mrn_and_open_cases(nurse, client_for):
    p = _on_file(nurse, mrn="MRN-AK-1", program="Stroke unit")
    closed = CaseFactory(assigned_liaison=nurse, patient=p, program="Old wound care", stage=Stage.DISCHARGED)
    open_case = p.cases.get(stage=Stage.REFERRED)
    response = client_for(nurse).post(reverse("patients:referral_new"), _referral(nurse))
    body = response.content.decode()
    assert response.status_code == 422
    assert "may be the same person" in body and "Aisha Khan" in body and "MRN-AK-1" in body
    assert reverse("patients:case_detail", args=[open_case.pk]) in body and "Stroke unit" in body
    assert reverse("patients:case_detail", args=[closed.pk]) not in body and "Old wound care" not in body
    assert f'name="use_patient" value="{p.pk}"' in body and 'name="confirm_new"' in body


def test_a_manager_sees_the_candidates_of_the_teams_they_lead(nurse, manager):
    p = _on_file(nurse)
    assert _find(manager).candidates == [p]


def test_another_teams_match_shows_no_phi(nurse, other_nurse, client_for):
    theirs = _on_file(other_nurse, mrn="MRN-SECRET-77", phone="(617) 555-0142", program="Hidden programme")
    their_case = theirs.cases.get()
    found = _find(nurse, born=dt.date(1980, 12, 3))
    assert found == services.Duplicates(elsewhere=True)

    before = Patient.objects.count()
    response = client_for(nurse).post(reverse("patients:referral_new"), _referral(nurse, date_of_birth="1980-12-03"))
    body = response.content.decode()
    assert response.status_code == 422 and "A possible match exists in another team" in body
    for phi in ("Aisha", "MRN-SECRET-77", "1980-03-12", "555-0142", "Hidden programme"):
        assert phi not in body, phi
    assert reverse("patients:case_detail", args=[their_case.pk]) not in body
    assert "Use this patient" not in body and 'name="use_patient"' not in body
    assert Patient.objects.count() == before and Case.objects.count() == 1


def test_an_msl_is_refused_the_duplicate_check(msl, nurse):
    _on_file(nurse)
    with pytest.raises(PermissionDenied):
        _find(msl)


# --- link or confirm ---------------------------------------------------------------------------


def test_link_to_the_existing_patient_creates_no_patient(nurse, client_for):
    p = _on_file(nurse, phone="617-555-0100")
    client = client_for(nurse)
    data = _referral(nurse, first_name="Omar", last_name="Haddad", phone="6175550100")
    assert client.post(reverse("patients:referral_new"), data).status_code == 422
    response = client.post(reverse("patients:referral_new"), {**data, "use_patient": p.pk})
    assert response.status_code == 302
    assert Patient.objects.count() == 1 and p.cases.count() == 2
    new_case = p.cases.latest("pk")
    assert new_case.team == nurse.team and new_case.stage == Stage.REFERRED
    assert response["Location"] == reverse("patients:case_detail", args=[new_case.pk])
    p.refresh_from_db()
    assert p.first_name == "Aisha"  # the record on file is kept as it is


def test_confirm_new_creates_the_patient(nurse, client_for):
    p = _on_file(nurse)
    client = client_for(nurse)
    before = Patient.objects.count()
    assert client.post(reverse("patients:referral_new"), _referral(nurse)).status_code == 422
    assert Patient.objects.count() == before and Case.objects.count() == 1
    response = client.post(reverse("patients:referral_new"), {**_referral(nurse), "confirm_new": "on"})
    assert response.status_code == 302
    created = Patient.objects.get(mrn="MRN-NEW-1")
    assert created != p and created.first_name == "Aysha" and Patient.objects.count() == before + 1


def test_create_referral_refuses_a_likely_duplicate_unless_confirmed(nurse):
    _on_file(nurse)
    fields = {"mrn": "N-2", "first_name": "Aysha", "last_name": "Khan", "date_of_birth": BORN, "sex": "female"}
    case_fields = {"program": "Rehab", "reason": "x", "assigned_liaison": nurse}
    with pytest.raises(services.DuplicatePatientError) as refused:
        services.create_referral(by=nurse, patient_fields=fields, case_fields=case_fields)
    assert len(refused.value.duplicates.candidates) == 1 and not Patient.objects.filter(mrn="N-2").exists()
    case = services.create_referral(by=nurse, patient_fields=fields, case_fields=case_fields, confirm_new=True)
    assert case.patient.mrn == "N-2"
    # a taken MRN is refused even when confirmed: it is the same record
    with pytest.raises(services.DuplicatePatientError):
        services.create_referral(
            by=nurse, patient_fields={**fields, "mrn": "n-2"}, case_fields=case_fields, confirm_new=True
        )
    assert Patient.objects.count() == 2


# --- outsiders ---------------------------------------------------------------------------------


def test_an_msl_cannot_use_the_referral_form(msl, nurse, client_for):
    _on_file(nurse)
    client = client_for(msl)
    assert client.get(reverse("patients:referral_new")).status_code == 403
    response = client.post(reverse("patients:referral_new"), {**_referral(nurse), "confirm_new": "on"})
    assert response.status_code == 403 and Patient.objects.count() == 1 and Case.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_log_in(client_for):
    response = client_for(None).post(reverse("patients:referral_new"), {})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_nurse_of_another_team_cannot_link_to_a_patient_she_may_not_see(nurse, other_nurse, client_for):
    p = _on_file(nurse)
    client = client_for(other_nurse)
    assert client.get(reverse("patients:referral_new"), {"patient": p.pk}).status_code == 404
    response = client.post(reverse("patients:referral_new"), {**_referral(other_nurse), "use_patient": p.pk})
    assert response.status_code == 422 and "not one of your team" in response.content.decode()
    assert p.cases.count() == 1 and Patient.objects.count() == 1


# --- queries -----------------------------------------------------------------------------------


def test_the_duplicate_check_reads_two_queries_whatever_the_candidates(nurse, other_nurse, django_assert_num_queries):
    _on_file(nurse)
    with django_assert_num_queries(2):  # the matching patients of every team; their open cases
        assert len(_find(nurse).candidates) == 1
    for i in range(5):
        p = _on_file(nurse, born=dt.date(1980, 3, 12 + i), phone="617-555-0100")
        CaseFactory(assigned_liaison=nurse, patient=p)
        _on_file(other_nurse, born=dt.date(1980, 3, 12 + i))
    with django_assert_num_queries(2):
        found = _find(nurse, phone="617 555 0100")
        assert len(found.candidates) == 6 and found.elsewhere
        assert all(p.open_cases for p in found.candidates)
    with django_assert_num_queries(1):  # nothing found: no cases to read
        assert _find(nurse, "Grace", "Hopper", born=dt.date(1931, 1, 1)) == services.Duplicates()


def test_the_warning_page_reads_a_constant_number_of_queries(
    nurse, client_for, django_assert_max_num_queries, django_assert_num_queries
):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    client = client_for(nurse)
    _on_file(nurse)
    client.post(reverse("patients:referral_new"), _referral(nurse))  # the first request warms caches
    with CaptureQueriesContext(conn) as one:
        assert client.post(reverse("patients:referral_new"), _referral(nurse)).status_code == 422
    for i in range(1, 6):
        _on_file(nurse, born=dt.date(1980, 3, 12 + i))
    with django_assert_num_queries(len(one)):
        response = client.post(reverse("patients:referral_new"), _referral(nurse))
    assert response.status_code == 422 and len(response.context["dupes"].candidates) == 6
    # session, user, the chosen liaison, the service's savepoint (3: open, rollback, release),
    # its liaison check, the duplicate check (2), the teams through which the candidates are
    # seen and the PHI access entry naming them, the liaison picker's options
    with django_assert_max_num_queries(12):
        client.post(reverse("patients:referral_new"), _referral(nurse))


# --- the warning is a PHI access ---------------------------------------------------------------


def test_the_warning_that_names_candidates_is_an_audited_access(nurse, client_for):
    from auditlog.models import LogEntry

    p = _on_file(nurse, mrn="MRN-AK-9")
    response = client_for(nurse).post(reverse("patients:referral_new"), _referral(nurse))
    assert response.status_code == 422 and "MRN-AK-9" in response.content.decode()
    (entry,) = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert entry.actor == nurse
    assert entry.additional_data["kind"] == "referral"
    assert set(entry.additional_data["patients"]) == {str(p.pk)}
    assert entry.additional_data["teams"].keys() == {str(nurse.team_id)}


def test_a_match_in_another_team_shows_nothing_and_logs_nothing(nurse, other_nurse, client_for):
    from auditlog.models import LogEntry

    _on_file(other_nurse)
    response = client_for(nurse).post(reverse("patients:referral_new"), _referral(nurse, date_of_birth="1980-12-03"))
    assert response.status_code == 422
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()
