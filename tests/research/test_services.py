"""Every step of a trial participation through research.services: what it needs, what it refuses
(with a clear error and nothing written), and what it records."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from outreach import rules
from outreach.models import FollowUp
from patients import services as patient_services
from patients.choices import ConsentStatus, SignedBy
from patients.models import Consent
from physicians.choices import SiteStatus, TrialStatus
from research import services
from research.choices import Answer, ParticipationStatus
from research.models import Participation, ParticipationTransition, ScreeningAnswer
from tests.factories import CaseFactory
from tests.physicians.factories import TrialSiteFactory

from .conftest import consented, eligible_answers, enrolled, screen_eligible, sign_research_consent

pytestmark = pytest.mark.django_db
S = ParticipationStatus


def _snapshot():
    return (
        list(Participation.objects.values().order_by("pk")),
        list(ScreeningAnswer.objects.values().order_by("pk")),
        ParticipationTransition.objects.count(),
    )


def _refused(fn, **kwargs) -> list[str]:
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    assert _snapshot() == before
    return exc.value.messages


def test_a_referral_is_screened_consented_enrolled_and_completed_with_every_step_in_its_history(case, site, nurse):
    participation = services.start_screening(case=case, site=site, by=nurse)
    assert (participation.status, participation.trial, participation.screened_by) == (S.SCREENING, site.trial, nurse)
    services.answer_criteria(participation=participation, by=nurse, answers=eligible_answers(participation))
    answers = ScreeningAnswer.objects.filter(participation=participation)
    assert answers.count() == 3 and all(a.answered_by == nurse and a.answered_at for a in answers)
    services.conclude_screening(participation=participation, by=nurse, eligible=True)
    consent = sign_research_consent(participation, nurse)
    assert consent.kind == "research" and consent.form_version == "1.0" and consent.required is False
    services.record_consent(participation=participation, by=nurse)
    services.enrol(participation=participation, by=nurse, participant_id="LCX-0042", enrolled_on=timezone.localdate())
    services.complete(participation=participation, by=nurse, note="All visits done.")
    participation.refresh_from_db()
    assert participation.status == S.COMPLETED and participation.participant_id == "LCX-0042"
    steps = list(
        ParticipationTransition.objects.filter(participation=participation).values_list("from_status", "to_status")
    )
    assert steps == [
        ("", S.SCREENING),
        (S.SCREENING, S.ELIGIBLE),
        (S.ELIGIBLE, S.CONSENTED),
        (S.CONSENTED, S.ENROLLED),
        (S.ENROLLED, S.COMPLETED),
    ]
    # A research consent never blocks the case's admission.
    assert not any("Research" in b for b in patient_services.admission_blockers(case))


def test_screening_on_a_closed_or_unopened_site_or_a_trial_not_recruiting_is_refused(case, site, nurse):
    site.status = SiteStatus.CLOSED
    site.save()
    (message,) = _refused(services.start_screening, case=case, site=site, by=nurse)
    assert message == f"The site {site} is closed: no one can be screened there."
    site.status = SiteStatus.SELECTED
    site.save()
    assert "not open yet" in _refused(services.start_screening, case=case, site=site, by=nurse)[0]
    site.status = SiteStatus.ENROLLING
    site.save()
    site.trial.status = TrialStatus.COMPLETED
    site.trial.save()
    assert _refused(services.start_screening, case=case, site=site, by=nurse) == [
        "The trial LCX-301 is completed: it is not recruiting."
    ]


def test_only_one_active_screening_per_trial_but_several_over_time(case, site, nurse):
    first = services.start_screening(case=case, site=site, by=nurse)
    other_site = TrialSiteFactory(trial=site.trial, status=SiteStatus.ACTIVATED)
    assert (
        "one participation per trial at a time"
        in _refused(services.start_screening, case=case, site=other_site, by=nurse)[0]
    )
    services.conclude_screening(participation=first, by=nurse, eligible=False, reason="declined")
    second = services.start_screening(case=case, site=other_site, by=nurse)
    assert second.status == S.SCREENING and Participation.objects.filter(case=case).count() == 2


def test_eligible_needs_every_criterion_as_the_protocol_needs_it(case, site, nurse):
    participation = services.start_screening(case=case, site=site, by=nurse)
    messages = _refused(services.conclude_screening, participation=participation, by=nurse, eligible=True)
    assert "inclusion criterion 1 (Age 18 or older) is not answered" in messages[0]
    answers = eligible_answers(participation)
    inclusion, _, exclusion = sorted(answers)
    services.answer_criteria(
        participation=participation, by=nurse, answers={**answers, inclusion: Answer.NOT_MET, exclusion: Answer.MET}
    )
    (message,) = _refused(services.conclude_screening, participation=participation, by=nurse, eligible=True)
    assert "inclusion criterion 1 (Age 18 or older) is not met" in message
    assert "exclusion criterion 1 (Active CNS lymphoma) is met" in message
    # A screen failure needs its coded reason ("other" with what it is).
    assert _refused(services.conclude_screening, participation=participation, by=nurse, eligible=False, reason="") == [
        "Choose the reason of the screen failure."
    ]
    assert _refused(
        services.conclude_screening, participation=participation, by=nurse, eligible=False, reason="other"
    ) == ["Say what the other reason is."]
    services.conclude_screening(participation=participation, by=nurse, eligible=False, reason="inclusion_not_met")
    participation.refresh_from_db()
    assert (participation.status, participation.failure_reason) == (S.SCREEN_FAILURE, "inclusion_not_met")
    # The answers of a concluded screening are its record.
    assert "concluded" in _refused(services.answer_criteria, participation=participation, by=nurse, answers=answers)[0]


def test_enrolment_needs_a_signed_research_consent_on_the_current_irb_version_with_its_copy(case, site, nurse, msl):
    participation = screen_eligible(case, site, nurse)
    (message,) = _refused(services.record_consent, participation=participation, by=nurse)
    assert "no research consent is signed on the current IRB version (v1.0)" in message
    sign_research_consent(participation, nurse, copy=False)
    (message,) = _refused(services.record_consent, participation=participation, by=nurse)
    assert "has no signed copy filed" in message


def test_enrolment_is_refused_on_an_old_irb_version_until_re_consent(case, site, nurse, msl):
    participation = consented(case, site, nurse)
    services.approve_consent_version(trial=site.trial, by=msl, version="2.0", approved_on=timezone.localdate())
    errors = _enrol_errors(participation, nurse, "LCX-7")
    assert errors["__all__"] == [
        "Cannot enrol: the research consent was signed on v1.0: re-consent on the current IRB version v2.0."
    ]


def _enrol_errors(participation, nurse, participant_id, enrolled_on=None) -> dict:
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        services.enrol(
            participation=participation,
            by=nurse,
            participant_id=participant_id,
            enrolled_on=enrolled_on or timezone.localdate(),
        )
    assert _snapshot() == before
    return exc.value.message_dict


def test_enrolment_while_a_criterion_is_not_met_is_refused(case, site, nurse):
    participation = consented(case, site, nurse)
    ScreeningAnswer.objects.filter(participation=participation).update(answer=Answer.UNKNOWN)  # as if edited behind
    assert "is not answered" in _enrol_errors(participation, nurse, "LCX-8")["__all__"][0]


def test_participant_id_is_unique_in_the_trial_never_the_mrn_and_the_date_is_checked(case, site, nurse):
    enrolled(CaseFactory(assigned_liaison=nurse), site, nurse, participant_id="LCX-001")
    participation = consented(case, site, nurse)
    assert _enrol_errors(participation, nurse, "lcx-001")["participant_id"] == [
        "Participant id lcx-001 is already used in LCX-301."
    ]
    assert _enrol_errors(participation, nurse, "mrn4471")["participant_id"] == [
        "The participant id is the study's subject id, never the medical record number."
    ]
    assert "participant_id" in _enrol_errors(participation, nurse, "../x")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert _enrol_errors(participation, nurse, "LCX-002", tomorrow)["enrolled_on"] == [
        "The enrolment date cannot be in the future."
    ]
    services.enrol(participation=participation, by=nurse, participant_id="LCX-002", enrolled_on=timezone.localdate())


def test_withdrawal_needs_a_reason_and_ends_the_participation(case, site, nurse):
    participation = enrolled(case, site, nurse)
    assert _refused(services.withdraw, participation=participation, by=nurse, reason=" ") == [
        "Say why the participant withdraws."
    ]
    services.withdraw(participation=participation, by=nurse, reason="Moved away")
    participation.refresh_from_db()
    assert participation.status == S.WITHDRAWN and participation.ended_at is not None
    assert "withdrawn" in _refused(services.complete, participation=participation, by=nurse)[0]


def test_only_the_cases_liaison_or_its_managers_take_the_steps(case, site, nurse, other_nurse, msl, manager):
    with pytest.raises(PermissionDenied):
        services.start_screening(case=case, site=site, by=other_nurse)
    with pytest.raises(PermissionDenied):
        services.start_screening(case=case, site=site, by=msl)
    participation = services.start_screening(case=case, site=site, by=manager)
    with pytest.raises(PermissionDenied):
        services.answer_criteria(participation=participation, by=other_nurse, answers={})
    with pytest.raises(PermissionDenied):
        services.approve_consent_version(trial=site.trial, by=nurse, version="9", approved_on=timezone.localdate())


def test_irb_approvals_move_the_consent_version_on_and_refuse_what_cannot_be(site, msl):
    trial = site.trial
    assert _approve_errors(trial, msl, "1.0", timezone.localdate()) == {
        "version": ["Version 1.0 is already recorded for this trial."]
    }
    assert _approve_errors(trial, msl, "2.0", timezone.localdate() + dt.timedelta(days=1)) == {
        "approved_on": ["The approval date cannot be in the future."]
    }
    assert (
        "cannot have been approved before it"
        in _approve_errors(trial, msl, "2.0", timezone.localdate() - dt.timedelta(days=365))["approved_on"][0]
    )
    services.approve_consent_version(trial=trial, by=msl, version="2.0", approved_on=timezone.localdate())
    trial.research_consent_form.refresh_from_db()
    assert trial.research_consent_form.current_version == "2.0"
    assert list(trial.irb_approvals.values_list("version", flat=True)) == ["2.0", "1.0"]


def _approve_errors(trial, by, version, on) -> dict:
    form = trial.research_consent_form
    form.refresh_from_db()
    before = (trial.irb_approvals.count(), form.current_version)
    with pytest.raises(ValidationError) as exc:
        services.approve_consent_version(trial=trial, by=by, version=version, approved_on=on)
    form.refresh_from_db()
    assert (trial.irb_approvals.count(), form.current_version) == before
    return exc.value.message_dict


def test_answered_criteria_can_no_longer_change(case, site, nurse, msl):
    participation = services.start_screening(case=case, site=site, by=nurse)
    services.set_criteria(
        trial=site.trial, by=msl, inclusion=["Age 18 or older", "Relapsed DLBCL"], exclusion=["Active CNS lymphoma"]
    )  # unchanged: fine
    services.answer_criteria(participation=participation, by=nurse, answers=eligible_answers(participation))
    with pytest.raises(ValidationError, match="can no longer be changed"):
        services.set_criteria(trial=site.trial, by=msl, inclusion=["Age 21 or older"], exclusion=[])
    assert site.trial.criteria.count() == 3


def test_a_new_irb_version_opens_a_research_reconsent_follow_up_that_closes_when_renewed(case, site, nurse, msl):
    participation = enrolled(case, site, nurse)
    services.approve_consent_version(trial=site.trial, by=msl, version="2.0", approved_on=timezone.localdate())
    assert rules.run_rules(only=["research_reconsent"]) == {"research_reconsent": 1}
    follow_up = FollowUp.objects.get(rule="research_reconsent")
    assert follow_up.owner == nurse and follow_up.case == case and "v2.0" in follow_up.title
    assert "Lovelace" not in follow_up.title and "LCX-001" not in follow_up.title
    old = Consent.objects.get(case=case, form__trial=site.trial)
    renewal = patient_services.reconsent(
        consent=old,
        case=case,
        by=nurse,
        explained=True,
        teach_back_confirmed=True,
        interpreter_used=False,
        signed_by=SignedBy.PATIENT,
    )
    assert renewal.form_version == "2.0"
    old.refresh_from_db()
    assert old.status == ConsentStatus.SUPERSEDED
    follow_up.refresh_from_db()
    assert follow_up.status == "done"
    assert rules.run_rules(only=["research_reconsent"]) == {"research_reconsent": 0}
    participation.refresh_from_db()
    assert participation.status == S.ENROLLED


def test_screenings_and_consents_waiting_too_long_open_follow_ups_done_when_they_move_on(case, site, nurse):
    participation = services.start_screening(case=case, site=site, by=nurse)
    Participation.objects.filter(pk=participation.pk).update(status_changed_at=timezone.now() - dt.timedelta(days=15))
    assert rules.run_rules(only=["screening_open"]) == {"screening_open": 1}
    follow_up = FollowUp.objects.get(rule="screening_open")
    assert follow_up.title == f"Case #{case.pk}: screening for LCX-301 open for more than 14 days"
    services.answer_criteria(participation=participation, by=nurse, answers=eligible_answers(participation))
    services.conclude_screening(participation=participation, by=nurse, eligible=True)
    follow_up.refresh_from_db()
    assert follow_up.status == "done"
    sign_research_consent(participation, nurse)
    services.record_consent(participation=participation, by=nurse)
    Participation.objects.filter(pk=participation.pk).update(status_changed_at=timezone.now() - dt.timedelta(days=8))
    assert rules.run_rules(only=["consented_not_enrolled"]) == {"consented_not_enrolled": 1}


def test_every_step_is_audited_naming_the_patient_and_case(case, site, nurse):
    participation = screen_eligible(case, site, nurse)
    entries = LogEntry.objects.get_for_object(participation)
    assert entries.count() >= 2
    for entry in entries:
        assert entry.additional_data["case_id"] == case.pk and entry.additional_data["patient_id"] == case.patient_id
    answer = ScreeningAnswer.objects.filter(participation=participation).first()
    assert LogEntry.objects.get_for_object(answer).first().additional_data["team_id"] == case.team_id
