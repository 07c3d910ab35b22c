"""The REST API's writes on a case: each action calls the case page's service, so the effects are
the service's; forbidden is a 403, out of scope a 404, a stale version a 409, bad input a 400 with
the field named, and none of them writes anything (not even an ACCESS entry)."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from patients import services
from patients.choices import AuthorizationStatus, ConsentStatus, Eligibility, Stage
from patients.models import Case, CaseTransition, Communication, Consent, Medication
from tests.factories import CaseFactory, ConsentFormFactory, PhysicianFactory
from tests.physicians.factories import ClinicalTrialFactory

from .conftest import complete_evaluation, file_medical_record, make_admittable

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for(api_for):
    """The shared fixture's client, sending JSON (the API parses nothing else there)."""

    def make(user, scope: str = "write"):
        client = api_for(user, scope)
        client.default_format = "json"
        return client

    return make


def url(case: Case, path: str) -> str:
    return f"/api/v1/cases/{case.pk}/{path}/"


def access_count() -> int:
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()


def unchanged(case: Case) -> bool:
    before = (case.stage, case.version, case.assigned_liaison_id)
    case.refresh_from_db()
    return (case.stage, case.version, case.assigned_liaison_id) == before


# --- transitions ------------------------------------------------------------------------------


def test_start_evaluation(nurse, case, api_for):
    response = api_for(nurse).post(url(case, "start-evaluation"), {"version": 1, "note": "Records in."})
    assert response.status_code == 200
    body = response.json()
    assert (body["stage"], body["version"]) == ("evaluating", 2)
    assert body["evaluation"]["eligibility"] == "pending"
    case.refresh_from_db()
    assert (case.stage, case.version) == (Stage.EVALUATING, 2)
    assert case.evaluation_started_at is not None
    transition = CaseTransition.objects.get(case=case, to_stage=Stage.EVALUATING)
    assert (transition.by, transition.note) == (nurse, "Records in.")
    # The answer shows the case: one ACCESS entry about it.
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).get()
    assert (entry.additional_data["kind"], entry.additional_data["case_id"]) == ("api", case.pk)


def test_a_stale_version_is_a_conflict(nurse, case, api_for):
    services.update_case(case=case, by=nurse, version=1, program="Stroke unit")  # version 2 now
    response = api_for(nurse).post(url(case, "start-evaluation"), {"version": 1})
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["detail"]
    assert unchanged(case)
    assert case.stage == Stage.REFERRED
    assert access_count() == 0


def test_a_transition_needs_the_version(nurse, case, api_for):
    for body in ({}, {"version": "x"}, {"version": 2**40}, {"version": 1, "note": "a\x00b"}):
        response = api_for(nurse).post(url(case, "start-evaluation"), body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()) <= {"version", "note"} and response.json()
    assert unchanged(case)
    assert case.stage == Stage.REFERRED
    assert access_count() == 0


def test_who_may_change_a_case(nurse_teammate, other_nurse, msl, case, api_for):
    # A teammate sees the case but does not carry it: 403, before the input is read.
    response = api_for(nurse_teammate).post(url(case, "start-evaluation"), {})
    assert response.status_code == 403
    assert api_for(other_nurse).post(url(case, "start-evaluation"), {"version": 1}).status_code == 404
    assert api_for(msl).post(url(case, "start-evaluation"), {"version": 1}).status_code == 403
    assert unchanged(case)
    assert case.stage == Stage.REFERRED
    assert access_count() == 0


def test_a_read_only_token_writes_nothing(nurse, case, api_for):
    response = api_for(nurse, scope="read").post(url(case, "start-evaluation"), {"version": 1})
    assert response.status_code == 403
    assert unchanged(case)
    assert case.stage == Stage.REFERRED


def test_a_manager_of_the_team_may_change_the_case(manager, case, api_for):
    assert api_for(manager).post(url(case, "start-evaluation"), {"version": 1}).status_code == 200
    case.refresh_from_db()
    assert case.stage == Stage.EVALUATING


def test_accept_refused_says_what_is_missing(nurse, case, api_for):
    services.start_evaluation(case=case, by=nurse)
    response = api_for(nurse).post(url(case, "accept"), {"version": case.version})
    assert response.status_code == 400
    assert "Cannot accept" in " ".join(response.json()["non_field_errors"])
    assert unchanged(case)
    assert case.stage == Stage.EVALUATING


def test_the_lifecycle_through_the_api(nurse, case, consent_form, api_for):
    api = api_for(nurse)
    services.start_evaluation(case=case, by=nurse)
    complete_evaluation(case, nurse)
    case.refresh_from_db()
    assert api.post(url(case, "accept"), {"version": case.version}).json()["stage"] == "accepted"
    make_admittable(case, nurse, consent_form)
    case.refresh_from_db()
    body = api.post(url(case, "admit"), {"version": case.version}).json()
    assert (body["stage"], body["admitted_at"] is not None) == ("admitted", True)
    case.refresh_from_db()
    response = api.post(url(case, "discharge"), {"version": case.version, "discharge_disposition": "nowhere"})
    assert response.status_code == 400
    assert set(response.json()) == {"discharge_disposition", "discharge_summary"}
    at = timezone.now()
    response = api.post(
        url(case, "discharge"),
        {
            "version": case.version,
            "discharge_disposition": "home",
            "discharge_summary": " Went home. ",
            "discharged_at": at,
        },
        format="json",
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert (case.stage, case.discharge_disposition, case.discharge_summary) == (Stage.DISCHARGED, "home", "Went home.")
    assert case.discharged_at == at


def test_decline_and_cancel(nurse, case, api_for):
    api = api_for(nurse)
    response = api.post(url(case, "decline"), {"version": 1, "decline_reason": "bored"})
    assert response.status_code == 400
    assert "decline_reason" in response.json()
    response = api.post(url(case, "decline"), {"version": 1, "decline_reason": "no_bed", "note": "Full."})
    assert response.json()["decline_reason"] == "no_bed"
    case.refresh_from_db()
    assert (case.stage, case.decline_reason) == (Stage.DECLINED, "no_bed")
    other = CaseFactory(assigned_liaison=nurse)
    assert api.post(url(other, "cancel"), {"version": 1}).json()["stage"] == "cancelled"
    # A closed case cannot be cancelled: the service's refusal.
    response = api.post(url(other, "cancel"), {"version": 2})
    assert response.status_code == 400
    assert "Cannot cancel" in response.json()["non_field_errors"][0]


# --- assignment -------------------------------------------------------------------------------


def test_a_manager_assigns_the_case(manager, nurse, nurse_teammate, case, api_for):
    response = api_for(manager).post(url(case, "assign"), {"assigned_liaison": nurse_teammate.pk, "version": 1})
    assert response.status_code == 200
    assert response.json()["assigned_liaison"]["id"] == nurse_teammate.pk
    case.refresh_from_db()
    assert (case.assigned_liaison, case.version) == (nurse_teammate, 2)
    assert nurse_teammate.notifications.exists()  # the service's effect


def test_assignment_refusals(manager, nurse, nurse_teammate, other_nurse, case, api_for):
    api = api_for(manager)
    response = api.post(url(case, "assign"), {"assigned_liaison": other_nurse.pk, "version": 1})
    assert response.status_code == 400
    assert "assigned_liaison" in response.json()
    response = api.post(url(case, "assign"), {"assigned_liaison": 2**62, "version": 1})
    assert response.status_code == 400
    assert api.post(url(case, "assign"), {"assigned_liaison": nurse_teammate.pk, "version": 7}).status_code == 409
    # A liaison may not reassign, even their own case.
    mine = api_for(nurse).post(url(case, "assign"), {"assigned_liaison": nurse_teammate.pk, "version": 1})
    assert mine.status_code == 403
    assert unchanged(case)
    assert case.assigned_liaison == nurse
    assert access_count() == 0


# --- evaluation -------------------------------------------------------------------------------


@pytest.fixture
def evaluating(case, nurse):
    services.start_evaluation(case=case, by=nurse)
    return case


def test_checklist_ticks(nurse, evaluating, api_for):
    case, api = evaluating, api_for(nurse)
    response = api.post(
        url(case, "checklist"), {"item": "medications_reviewed", "done": True, "no_current_medications": True}
    )
    assert response.status_code == 200
    assert response.json()["evaluation"]["no_current_medications"] is True
    evaluation = case.evaluation
    evaluation.refresh_from_db()
    assert (evaluation.medications_reviewed_by, evaluation.no_current_medications) == (nurse, True)
    # A tick without its evidence is refused with the service's reason.
    response = api.post(url(case, "checklist"), {"item": "records_reviewed", "done": True})
    assert response.status_code == 400
    assert "no medical-record document" in response.json()["non_field_errors"][0]
    file_medical_record(case, nurse)
    response = api.post(
        url(case, "checklist"), {"item": "records_reviewed", "done": True, "records_review_note": " Labs. "}
    )
    assert response.json()["evaluation"]["records_review_note"] == "Labs."
    response = api.post(url(case, "checklist"), {"item": "medications_reviewed", "done": False})
    evaluation.refresh_from_db()
    assert (evaluation.medications_reviewed_at, evaluation.no_current_medications) == (None, False)
    assert evaluation.records_reviewed_at is not None


def test_checklist_bad_input(nurse, evaluating, api_for):
    response = api_for(nurse).post(url(evaluating, "checklist"), {"item": "vibes", "done": "maybe"})
    assert response.status_code == 400
    assert set(response.json()) == {"item", "done"}
    evaluating.evaluation.refresh_from_db()
    assert evaluating.evaluation.medications_reviewed_at is None


def test_eligibility_and_treatment_plan(nurse, nurse_teammate, evaluating, api_for):
    case, api = evaluating, api_for(nurse)
    response = api.post(url(case, "eligibility"), {"eligibility": "eligible", "clinical_notes": "Fit."})
    assert response.json()["evaluation"]["eligibility"] == "eligible"
    case.evaluation.refresh_from_db()
    assert (case.evaluation.eligibility, case.evaluation.decided_by) == (Eligibility.ELIGIBLE, nurse)
    assert api.post(url(case, "eligibility"), {"eligibility": "perhaps"}).status_code == 400
    response = api.post(
        url(case, "treatment-plan"), {"goals": "Walk.", "planned_services": "PT", "expected_length_of_stay_days": 0}
    )
    assert response.status_code == 400
    assert "expected_length_of_stay_days" in response.json()
    response = api.post(
        url(case, "treatment-plan"), {"goals": "Walk.", "planned_services": "PT", "expected_length_of_stay_days": 14}
    )
    assert response.json()["treatment_plan"]["expected_length_of_stay_days"] == 14
    assert case.treatment_plan.updated_by == nurse
    forbidden = api_for(nurse_teammate).post(url(case, "eligibility"), {"eligibility": "not_eligible"})
    assert forbidden.status_code == 403
    case.evaluation.refresh_from_db()
    assert case.evaluation.eligibility == Eligibility.ELIGIBLE


# --- the case's lists -------------------------------------------------------------------------


def test_medications(nurse, nurse_teammate, case, other_case, api_for):
    api = api_for(nurse)
    response = api.post(url(case, "medications"), {"name": "Aspirin", "dose": "81 mg"})
    assert response.status_code == 200
    (row,) = response.json()["medications"]
    medication = Medication.objects.get(case=case)
    assert (row["id"], medication.name, medication.dose, medication.reconciled) == (
        medication.pk,
        "Aspirin",
        "81 mg",
        False,
    )
    response = api.put(
        url(case, f"medications/{medication.pk}"), {"name": "Aspirin", "dose": "100 mg", "reconciled": True}
    )
    assert response.status_code == 200
    medication.refresh_from_db()
    assert (medication.dose, medication.reconciled) == ("100 mg", True)
    # Bad input, another case's medication, a teammate: refused, nothing written.
    response = api.post(url(case, "medications"), {"name": "", "dose": "x" * 61})
    assert response.status_code == 400
    assert set(response.json()) == {"name", "dose"}
    elsewhere = services.save_medication(case=other_case, by=other_case.assigned_liaison, name="Other")
    assert api.put(url(case, f"medications/{elsewhere.pk}"), {"name": "Mine"}).status_code == 404
    assert api_for(nurse_teammate).post(url(case, "medications"), {"name": "Ibuprofen"}).status_code == 403
    assert list(Medication.objects.filter(case=case).values_list("name", flat=True)) == ["Aspirin"]
    elsewhere.refresh_from_db()
    assert elsewhere.name == "Other"


def test_coverages(nurse, case, api_for):
    api = api_for(nurse)
    body = {"payer": "Acme", "member_id": "M1", "authorization_status": "approved", "verified": True}
    response = api.post(url(case, "coverages"), body)
    assert response.status_code == 400  # the service's rule: an approved authorization needs its number
    assert "authorization_number" in response.json()
    assert not case.coverages.exists()
    response = api.post(
        url(case, "coverages"), {**body, "authorization_number": "A-1", "authorization_valid_from": "2030-01-01"}
    )
    assert response.status_code == 200
    coverage = case.coverages.get()
    assert (coverage.payer, coverage.authorization_number, coverage.verified_by) == ("Acme", "A-1", nurse)
    assert coverage.authorization_valid_from == dt.date(2030, 1, 1)
    assert response.json()["coverages"][0]["verified_by"]["id"] == nurse.pk
    response = api.put(
        url(case, f"coverages/{coverage.pk}"), {**body, "authorization_status": "pending", "verified": False}
    )
    coverage.refresh_from_db()
    assert (coverage.authorization_status, coverage.verified_at) == (AuthorizationStatus.PENDING, None)
    response = api.post(url(case, "coverages"), {**body, "authorization_valid_to": "99999-01-01"})
    assert response.status_code == 400
    assert "authorization_valid_to" in response.json()


def test_consents(nurse, case, consent_form, api_for):
    api = api_for(nurse)
    response = api.post(url(case, "consents"), {"form": consent_form.pk, "procedure": "Admission"})
    assert response.status_code == 200
    consent = Consent.objects.get(case=case)
    assert (consent.form_version, consent.status, consent.required) == ("2.0", ConsentStatus.PENDING, True)
    assert response.json()["consents"][0]["form"] == {"id": consent_form.pk, "name": str(consent_form)}
    # Signing without its safeguards: the service names each missing one.
    sign = {"status": "signed", "signed_by": "patient"}
    response = api.put(url(case, f"consents/{consent.pk}"), sign)
    assert response.status_code == 400
    assert {"explained", "teach_back_confirmed"} <= set(response.json())
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.PENDING
    response = api.put(url(case, f"consents/{consent.pk}"), {**sign, "explained": True, "teach_back_confirmed": True})
    assert response.status_code == 200
    consent.refresh_from_db()
    assert (consent.status, consent.explained_by, consent.signed_by) == (ConsentStatus.SIGNED, nurse, "patient")
    # A new version of the form: the signed consent is renewed by a re-consent.
    consent_form.current_version = "3.0"
    consent_form.save()
    body = {"explained": True, "teach_back_confirmed": True, "signed_by": "patient"}
    response = api.post(url(case, f"consents/{consent.pk}/reconsent"), body)
    assert response.status_code == 200
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.SUPERSEDED
    assert consent.superseded_by.form_version == "3.0"
    assert {c["status"] for c in response.json()["consents"]} == {"signed", "superseded"}


def test_consent_refusals(nurse, case, consent_form, api_for):
    api = api_for(nurse)
    research = ConsentFormFactory(
        name="Trial", kind="research", required_for_admission=False, trial=ClinicalTrialFactory()
    )
    response = api.post(url(case, "consents"), {"form": research.pk, "procedure": "Trial"})
    assert response.status_code == 400  # research consents come from the trial participation
    assert "form" in response.json()
    assert api.post(url(case, "consents"), {"form": 2**62, "procedure": "X"}).status_code == 400
    assert api.put(url(case, "consents/123456"), {"status": "signed"}).status_code == 404
    assert not case.consents.exists()


def test_communications(nurse, case, api_for):
    api = api_for(nurse)
    at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    response = api.post(
        url(case, "communications"),
        {"parties": "liaison_family", "channel": "video", "summary": " Daughter updated. ", "occurred_at": at},
        format="json",
    )
    assert response.status_code == 200
    communication = Communication.objects.get(case=case)
    assert (communication.by, communication.summary, communication.channel) == (nurse, "Daughter updated.", "video")
    case.refresh_from_db()
    assert case.last_communication_at == at  # kept by the service
    future = timezone.now() + dt.timedelta(days=1)
    response = api.post(
        url(case, "communications"), {"parties": "liaison_family", "summary": "x", "occurred_at": future}, format="json"
    )
    assert response.status_code == 400
    assert "occurred_at" in response.json()
    response = api.post(url(case, "communications"), {"parties": "x", "summary": ""})
    assert set(response.json()) == {"parties", "summary"}
    assert Communication.objects.filter(case=case).count() == 1


def test_a_closed_case_keeps_its_records(nurse, case, api_for):
    services.cancel(case=case, by=nurse)
    response = api_for(nurse).post(url(case, "medications"), {"name": "Aspirin"})
    assert response.status_code == 400
    assert not case.medications.exists()


# --- the case's details and its patient -------------------------------------------------------


def test_change_the_case_details(nurse, case, api_for):
    physician = PhysicianFactory()
    body = {"program": "Stroke unit", "priority": "urgent", "reason": "CVA", "referral_physician": physician.pk}
    response = api_for(nurse).put(f"/api/v1/cases/{case.pk}/", {**body, "version": 1})
    assert response.status_code == 200
    assert response.json()["referral_physician"]["id"] == physician.pk
    case.refresh_from_db()
    assert (case.program, case.priority, case.referral_physician, case.version) == (
        "Stroke unit",
        "urgent",
        physician,
        2,
    )
    assert api_for(nurse).put(f"/api/v1/cases/{case.pk}/", {**body, "version": 1}).status_code == 409
    response = api_for(nurse).put(f"/api/v1/cases/{case.pk}/", {**body, "referral_physician": 2**62, "version": 2})
    assert response.status_code == 400
    assert "referral_physician" in response.json()
    response = api_for(nurse).put(f"/api/v1/cases/{case.pk}/", {"priority": "whenever", "version": 2})
    assert {"program", "priority", "reason"} <= set(response.json())
    case.refresh_from_db()
    assert (case.program, case.version) == ("Stroke unit", 2)


def test_change_the_patient(nurse, nurse_teammate, case, api_for):
    body = {"first_name": "Ada", "last_name": "King", "date_of_birth": "1950-05-17", "sex": "female"}
    response = api_for(nurse).put(url(case, "patient"), {**body, "interpreter_needed": True, "version": 1})
    assert response.status_code == 200
    assert response.json()["patient"]["last_name"] == "King"
    case.patient.refresh_from_db()
    assert (case.patient.last_name, case.patient.interpreter_needed) == ("King", True)
    case.refresh_from_db()
    assert case.version == 2  # demographics are a case-level write
    assert api_for(nurse).put(url(case, "patient"), {**body, "version": 1}).status_code == 409
    response = api_for(nurse).put(url(case, "patient"), {**body, "email": "nope", "version": 2})
    assert response.status_code == 400
    assert "email" in response.json()
    assert api_for(nurse_teammate).put(url(case, "patient"), {**body, "version": 2}).status_code == 403
    case.patient.refresh_from_db()
    assert case.patient.last_name == "King"


# --- a follow-up on the case --------------------------------------------------------------------


def test_a_follow_up_on_the_case_goes_to_its_liaison(manager, nurse, case, api_for):
    due = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    response = api_for(manager).post(url(case, "follow-ups"), {"title": "Call the daughter", "due_at": due.isoformat()})
    assert response.status_code == 201
    follow_up = case.follow_ups.get()
    assert (follow_up.owner, follow_up.created_by, follow_up.title, follow_up.due_at) == (
        nurse,
        manager,
        "Call the daughter",
        due,
    )
    assert response.json()["id"] == follow_up.pk


def test_a_follow_up_with_bad_input_or_by_an_outsider_writes_nothing(other_nurse, nurse, case, api_for):
    assert api_for(nurse).post(url(case, "follow-ups"), {"title": ""}).status_code == 400
    assert (
        api_for(other_nurse).post(url(case, "follow-ups"), {"title": "x", "due_at": "2030-01-01T09:00"}).status_code
        == 404
    )
    assert not case.follow_ups.exists()
