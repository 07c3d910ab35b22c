from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from documents import services as document_services
from documents.choices import DocumentKind
from patients import services as patient_services
from patients.choices import ConsentStatus, SignedBy
from physicians.choices import CriterionKind, SiteStatus, TrialStatus
from physicians.models import TrialCriterion
from research import services
from research.choices import Answer
from tests.documents import samples
from tests.factories import CaseFactory
from tests.physicians.factories import ClinicalTrialFactory, TrialSiteFactory

INCLUSION = ["Age 18 or older", "Relapsed DLBCL"]
EXCLUSION = ["Active CNS lymphoma"]


@pytest.fixture
def trial(msl):
    trial = ClinicalTrialFactory(protocol_number="LCX-301", nct_number="NCT05530101", status=TrialStatus.RECRUITING)
    TrialCriterion.objects.bulk_create(
        [
            TrialCriterion(trial=trial, kind=CriterionKind.INCLUSION, position=i, text=t)
            for i, t in enumerate(INCLUSION, 1)
        ]
        + [
            TrialCriterion(trial=trial, kind=CriterionKind.EXCLUSION, position=i, text=t)
            for i, t in enumerate(EXCLUSION, 1)
        ]
    )
    services.approve_consent_version(
        trial=trial, by=msl, version="1.0", approved_on=timezone.localdate() - dt.timedelta(days=100)
    )
    return trial


@pytest.fixture
def site(trial):
    return TrialSiteFactory(trial=trial, status=SiteStatus.ENROLLING, institution__name="Mercy General")


@pytest.fixture
def case(nurse):
    return CaseFactory(
        assigned_liaison=nurse,
        patient__first_name="Ada",
        patient__last_name="Lovelace",
        patient__mrn="MRN-4471",
        stage="admitted",
        referral_received_at=timezone.now() - dt.timedelta(days=30),
    )


def eligible_answers(participation) -> dict[int, str]:
    return {
        c.pk: Answer.MET if c.kind == CriterionKind.INCLUSION else Answer.NOT_MET
        for c, _ in services.criteria_with_answers(participation)
    }


def screen_eligible(case, site, by):
    participation = services.start_screening(case=case, site=site, by=by)
    services.answer_criteria(participation=participation, by=by, answers=eligible_answers(participation))
    return services.conclude_screening(participation=participation, by=by, eligible=True)


def sign_research_consent(participation, by, *, copy: bool = True):
    consent = services.add_research_consent(participation=participation, by=by)
    consent = patient_services.update_consent(
        consent=consent,
        case=participation.case,
        by=by,
        explained=True,
        teach_back_confirmed=True,
        interpreter_used=False,
        status=ConsentStatus.SIGNED,
        signed_by=SignedBy.PATIENT,
        witness_name="Coordinator",
    )
    if copy:
        document_services.upload_documents(
            by=by,
            uploads=[samples.upload("signed.pdf", samples.pdf())],
            kind=DocumentKind.SIGNED_CONSENT,
            case=participation.case,
            consent=consent,
        )
    return consent


def consented(case, site, by):
    participation = screen_eligible(case, site, by)
    sign_research_consent(participation, by)
    return services.record_consent(participation=participation, by=by)


def enrolled(case, site, by, participant_id="LCX-001"):
    participation = consented(case, site, by)
    return services.enrol(
        participation=participation, by=by, participant_id=participant_id, enrolled_on=timezone.localdate()
    )
