"""The REST API's patients and cases, read: scope, fields, the worklist's filters, constant query
counts, and the PHI audit (one ACCESS entry per response that shows patient data, none for a
refusal). Writes: test_api_writes.py; documents: test_api_documents.py."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from patients import services
from patients.choices import AccessKind, Stage
from tests.factories import CaseFactory, PatientFactory

from .conftest import complete_evaluation
from .test_queries import _worklist_rows

pytestmark = pytest.mark.django_db

CASES, PATIENTS = "/api/v1/cases/", "/api/v1/patients/"
# Every token request: the token with its user (its last use is written at most once a minute:
# not on these warmed-up requests).
PER_REQUEST = 1


def access_entries():
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("id")


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# --- patients ---------------------------------------------------------------------------------


def test_patients_list_and_detail(nurse, case, other_case, api_for):
    patient = case.patient
    patient.phone, patient.interpreter_needed = "555-0100", True
    patient.save()
    api = api_for(nurse)
    response = api.get(PATIENTS)
    assert response.status_code == 200
    assert ids(response) == [patient.pk]  # not the other team's patient
    response = api.get(f"{PATIENTS}{patient.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["mrn"] == patient.mrn
    assert (body["first_name"], body["last_name"]) == ("Ada", "Lovelace")
    assert body["date_of_birth"] == "1950-05-17"
    assert (body["phone"], body["interpreter_needed"]) == ("555-0100", True)
    assert body["cases"] == [case.pk]


def test_a_patient_lists_only_the_cases_the_user_sees(nurse, case, other_nurse, api_for):
    elsewhere = CaseFactory(patient=case.patient, assigned_liaison=other_nurse)
    assert api_for(nurse).get(f"{PATIENTS}{case.patient_id}/").json()["cases"] == [case.pk]
    assert api_for(other_nurse).get(f"{PATIENTS}{case.patient_id}/").json()["cases"] == [elsewhere.pk]


def test_patients_outsiders(msl, other_nurse, case, api_for):
    before = access_entries().count()
    assert api_for(other_nurse).get(f"{PATIENTS}{case.patient_id}/").status_code == 404
    assert api_for(other_nurse).get(PATIENTS).json()["results"] == []
    assert api_for(msl).get(PATIENTS).status_code == 403
    assert api_for(msl).get(f"{PATIENTS}{case.patient_id}/").status_code == 403
    assert access_entries().count() == before  # nothing was shown


@pytest.mark.parametrize("rows", [2, 12])
def test_patients_list_query_count(rows, nurse, api_for, django_assert_num_queries):
    for _ in range(rows):
        CaseFactory(assigned_liaison=nurse, patient=PatientFactory())
    api = api_for(nurse)
    api.get(PATIENTS)  # warm caches (content types)
    # + the patients page, their cases this user sees, the ACCESS insert
    with django_assert_num_queries(PER_REQUEST + 3):
        response = api.get(PATIENTS)
    assert len(response.json()["results"]) == rows


def test_patients_audit(nurse, case, api_for):
    second = CaseFactory(assigned_liaison=nurse)
    api = api_for(nurse)
    api.get(PATIENTS)
    (entry,) = access_entries()
    data = entry.additional_data
    assert data["kind"] == AccessKind.API == "api"
    assert data["patients"] == {str(case.patient_id): [case.pk], str(second.patient_id): [second.pk]}
    assert entry.actor == nurse
    api.get(f"{PATIENTS}{case.patient_id}/")
    entry = access_entries().last()
    assert (entry.object_pk, entry.additional_data["patient_id"]) == (str(case.patient_id), case.patient_id)
    assert access_entries().count() == 2


# --- cases: list ------------------------------------------------------------------------------


def test_cases_list_fields(nurse, case, other_case, api_for):
    case.priority, case.expected_admission_date = "urgent", dt.date(2030, 1, 2)
    case.save()
    response = api_for(nurse).get(CASES)
    assert response.status_code == 200
    (row,) = response.json()["results"]  # not the other team's case
    assert row["id"] == case.pk
    assert row["patient"] == {
        "id": case.patient_id,
        "mrn": case.patient.mrn,
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    assert (row["stage"], row["priority"], row["version"]) == ("referred", "urgent", 1)
    assert row["assigned_liaison"] == {"id": nurse.pk, "name": str(nurse)}
    assert row["team"] == nurse.team_id
    assert row["expected_admission_date"] == "2030-01-02"
    assert row["next_step"] == "start the evaluation"
    assert row["is_overdue"] is False
    assert row["length_of_stay_days"] is None


def test_cases_list_uses_the_worklist_filters(nurse, nurse_teammate, manager, case, api_for):
    mate = CaseFactory(assigned_liaison=nurse_teammate, patient__last_name="Babbage")
    done = CaseFactory(assigned_liaison=nurse, patient__last_name="Curie")
    services.cancel(case=done, by=nurse)
    api = api_for(nurse)
    # As on the worklist: a liaison's own open cases by default.
    assert ids(api.get(CASES)) == [case.pk]
    assert set(ids(api.get(CASES, {"scope": "team"}))) == {case.pk, mate.pk}
    assert set(ids(api.get(CASES, {"scope": "team", "stage": "all"}))) == {case.pk, mate.pk, done.pk}
    assert ids(api.get(CASES, {"stage": "cancelled"})) == [done.pk]
    assert ids(api.get(CASES, {"scope": "team", "q": "Babb"})) == [mate.pk]
    assert ids(api.get(CASES, {"scope": "team", "q": case.patient.mrn})) == [case.pk]
    assert ids(api.get(CASES, {"scope": "team", "liaison": nurse_teammate.pk})) == [mate.pk]
    assert set(ids(api_for(manager).get(CASES))) == {case.pk, mate.pk}
    response = api.get(CASES, {"stage": "nonsense"})
    assert response.status_code == 400
    assert "stage" in response.json()


def test_cases_list_cursor_pages(nurse, api_for):
    now = timezone.now()
    made = [CaseFactory(assigned_liaison=nurse, referral_received_at=now - dt.timedelta(hours=i)) for i in range(3)]
    api = api_for(nurse)
    first = api.get(CASES, {"page_size": 2}).json()
    assert [r["id"] for r in first["results"]] == [made[0].pk, made[1].pk]  # newest referral first
    second = api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [made[2].pk]
    assert second["next"] is None


@pytest.mark.parametrize("rows", [2, 12])
def test_cases_list_query_count(rows, nurse, consent_form, api_for, django_assert_num_queries):
    # Referred, evaluating, evaluated and accepted (with consents, coverages, medications).
    _worklist_rows(nurse, consent_form, rows)
    api = api_for(nurse)
    api.get(CASES)  # warm caches (content types)
    # + the cases page (patient, liaison, evaluation, treatment plan joined), their referring
    # physicians, institutions, consents (+form), coverages, medications (the worklist's queries:
    # selectors.worklist_queryset), the ACCESS insert
    with django_assert_num_queries(PER_REQUEST + 7):
        response = api.get(CASES)
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [2, 12])
def test_cases_list_query_count_for_manager(rows, nurse, manager, consent_form, api_for, django_assert_num_queries):
    _worklist_rows(nurse, consent_form, rows)
    api = api_for(manager)
    api.get(CASES)
    # + the managed teams (scope), and the same seven
    with django_assert_num_queries(PER_REQUEST + 8):
        response = api.get(CASES)
    assert len(response.json()["results"]) == rows


# --- cases: detail ----------------------------------------------------------------------------


def test_case_detail(nurse, case, api_for):
    services.start_evaluation(case=case, by=nurse)
    services.save_medication(case=case, by=nurse, name="Aspirin", dose="81 mg")
    services.log_communication(case=case, by=nurse, channel="phone", parties="liaison_patient", summary="Called.")
    response = api_for(nurse).get(f"{CASES}{case.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["stage"], body["version"]) == (case.pk, "evaluating", 2)
    assert body["patient"]["mrn"] == case.patient.mrn
    assert body["patient"]["date_of_birth"] == "1950-05-17"
    assert body["team"] == {"id": nurse.team_id, "name": "CL North"}
    assert body["reason"] == "Post-CABG rehabilitation"
    assert [(m["name"], m["dose"], m["reconciled"]) for m in body["medications"]] == [("Aspirin", "81 mg", False)]
    assert [c["summary"] for c in body["communications"]] == ["Called."]
    assert body["communications"][0]["by"] == {"id": nurse.pk, "name": str(nurse)}
    assert [(t["from_stage"], t["to_stage"]) for t in body["transitions"]] == [("referred", "evaluating")]
    assert body["evaluation"]["eligibility"] == "pending"
    assert body["evaluation"]["records_reviewed_at"] is None
    assert body["treatment_plan"] is None
    assert body["can_change"] is True
    assert body["next_transitions"] == ["accept", "decline", "cancel"]


def test_case_detail_of_a_teammates_case_is_read_only(nurse, nurse_teammate, case, api_for):
    body = api_for(nurse_teammate).get(f"{CASES}{case.pk}/").json()
    assert (body["can_change"], body["next_transitions"]) == (False, [])


def test_case_detail_shows_a_case_outside_the_worklist_defaults(nurse, nurse_teammate, case, api_for):
    services.cancel(case=case, by=nurse)
    # The worklist's defaults (open, mine) are the list's only.
    assert api_for(nurse_teammate).get(f"{CASES}{case.pk}/").json()["stage"] == Stage.CANCELLED


def test_cases_outsiders(msl, other_nurse, other_manager, case, api_for):
    before = access_entries().count()
    assert api_for(other_nurse).get(f"{CASES}{case.pk}/").status_code == 404
    assert api_for(other_manager).get(f"{CASES}{case.pk}/").status_code == 404
    assert case.pk not in ids(api_for(other_nurse).get(CASES, {"scope": "team"}))
    assert api_for(msl).get(CASES).status_code == 403
    assert api_for(msl).get(f"{CASES}{case.pk}/").status_code == 403
    assert api_for(other_nurse).get(f"{CASES}99999999999/").status_code == 404
    assert access_entries().count() == before  # a refusal shows nothing and writes nothing


@pytest.mark.parametrize("rows", [2, 12])
def test_case_detail_query_count(rows, nurse, consent_form, api_for, django_assert_num_queries):
    from .test_queries import _case_with_children

    case = _case_with_children(nurse, consent_form, rows)
    api = api_for(nurse)
    url = f"{CASES}{case.pk}/"
    api.get(url)
    # + the case (its joins: selectors.case_detail_queryset), evaluation (+reviewers), medications,
    # coverages (+verifier), consents (+form, explainer), communications (+by), transitions (+by),
    # the ACCESS insert
    with django_assert_num_queries(PER_REQUEST + 8):
        response = api.get(url)
    assert len(response.json()["medications"]) == rows


# --- the PHI audit ----------------------------------------------------------------------------


def test_a_cases_page_is_one_access_entry_naming_them(nurse, api_for):
    made = [CaseFactory(assigned_liaison=nurse) for _ in range(3)]
    api = api_for(nurse)
    response = api.get(CASES, {"page_size": 2, "q": ""})
    (entry,) = access_entries()
    data = entry.additional_data
    shown = [r["id"] for r in response.json()["results"]]
    assert data["kind"] == "api"
    assert data["patients"] == {str(c.patient_id): [c.pk] for c in made if c.pk in shown}
    assert data["teams"] == {str(nurse.team_id): 2}
    assert data["path"] == CASES
    assert "page_size=2" in data["query"]
    assert entry.actor == nurse
    assert entry.object_repr == "API: 2 cases"


def test_an_empty_page_writes_nothing(nurse, api_for):
    assert api_for(nurse).get(CASES).json()["results"] == []
    assert not access_entries().exists()


def test_a_case_detail_is_one_access_entry(nurse, case, api_for):
    api_for(nurse).get(f"{CASES}{case.pk}/")
    (entry,) = access_entries()
    assert entry.object_pk == str(case.pk)
    data = entry.additional_data
    assert (data["kind"], data["case_id"], data["patient_id"], data["team_id"]) == (
        "api",
        case.pk,
        case.patient_id,
        case.team_id,
    )


def test_the_next_step_of_an_evaluated_case(nurse, case, api_for):
    services.start_evaluation(case=case, by=nurse)
    complete_evaluation(case, nurse)
    (row,) = api_for(nurse).get(CASES).json()["results"]
    assert row["next_step"] == "ready to accept"
