from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from documents import selectors as documents_selectors
from documents import services as documents_services
from documents.choices import DocumentKind
from patients import services
from patients.choices import AuthorizationStatus, ConsentStatus, Eligibility, SignedBy, Stage
from patients.models import Evaluation
from tests.documents import samples
from tests.factories import CaseFactory, ConsentFormFactory


@pytest.fixture
def case(nurse):
    """A fresh referral carried by `nurse` (team CL North)."""
    return CaseFactory(assigned_liaison=nurse, patient__first_name="Ada", patient__last_name="Lovelace")


@pytest.fixture
def other_case(other_nurse):
    return CaseFactory(assigned_liaison=other_nurse, patient__first_name="Zed", patient__last_name="Outsider")


@pytest.fixture
def consent_form(db):
    return ConsentFormFactory(name="Admission", current_version="2.0")


def provide_evidence(case, by) -> None:
    """What the checklist's ticks rest on (services.EVIDENCE): a medical-record document, a
    treatment plan, the listed medications reconciled, and a verified primary coverage whose payer
    needs no authorization (make_admittable approves one later)."""
    if not documents_selectors.has_medical_record(case):
        file_medical_record(case, by)
    services.save_treatment_plan(
        case=case,
        by=by,
        goals="Walk 100 m unaided.",
        planned_services="Physical therapy daily.",
        expected_length_of_stay_days=14,
    )
    for medication in case.medications.filter(reconciled=False):
        services.save_medication(case=case, by=by, medication=medication, reconciled=True)
    if not case.coverages.filter(is_primary=True, verified_at__isnull=False).exists():
        services.save_coverage(
            case=case,
            by=by,
            verified=True,
            payer="Acme Health",
            plan="Gold",
            member_id="M1",
            is_primary=True,
            authorization_status=AuthorizationStatus.NOT_REQUIRED,
        )


def file_medical_record(case, by):
    """A one-page PDF filed on the case as its medical record, through the upload service."""
    (document,) = documents_services.upload_documents(
        by=by, uploads=[samples.upload("records.pdf", samples.pdf())], kind=DocumentKind.MEDICAL_RECORD, case=case
    )
    return document


def complete_evaluation(case, by) -> Evaluation:
    """Every review ticked, with its evidence, and the patient found eligible."""
    provide_evidence(case, by)
    evidence = {
        "records_reviewed": {"records_review_note": "Discharge summary and recent labs."},
        "medications_reviewed": {"no_current_medications": not case.medications.exists()},
    }
    for key, _label in Evaluation.CHECKLIST:
        services.set_checklist_item(case=case, by=by, item=key, done=True, **evidence.get(key, {}))
    return services.decide_eligibility(case=case, by=by, eligibility=Eligibility.ELIGIBLE, clinical_notes="Fit.")


def make_admittable(case, by, consent_form) -> None:
    """Signed required consent and an approved authorization: what admission needs (on the
    primary coverage the evaluation verified, if there is one)."""
    services.save_coverage(
        case=case,
        by=by,
        coverage=case.coverages.filter(is_primary=True).first(),
        verified=True,
        payer="Acme Health",
        plan="Gold",
        member_id="M1",
        is_primary=True,
        authorization_status=AuthorizationStatus.APPROVED,
        authorization_number="A-1",
        authorization_valid_from=timezone.localdate(),
        authorization_valid_to=timezone.localdate() + dt.timedelta(days=30),
    )
    consent = services.add_consent(case=case, by=by, form=consent_form, procedure="Admission")
    services.update_consent(
        consent=consent,
        case=case,
        by=by,
        explained=True,
        teach_back_confirmed=True,
        interpreter_used=False,
        status=ConsentStatus.SIGNED,
        signed_by=SignedBy.PATIENT,
    )


@pytest.fixture
def accepted_case(case, nurse):
    services.start_evaluation(case=case, by=nurse)
    complete_evaluation(case, nurse)
    services.accept(case=case, by=nurse)
    assert case.stage == Stage.ACCEPTED
    return case
