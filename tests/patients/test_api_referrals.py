"""A new referral through the API (POST /api/v1/cases/): the page's form and
services.create_referral, with the page's answer to a likely duplicate as data."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry

from patients.choices import AccessKind
from patients.models import Case, Patient
from tests.factories import CaseFactory, PatientFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


def referral(liaison, **overrides) -> dict:
    data = {
        "mrn": "MRN-API-1", "first_name": "Ada", "last_name": "Moreno", "date_of_birth": "1948-03-02",
        "sex": "female", "program": "Cardiac rehab", "assigned_liaison": liaison.pk, "reason": "CHF, post-op",
        "referral_source_other": "Family",
    }  # fmt: skip
    return {**data, **overrides}


def post(api_for, user, data, scope: str = "write"):
    return api_for(user, scope).post(URL, data, format="json")


def test_a_nurse_takes_a_referral_for_a_new_patient(api_for, nurse):
    response = post(api_for, nurse, referral(nurse, priority="urgent"))
    assert response.status_code == 201, response.json()
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert (case.patient.mrn, case.patient.last_name, case.program) == ("MRN-API-1", "Moreno", "Cardiac rehab")
    assert (case.assigned_liaison, case.team_id, case.priority) == (nurse, nurse.team_id, "urgent")
    assert case.stage == "referred"
    assert body["stage"] == "referred" and body["version"] == case.version
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data["kind"] == AccessKind.API and entry.additional_data["case_id"] == case.pk


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"reason": ""}, "reason"), ({"date_of_birth": "soon"}, "date_of_birth"), ({"sex": "x"}, "sex"),
     ({"mrn": "x" * 33}, "mrn"), ({"email": "not-an-address"}, "email")],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api_for, nurse, overrides, field):
    response = post(api_for, nurse, referral(nurse, **overrides))
    assert response.status_code == 400
    assert field in response.json()
    assert not Case.objects.exists() and not Patient.objects.exists()


def test_a_liaison_of_another_team_is_refused(api_for, nurse, other_nurse):
    response = post(api_for, nurse, referral(other_nurse))
    assert response.status_code == 400 and "assigned_liaison" in response.json()
    assert not Case.objects.exists()


def test_a_likely_duplicate_is_named_and_the_referral_can_then_join_it(api_for, nurse):
    on_file = CaseFactory(patient=PatientFactory(first_name="Ada", last_name="Moreno",
                                                 date_of_birth=dt.date(1948, 3, 2)), assigned_liaison=nurse).patient  # fmt: skip
    response = post(api_for, nurse, referral(nurse))
    assert response.status_code == 400
    assert response.json()["duplicates"] == {"patients": [on_file.pk], "elsewhere": False}
    assert "non_field_errors" in response.json()
    assert Case.objects.count() == 1 and Patient.objects.count() == 1
    # What the refusal named of a patient on file is audited.
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__patient_id=on_file.pk).exists()

    joined = post(api_for, nurse, referral(nurse, patient=on_file.pk))
    assert joined.status_code == 201
    assert Case.objects.get(pk=joined.json()["id"]).patient == on_file
    assert Patient.objects.count() == 1

    other = post(api_for, nurse, referral(nurse, mrn="MRN-API-2", confirm_new=True))
    assert other.status_code == 201 and Patient.objects.count() == 2


def test_a_patient_of_another_team_is_never_shown_but_its_mrn_record_can_be_joined(api_for, nurse, other_nurse):
    theirs = CaseFactory(patient=PatientFactory(mrn="MRN-API-1"), assigned_liaison=other_nurse).patient
    response = post(api_for, nurse, referral(nurse, first_name="Someone", last_name="Else"))
    assert response.status_code == 400
    assert response.json()["duplicates"] == {"patients": [], "elsewhere": True}
    # Naming the other team's patient by id is refused; joining by its MRN is what the page offers.
    refused = post(api_for, nurse, referral(nurse, patient=theirs.pk))
    assert refused.status_code == 400 and refused.json() == {
        "non_field_errors": ["That patient is not one of your team's patients."]
    }
    joined = post(api_for, nurse, referral(nurse, use_mrn_patient=True))
    assert joined.status_code == 201
    assert Case.objects.get(pk=joined.json()["id"]).patient == theirs


def test_an_msl_and_a_read_only_token_are_refused(api_for, msl, nurse):
    assert post(api_for, msl, referral(nurse)).status_code == 403
    assert post(api_for, nurse, referral(nurse), scope="read").status_code == 403
    assert not Case.objects.exists()
