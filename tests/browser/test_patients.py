"""A nurse takes a referral through evaluation, coverage and consent to admission and discharge."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from patients.choices import Stage
from patients.models import Case
from tests.factories import CaseFactory, ConsentFormFactory

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_nurse_takes_a_referral_from_evaluation_to_discharge(page, nurse):
    ConsentFormFactory(name="Admission consent", current_version="2.0")
    case = CaseFactory(assigned_liaison=nurse, patient__first_name="Ada", patient__last_name="Lovelace")

    login(page, "nurse")
    page.goto("/patients/")
    page.get_by_role("link", name="Lovelace, Ada").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")

    # Evaluation: start, tick the checklist (in place), decide eligibility, accept.
    page.get_by_role("button", name="Start evaluation").click()
    expect(page.locator("#stage-bar [aria-current=step]")).to_contain_text("Evaluating")
    for label in ("Medical records reviewed", "Medications reviewed", "Treatment plan reviewed", "Insurance verified"):
        page.get_by_role("button", name=f"Mark done: {label}").click()
        expect(page.get_by_role("button", name=f"Mark done: {label}")).to_have_count(0)
    page.locator("#evaluation select[name=eligibility]").select_option("eligible")
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator("#evaluation")).to_contain_text("Complete")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#stage-bar [aria-current=step]")).to_contain_text("Accepted")
    expect(page.locator("#stage-bar .blockers")).to_contain_text("no insurance coverage recorded")

    # Coverage with an approved authorization.
    page.locator("#coverages summary").click()
    page.locator("#id_cov-payer").fill("Acme Health")
    page.locator("#id_cov-member_id").fill("M-123")
    page.locator("#id_cov-authorization_status").select_option("approved")
    page.locator("#id_cov-authorization_number").fill("AUTH-9")
    page.locator("#id_cov-verified").check()
    page.get_by_role("button", name="Add coverage").click()
    expect(page.locator("#coverages")).to_contain_text("Acme Health")
    expect(page.locator("#stage-bar .blockers")).not_to_contain_text("insurance")

    # Consent: add it, explain, teach-back, sign.
    page.locator("#consents summary").click()
    page.locator("#id_con-form").select_option(label="Admission consent v2.0")
    page.locator("#id_con-procedure").fill("Admission")
    page.get_by_role("button", name="Add consent").click()
    expect(page.locator("#consents")).to_contain_text("Pending")
    page.locator("#consents").get_by_role("button", name="Update").click()
    consent_id = case.consents.get().pk
    prefix = f"#id_consent{consent_id}-"
    page.locator(prefix + "explained").check()
    page.locator(prefix + "teach_back_confirmed").check()
    page.locator(prefix + "status").select_option("signed")
    page.locator(prefix + "signed_by").select_option("patient")
    page.get_by_role("button", name="Save consent").click()
    expect(page.locator("#consents")).to_contain_text("Signed")
    expect(page.locator("#stage-bar .blockers")).to_have_count(0)

    # Admit, then discharge.
    page.get_by_role("button", name="Admit").click()
    expect(page.locator("#stage-bar [aria-current=step]")).to_contain_text("Admitted")
    page.locator("summary", has_text="Discharge…").click()
    page.locator("#id_disposition").select_option("home_health")
    page.locator("#id_summary").fill("Goals met; home health twice weekly.")
    page.get_by_role("button", name="Discharge", exact=True).click()
    expect(page.locator("#stage-bar [aria-current=step]")).to_contain_text("Discharged")

    history = page.locator("#history")
    for step in ("Referred → Evaluating", "Evaluating → Accepted", "Accepted → Admitted", "Admitted → Discharged"):
        expect(history).to_contain_text(step)
    expect(history).to_contain_text(re.compile(nurse.get_full_name()))
    case.refresh_from_db()
    assert case.stage == Stage.DISCHARGED and case.discharge_disposition == "home_health"
    assert Case.objects.get(pk=case.pk).admitted_at is not None
