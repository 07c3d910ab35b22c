"""A nurse takes a referral through evaluation, coverage and consent to admission and discharge;
a new referral picks its people by typing; the case page's add forms load when opened."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from patients.choices import Stage
from patients.models import Case, Medication
from tests.documents import samples
from tests.factories import CaseFactory, ConsentFormFactory, InstitutionFactory, PhysicianFactory, UserFactory

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_nurse_takes_a_referral_from_evaluation_to_discharge(page, nurse):
    ConsentFormFactory(name="Admission consent", current_version="2.0")
    case = CaseFactory(
        assigned_liaison=nurse,
        patient__first_name="Ada",
        patient__last_name="Lovelace",
        expected_admission_date=timezone.localdate() + dt.timedelta(days=2),
    )

    login(page, "nurse")
    page.goto("/patients/")
    page.get_by_role("link", name="Lovelace, Ada").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Lovelace")

    # Evaluation: start, tick the checklist (in place) with each tick's evidence, decide
    # eligibility, accept. A tick without its evidence says what is missing.
    page.get_by_role("button", name="Start evaluation").click()
    expect(page.locator("#stage-bar [aria-current=step]")).to_contain_text("Evaluating")
    evaluation = page.locator("#evaluation")
    evaluation.get_by_role("button", name="Mark done: Insurance verified").click()
    expect(evaluation.get_by_role("alert")).to_contain_text("no primary insurance coverage is recorded")
    # "Medical records reviewed" rests on a medical-record document filed on the case.
    evaluation.get_by_role("button", name="Mark done: Medical records reviewed").click()
    expect(evaluation.get_by_role("alert")).to_contain_text("no medical-record document is filed on the case")
    documents = page.locator("#documents")
    documents.locator("input[type=file]").set_input_files(
        files=[{"name": "Discharge summary.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()}]
    )
    documents.get_by_label("Kind of document").select_option("medical_record")
    documents.get_by_role("button", name="Upload").click()
    expect(documents.locator(".document-row", has_text="Discharge summary")).to_be_visible()
    evaluation.get_by_label("Records reviewed").fill("Discharge summary and labs from the referring hospital")
    evaluation.get_by_role("button", name="Mark done: Medical records reviewed").click()
    expect(evaluation).to_contain_text("Reviewed: Discharge summary and labs")
    evaluation.get_by_label("No current medications").check()
    evaluation.get_by_role("button", name="Mark done: Medications reviewed").click()
    expect(evaluation).to_contain_text("No current medications.")

    # The treatment plan, then the coverage with an approved authorization, then their ticks.
    plan = page.locator("#treatment_plan")
    plan.locator("summary", has_text="Record the treatment plan").click()
    plan.get_by_label("Goals").fill("Walk 100 m with a rolling walker")
    plan.get_by_label("Planned services or therapies").fill("Physical therapy daily")
    plan.get_by_label("Expected length of stay (days)").fill("14")
    plan.get_by_role("button", name="Save treatment plan").click()
    expect(page.locator("#treatment_plan")).to_contain_text("14 days")
    page.locator("#coverages summary").click()
    page.locator("#id_cov-payer").fill("Acme Health")
    page.locator("#id_cov-member_id").fill("M-123")
    page.locator("#id_cov-authorization_status").select_option("approved")
    page.locator("#id_cov-authorization_number").fill("AUTH-9")
    page.locator("#id_cov-verified").check()
    page.get_by_role("button", name="Add coverage").click()
    expect(page.locator("#coverages")).to_contain_text("Acme Health")
    for label in ("Treatment plan reviewed", "Insurance verified"):
        evaluation.get_by_role("button", name=f"Mark done: {label}").click()
        expect(evaluation.get_by_role("button", name=f"Mark done: {label}")).to_have_count(0)
    page.locator("#evaluation select[name=eligibility]").select_option("eligible")
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator("#evaluation")).to_contain_text("Complete")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#stage-bar [aria-current=step]")).to_contain_text("Accepted")
    expect(page.locator("#stage-bar .blockers")).to_contain_text("no required consent has been recorded")
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


def _pick(page, field_id: str, typed: str, option: str) -> None:
    """Type into a Tom Select picker and choose the matching option from the lookup's answers."""
    # Focusing the box preloads the list; typing starts once that answer is in, and the option is
    # looked for once the lookup has answered what was typed (a loaded CI machine is slow at both).
    with page.expect_response(lambda r: "/lookups/" in r.url and r.url.endswith("q=")):
        page.locator(f"#{field_id}-ts-control").locator("xpath=..").click()  # the picker's box
    expect(page.locator(f"#{field_id}-ts-control")).to_be_focused()
    with page.expect_response(lambda r: "/lookups/" in r.url and f"q={typed}" in r.url):
        page.keyboard.type(typed)
    page.locator(f"#{field_id}-ts-dropdown .option", has_text=option).click()


def test_a_new_referral_picks_its_liaison_and_physician_by_typing(page, nurse):
    teammate = UserFactory(
        username="mate", first_name="Grace", last_name="Okafor", role=User.Role.CLINICAL_LIAISON, team=nurse.team
    )
    UserFactory(username="far", first_name="Grace", last_name="Outside", role=User.Role.CLINICAL_LIAISON)
    physician = PhysicianFactory(
        first_name="Rita", last_name="Referrer", institution=InstitutionFactory(name="Mercy General")
    )
    PhysicianFactory(first_name="Other", last_name="Doctor")

    login(page, "nurse")
    page.goto("/patients/referrals/new/")
    page.get_by_label("Medical record number").fill("MRN-TYPE-1")
    page.get_by_label("Date of birth").fill("1950-03-04")
    page.get_by_label("First name").fill("Alan")
    page.get_by_label("Last name").fill("Turing")
    page.get_by_label("Program / unit").fill("Cardiac rehabilitation")
    page.get_by_label("Reason for referral / diagnosis").fill("CHF")
    # The liaison picker starts on the nurse herself; typing asks the lookup, which offers the
    # liaisons of her team only.
    expect(page.locator("#id_assigned_liaison-ts-control").locator("..")).to_contain_text(nurse.get_full_name())
    _pick(page, "id_assigned_liaison", "Grac", "Okafor")
    expect(page.locator("#id_assigned_liaison-ts-dropdown")).not_to_contain_text("Outside")
    _pick(page, "id_referral_physician", "Refer", "Referrer, Rita")
    page.get_by_role("button", name="Create referral").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Alan Turing")
    expect(page.locator("#case-details")).to_contain_text("Referrer")
    case = Case.objects.get(patient__mrn="MRN-TYPE-1")
    assert case.assigned_liaison == teammate and case.referral_physician == physician


def test_add_medication_loads_its_form_when_opened_and_saves_in_place(page, nurse):
    case = CaseFactory(assigned_liaison=nurse, patient__first_name="Ada", patient__last_name="Lovelace")
    login(page, "nurse")
    page.goto(f"/patients/cases/{case.pk}/")
    medications = page.locator("#medications")
    expect(medications.locator("#id_med-name")).to_have_count(0)  # not rendered with the page

    with page.expect_response(lambda r: f"/patients/cases/{case.pk}/forms/medication/" in r.url) as loaded:
        medications.locator("summary", has_text="Add a medication").click()
    assert loaded.value.status == 200 and loaded.value.request.headers.get("hx-request") == "true"
    name = medications.locator("#id_med-name")
    expect(name).to_be_focused()  # the loaded form takes the cursor
    name.fill("Metoprolol")
    medications.get_by_label("Dose").fill("25 mg")
    medications.get_by_role("button", name="Add medication").click()

    expect(medications.locator("tbody")).to_contain_text("Metoprolol")
    expect(medications.locator("#id_med-name")).to_have_count(0)  # the list re-rendered, its form closed
    assert page.url.endswith(f"/patients/cases/{case.pk}/")  # in place, no page load
    assert Medication.objects.get(case=case).dose == "25 mg"

    # A refused add comes back open with its error.
    medications.locator("summary", has_text="Add a medication").click()
    medications.get_by_role("button", name="Add medication").click()
    expect(medications.locator("details[open] .invalid-feedback")).to_contain_text("This field is required")


def test_decline_is_a_button_like_the_others_and_opens_its_form_in_a_box(page, nurse):
    case = CaseFactory(assigned_liaison=nurse)
    login(page, "nurse")
    page.goto(f"/patients/cases/{case.pk}/")
    bar = page.locator("#stage-bar")
    decline = bar.locator("summary", has_text="Decline…")
    start = bar.get_by_role("button", name="Start evaluation")
    details = bar.locator("details.transition-details")
    # Closed: no box of its own, and the same height as the other transition buttons.
    assert details.evaluate("d => getComputedStyle(d).borderTopWidth") == "0px"
    assert abs(decline.bounding_box()["height"] - start.bounding_box()["height"]) < 1
    # Keyboard: focus the summary and press Enter to open it; the form loads in a box.
    decline.focus()
    page.keyboard.press("Enter")
    form_box = details.locator(".lazy-form")
    expect(form_box.get_by_label("Reason")).to_be_visible()
    assert form_box.evaluate("d => getComputedStyle(d).borderTopWidth") == "1px"
    page.on("dialog", lambda dialog: dialog.accept())
    form_box.get_by_label("Reason").select_option("no_bed")
    form_box.get_by_role("button", name="Decline case").click()
    expect(bar).to_contain_text("Declined: No bed")
    assert Case.objects.get(pk=case.pk).stage == Stage.DECLINED
