"""A referral is screened for a trial, consented for research and enrolled, in real Chromium:
the nurse picks the site by typing, answers the criteria, takes the research consent on the case
page, files its signed copy, and enrols the patient under a subject id."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from physicians.choices import CriterionKind, SiteStatus, TrialStatus
from physicians.models import TrialCriterion
from research import services
from research.models import Participation
from tests.documents import samples
from tests.factories import CaseFactory, InstitutionFactory
from tests.physicians.factories import ClinicalTrialFactory, TrialSiteFactory

from .conftest import login
from .test_patients import _pick

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_referral_is_screened_consented_and_enrolled(page, nurse, msl):
    trial = ClinicalTrialFactory(protocol_number="LCX-301", nct_number="NCT05530101", status=TrialStatus.RECRUITING)
    TrialCriterion.objects.create(trial=trial, kind=CriterionKind.INCLUSION, position=1, text="Age 18 or older")
    TrialCriterion.objects.create(trial=trial, kind=CriterionKind.EXCLUSION, position=1, text="Active CNS lymphoma")
    services.approve_consent_version(trial=trial, by=msl, version="1.0", approved_on=timezone.localdate())
    TrialSiteFactory(trial=trial, status=SiteStatus.ENROLLING, institution=InstitutionFactory(name="Mercy General"))
    case = CaseFactory(
        assigned_liaison=nurse,
        patient__first_name="Ada",
        patient__last_name="Lovelace",
        referral_received_at=timezone.now() - dt.timedelta(days=3),
    )

    login(page, "nurse")
    page.goto(f"/patients/cases/{case.pk}/")
    page.locator("#trials").get_by_role("link", name="Screen for a trial").click()
    _pick(page, "id_site", "LCX", "LCX-301 · Mercy General")
    page.get_by_role("button", name="Start screening").click()
    expect(page.locator("#participation-status")).to_have_text("Screening")

    # The criteria, answered as the protocol needs them; then the outcome.
    page.get_by_role("group", name="Inclusion 1: Age 18 or older").get_by_label("Met", exact=True).check()
    page.get_by_role("group", name="Exclusion 1: Active CNS lymphoma").get_by_label("Not met").check()
    page.get_by_role("button", name="Save answers").click()
    page.get_by_label("Eligible").check()
    page.get_by_role("button", name="Conclude screening").click()
    expect(page.locator("#participation-status")).to_have_text("Eligible")

    # The research consent, on the case page like any consent: explained, understood, signed.
    page.get_by_role("button", name="Take the research consent").click()
    consent = case.consents.get(form__trial=trial)
    prefix = f"#id_consent{consent.pk}-"
    page.locator(f"#consent-{consent.pk}").get_by_role("button", name="Update").click()
    page.locator(prefix + "explained").check()
    page.locator(prefix + "teach_back_confirmed").check()
    page.locator(prefix + "status").select_option("signed")
    page.locator(prefix + "signed_by").select_option("patient")
    page.locator(prefix + "witness_name").fill("Research coordinator")
    page.get_by_role("button", name="Save consent").click()
    expect(page.locator(f"#consent-{consent.pk}")).to_contain_text("Signed")

    # Its signed copy, filed from the participation page.
    participation = Participation.objects.get(case=case)
    page.goto(f"/research/participations/{participation.pk}/")
    expect(page.locator("#research-consent")).to_contain_text("no signed copy filed")
    page.locator("#research-consent").get_by_role("link", name="file it").click()
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "Signed consent.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()}]
    )
    page.get_by_role("button", name="Upload").click()
    page.goto(f"/research/participations/{participation.pk}/")
    expect(page.locator("#research-consent")).to_contain_text("signed copy filed")
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("#participation-status")).to_have_text("Consented")

    # Enrolment: the MRN is refused as a participant id; the study's subject id is taken.
    page.get_by_label("Participant id").fill(case.patient.mrn)
    page.get_by_label("Enrolment date").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator("#enrolment")).to_contain_text("never the medical record number")
    page.get_by_label("Participant id").fill("LCX-0001")
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator("#participation-status")).to_have_text("Enrolled")
    participation.refresh_from_db()
    assert (participation.status, participation.participant_id) == ("enrolled", "LCX-0001")

    # The case's history holds every step.
    page.goto(f"/patients/cases/{case.pk}/")
    history = page.locator("#history .trial-history")
    for step in ("Screening → Eligible", "Eligible → Consented", "Consented → Enrolled"):
        expect(history).to_contain_text(step)
