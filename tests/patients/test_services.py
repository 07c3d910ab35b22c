"""The lifecycle: every guard refused with what is missing, every allowed transition recorded."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from patients import services
from patients.choices import AuthorizationStatus, ConsentStatus, DeclineReason, Eligibility, SignedBy, Stage
from patients.models import Case, CaseTransition, Communication, Consent, Evaluation, InsuranceCoverage
from tests.factories import CaseFactory

from .conftest import complete_evaluation, file_medical_record, make_admittable

pytestmark = pytest.mark.django_db


def _history(case) -> list[tuple[str, str]]:
    return list(CaseTransition.objects.filter(case=case).order_by("at", "id").values_list("from_stage", "to_stage"))


# --- start_evaluation --------------------------------------------------------------------------


def test_start_evaluation_records_transition_timestamp_and_bumps_version(case, nurse):
    with time_machine.travel("2026-03-02 09:00Z", tick=False):
        services.start_evaluation(case=case, by=nurse, version=1, note="Records requested")
    case.refresh_from_db()
    assert case.stage == Stage.EVALUATING
    assert case.evaluation_started_at == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    assert case.stage_changed_at == case.evaluation_started_at
    assert case.version == 2
    assert Evaluation.objects.filter(case=case).exists()
    t = CaseTransition.objects.get(case=case, to_stage=Stage.EVALUATING)
    assert (t.from_stage, t.by, t.note) == (Stage.REFERRED, nurse, "Records requested")


def test_start_evaluation_refused_when_not_referred(case, nurse):
    services.start_evaluation(case=case, by=nurse)
    with pytest.raises(ValidationError, match="Cannot start the evaluation: the case is evaluating"):
        services.start_evaluation(case=case, by=nurse)


# --- accept ------------------------------------------------------------------------------------


def test_accept_refused_from_referred(case, nurse):
    with pytest.raises(ValidationError, match="Cannot accept: the case is referred"):
        services.accept(case=case, by=nurse)


def test_accept_refused_until_evaluation_complete_and_says_what_is_missing(case, nurse):
    services.start_evaluation(case=case, by=nurse)
    file_medical_record(case, nurse)
    services.set_checklist_item(
        case=case, by=nurse, item="records_reviewed", done=True, records_review_note="Discharge summary"
    )
    with pytest.raises(ValidationError) as exc:
        services.accept(case=case, by=nurse)
    message = exc.value.messages[0]
    assert message.startswith("Cannot accept:")
    assert "medications reviewed is missing" in message
    assert "treatment plan reviewed is missing" in message
    assert "insurance verified is missing" in message
    assert "eligibility decision is pending" in message
    assert "medical records" not in message
    case.refresh_from_db()
    assert case.stage == Stage.EVALUATING and case.accepted_at is None


def test_accept_refused_when_patient_not_eligible(case, nurse):
    services.start_evaluation(case=case, by=nurse)
    complete_evaluation(case, nurse)
    services.decide_eligibility(case=case, by=nurse, eligibility=Eligibility.NOT_ELIGIBLE, clinical_notes="")
    with pytest.raises(ValidationError, match="not eligible"):
        services.accept(case=case, by=nurse)


def test_completing_evaluation_sets_evaluated_at_and_reopening_clears_it(case, nurse):
    services.start_evaluation(case=case, by=nurse)
    evaluation = complete_evaluation(case, nurse)
    case.refresh_from_db()
    assert case.evaluated_at is not None
    assert evaluation.records_reviewed_by == nurse and evaluation.records_reviewed_at is not None
    assert evaluation.decided_by == nurse
    services.set_checklist_item(case=case, by=nurse, item="insurance_verified", done=False)
    case.refresh_from_db()
    assert case.evaluated_at is None


def test_checklist_refused_outside_evaluation(case, nurse):
    with pytest.raises(ValidationError, match="only while the case is being evaluated"):
        services.set_checklist_item(case=case, by=nurse, item="records_reviewed", done=True)


def test_accept_allowed_after_complete_evaluation(accepted_case):
    accepted_case.refresh_from_db()
    assert accepted_case.stage == Stage.ACCEPTED and accepted_case.accepted_at is not None
    assert _history(accepted_case)[-1] == (Stage.EVALUATING, Stage.ACCEPTED)


# --- admit -------------------------------------------------------------------------------------


def test_admit_refused_from_evaluating(case, nurse):
    services.start_evaluation(case=case, by=nurse)
    with pytest.raises(ValidationError, match="Cannot admit: the case is evaluating, not accepted"):
        services.admit(case=case, by=nurse)


def test_admit_refused_without_consent_or_coverage(accepted_case, nurse):
    # Accepted, the case has the coverage its "Insurance verified" tick needed (no authorization).
    with pytest.raises(ValidationError) as exc:
        services.admit(case=accepted_case, by=nurse)
    assert exc.value.messages == ["Cannot admit: no required consent has been recorded"]
    assert services.admission_blockers(accepted_case, coverages=[]) == [
        "no required consent has been recorded",
        "no insurance coverage recorded",
    ]


def test_admit_refused_while_consent_and_authorization_pending(accepted_case, nurse, consent_form):
    services.add_consent(case=accepted_case, by=nurse, form=consent_form, procedure="Admission")
    services.save_coverage(case=accepted_case, by=nurse, payer="Acme", member_id="1", is_primary=True)
    with pytest.raises(ValidationError) as exc:
        services.admit(case=accepted_case, by=nurse)
    assert exc.value.messages == ["Cannot admit: consent 'Admission' is pending; insurance authorization is pending"]
    accepted_case.refresh_from_db()
    assert accepted_case.stage == Stage.ACCEPTED and accepted_case.admitted_at is None


def test_admit_refused_when_authorization_denied_or_expired(accepted_case, nurse, consent_form):
    make_admittable(accepted_case, nurse, consent_form)
    coverage = InsuranceCoverage.objects.get(case=accepted_case)
    services.save_coverage(
        case=accepted_case, by=nurse, coverage=coverage, verified=True, authorization_status=AuthorizationStatus.DENIED
    )
    with pytest.raises(ValidationError, match="insurance authorization was denied"):
        services.admit(case=accepted_case, by=nurse)
    services.save_coverage(
        case=accepted_case,
        by=nurse,
        coverage=coverage,
        verified=True,
        authorization_status=AuthorizationStatus.APPROVED,
    )
    with time_machine.travel(timezone.now() + dt.timedelta(days=40)), pytest.raises(ValidationError, match="expired"):
        services.admit(case=accepted_case, by=nurse)


def test_admit_refused_when_consent_refused_or_signed_on_old_form(accepted_case, nurse, consent_form):
    make_admittable(accepted_case, nurse, consent_form)
    consent_form.current_version = "3.0"
    consent_form.save()
    with pytest.raises(ValidationError, match=r"signed on an old form version \(2.0\)"):
        services.admit(case=accepted_case, by=nurse)
    other = services.add_consent(case=accepted_case, by=nurse, form=consent_form, procedure="PICC line")
    services.update_consent(
        consent=other, case=accepted_case, by=nurse, explained=True, teach_back_confirmed=True,
        interpreter_used=False, status=ConsentStatus.REFUSED,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="consent 'PICC line' is refused"):
        services.admit(case=accepted_case, by=nurse)


def test_admit_allowed_with_not_required_authorization_and_signed_consent(accepted_case, nurse, consent_form):
    make_admittable(accepted_case, nurse, consent_form)
    coverage = InsuranceCoverage.objects.get(case=accepted_case)
    services.save_coverage(
        case=accepted_case,
        by=nurse,
        coverage=coverage,
        verified=True,
        authorization_status=AuthorizationStatus.NOT_REQUIRED,
    )
    services.admit(case=accepted_case, by=nurse, note="Bed 4")
    accepted_case.refresh_from_db()
    assert accepted_case.stage == Stage.ADMITTED and accepted_case.admitted_at is not None
    assert _history(accepted_case)[-1] == (Stage.ACCEPTED, Stage.ADMITTED)


# --- discharge ---------------------------------------------------------------------------------


@pytest.fixture
def admitted_case(accepted_case, nurse, consent_form):
    make_admittable(accepted_case, nurse, consent_form)
    services.admit(case=accepted_case, by=nurse)
    return accepted_case


def test_discharge_refused_before_admission(accepted_case, nurse):
    with pytest.raises(ValidationError, match="Cannot discharge: the case is accepted, not admitted"):
        services.discharge(case=accepted_case, by=nurse, disposition="home", summary="x")


def test_discharge_refused_without_disposition_and_summary(admitted_case, nurse):
    with pytest.raises(ValidationError) as exc:
        services.discharge(case=admitted_case, by=nurse, disposition="", summary=" ")
    assert exc.value.messages == [
        "Cannot discharge: the discharge disposition is missing; the discharge summary is missing"
    ]


def test_discharge_refused_before_admission_time(admitted_case, nurse):
    with pytest.raises(ValidationError, match="before the admission"):
        services.discharge(
            case=admitted_case, by=nurse, disposition="home", summary="ok",
            discharged_at=admitted_case.admitted_at - dt.timedelta(hours=1),
        )  # fmt: skip


def test_discharge_allowed(admitted_case, nurse):
    services.discharge(case=admitted_case, by=nurse, disposition="home_health", summary="Goals met.")
    admitted_case.refresh_from_db()
    assert admitted_case.stage == Stage.DISCHARGED
    assert admitted_case.discharged_at is not None and admitted_case.discharge_disposition == "home_health"
    assert [to for _, to in _history(admitted_case)] == ["evaluating", "accepted", "admitted", "discharged"]


# --- decline and cancel ------------------------------------------------------------------------


@pytest.mark.parametrize("stage_steps", [0, 1, 2])
def test_decline_allowed_from_every_stage_before_admission(case, nurse, stage_steps):
    if stage_steps >= 1:
        services.start_evaluation(case=case, by=nurse)
    if stage_steps >= 2:
        complete_evaluation(case, nurse)
        services.accept(case=case, by=nurse)
    services.decline(case=case, by=nurse, reason=DeclineReason.NO_BED, note="Full")
    case.refresh_from_db()
    assert case.stage == Stage.DECLINED and case.decline_reason == DeclineReason.NO_BED


def test_decline_needs_a_coded_reason(case, nurse):
    with pytest.raises(ValidationError, match="choose the reason"):
        services.decline(case=case, by=nurse, reason="")
    case.refresh_from_db()
    assert case.stage == Stage.REFERRED
    assert not CaseTransition.objects.filter(case=case, to_stage=Stage.DECLINED).exists()


def test_decline_and_cancel_refused_after_admission(admitted_case, nurse):
    with pytest.raises(ValidationError, match="only a case before admission can be declined"):
        services.decline(case=admitted_case, by=nurse, reason=DeclineReason.OTHER)
    with pytest.raises(ValidationError, match="only a case before admission can be cancelled"):
        services.cancel(case=admitted_case, by=nurse)


@pytest.mark.parametrize("stage_steps", [0, 1, 2])
def test_cancel_allowed_before_admission(case, nurse, stage_steps):
    if stage_steps >= 1:
        services.start_evaluation(case=case, by=nurse)
    if stage_steps >= 2:
        complete_evaluation(case, nurse)
        services.accept(case=case, by=nurse)
    services.cancel(case=case, by=nurse, note="Moved away")
    case.refresh_from_db()
    assert case.stage == Stage.CANCELLED
    assert _history(case)[-1][1] == Stage.CANCELLED


def test_no_transition_out_of_a_closed_case(case, nurse):
    services.cancel(case=case, by=nurse)
    with pytest.raises(ValidationError, match="Cannot start the evaluation"):
        services.start_evaluation(case=case, by=nurse)
    assert services.next_transitions(case) == []


# --- who may change, optimistic locking --------------------------------------------------------


def test_teammate_cannot_change_but_manager_and_admin_can(case, nurse_teammate, manager, admin_user, other_manager):
    with pytest.raises(PermissionDenied):
        services.start_evaluation(case=case, by=nurse_teammate)
    with pytest.raises(PermissionDenied):
        services.start_evaluation(case=case, by=other_manager)
    services.start_evaluation(case=case, by=manager)
    services.cancel(case=case, by=admin_user)
    assert case.stage == Stage.CANCELLED


def test_msl_cannot_change(case, msl):
    with pytest.raises(PermissionDenied):
        services.cancel(case=case, by=msl)


def test_stale_version_is_a_conflict_and_writes_nothing(case, nurse):
    services.start_evaluation(case=case, by=nurse, version=1)
    stale = Case.objects.get(pk=case.pk)
    with pytest.raises(services.StaleCaseError, match="changed by someone else"):
        services.cancel(case=stale, by=nurse, version=1)
    case.refresh_from_db()
    assert case.stage == Stage.EVALUATING and case.version == 2
    assert not CaseTransition.objects.filter(case=case, to_stage=Stage.CANCELLED).exists()


def test_assign_only_by_manager_within_scope(case, nurse, nurse_teammate, other_nurse, manager):
    with pytest.raises(PermissionDenied):
        services.assign_case(case=case, liaison=nurse_teammate, by=nurse, version=1)
    with pytest.raises(ValidationError):
        services.assign_case(case=case, liaison=other_nurse, by=manager, version=1)
    services.assign_case(case=case, liaison=nurse_teammate, by=manager, version=1)
    case.refresh_from_db()
    assert case.assigned_liaison == nurse_teammate and case.version == 2


# --- consents, coverage, communications --------------------------------------------------------


def _consent(case, nurse, consent_form):
    return services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")


def test_consent_cannot_be_signed_before_explanation_and_teach_back(case, nurse, consent_form):
    consent = _consent(case, nurse, consent_form)
    with pytest.raises(ValidationError) as exc:
        services.update_consent(
            consent=consent, case=case, by=nurse, explained=False, teach_back_confirmed=False,
            interpreter_used=False, status=ConsentStatus.SIGNED, signed_by="",
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"explained", "teach_back_confirmed", "signed_by"}
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.PENDING and consent.signed_at is None


def test_representative_signature_needs_name_and_relationship_and_interpreter(case, nurse, consent_form):
    case.patient.interpreter_needed = True
    case.patient.save()
    consent = _consent(case, nurse, consent_form)
    with pytest.raises(ValidationError) as exc:
        services.update_consent(
            consent=consent, case=case, by=nurse, explained=True, teach_back_confirmed=True,
            interpreter_used=False, status=ConsentStatus.SIGNED, signed_by=SignedBy.REPRESENTATIVE,
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"interpreter_used", "representative_name", "representative_relationship"}
    services.update_consent(
        consent=consent, case=case, by=nurse, explained=True, teach_back_confirmed=True, interpreter_used=True,
        status=ConsentStatus.SIGNED, signed_by=SignedBy.REPRESENTATIVE, representative_name="Bea Lovelace",
        representative_relationship="Daughter", witness_name="Sam RN",
    )  # fmt: skip
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.SIGNED and consent.explained_by == nurse and consent.signed_at


def test_only_signed_consent_can_be_withdrawn(case, nurse, consent_form):
    consent = _consent(case, nurse, consent_form)
    with pytest.raises(ValidationError, match="Only a signed consent"):
        services.update_consent(
            consent=consent, case=case, by=nurse, explained=True, teach_back_confirmed=True,
            interpreter_used=False, status=ConsentStatus.WITHDRAWN,
        )  # fmt: skip
    assert Consent.objects.get(pk=consent.pk).withdrawn_at is None


def test_approved_authorization_needs_number(case, nurse):
    with pytest.raises(ValidationError) as exc:
        services.save_coverage(
            case=case, by=nurse, payer="Acme", member_id="1", authorization_status=AuthorizationStatus.APPROVED
        )
    assert "authorization_number" in exc.value.message_dict
    assert not InsuranceCoverage.objects.exists()


def test_logging_communication_updates_last_communication_at(case, nurse):
    at = timezone.now() - dt.timedelta(hours=2)
    services.log_communication(
        case=case, by=nurse, channel="phone", parties="liaison_patient", summary="Hi", occurred_at=at
    )
    case.refresh_from_db()
    assert case.last_communication_at == at
    earlier = at - dt.timedelta(days=1)
    services.log_communication(
        case=case, by=nurse, channel="email", parties="liaison_family", summary="x", occurred_at=earlier
    )
    case.refresh_from_db()
    assert case.last_communication_at == at  # an older entry does not move it back
    assert Communication.objects.filter(case=case).count() == 2


def test_communication_needs_a_summary(case, nurse):
    with pytest.raises(ValidationError):
        services.log_communication(case=case, by=nurse, channel="phone", parties="liaison_patient", summary="  ")
    case.refresh_from_db()
    assert case.last_communication_at is None


def test_follow_up_for_a_case_goes_to_the_assigned_liaison(case, manager):
    follow_up = services.add_case_follow_up(
        case=case, by=manager, title="Call daughter", due_at=timezone.now() + dt.timedelta(days=1)
    )
    assert follow_up.case == case and follow_up.owner == case.assigned_liaison and follow_up.created_by == manager


def test_referral_requires_liaison_of_own_team(nurse, other_nurse):
    with pytest.raises(ValidationError):
        services.create_referral(
            by=nurse,
            patient_fields={
                "mrn": "X1",
                "first_name": "A",
                "last_name": "B",
                "date_of_birth": dt.date(1950, 1, 1),
                "sex": "female",
            },
            case_fields={"program": "Rehab", "reason": "x", "assigned_liaison": other_nurse},
        )
    from patients.models import Patient

    assert not Patient.objects.filter(mrn="X1").exists()


def test_find_duplicates_tells_only_mrn_outside_scope(nurse, other_case):
    other = other_case.patient
    found = services.find_duplicates(
        user=nurse,
        mrn=other.mrn,
        first_name=other.first_name,
        last_name=other.last_name,
        date_of_birth=other.date_of_birth,
    )
    # The same name and birth date are the MRN's own patient: told once, as the MRN clash.
    assert found == services.Duplicates(mrn_exists_elsewhere=True)


def test_find_duplicates_in_scope_by_name_and_dob(nurse, case):
    p = case.patient
    found = services.find_duplicates(
        user=nurse, mrn="NEW-1", first_name=p.first_name.upper(), last_name=p.last_name, date_of_birth=p.date_of_birth
    )
    assert found.candidates == [p] and found.mrn_patient is None
    assert found.candidates[0].match_reasons == ["same name", "same birth date"]
    assert found.candidates[0].open_cases == [case]


def test_case_factory_sanity(nurse):
    c = CaseFactory(assigned_liaison=nurse)
    assert c.team_id == nurse.team_id
