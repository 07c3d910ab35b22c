"""Checklist ticks need their evidence (issue 15): each tick is refused, with what is missing and
nothing written, until its evidence is there, and acceptance asks the same questions again."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from documents import services as documents_services
from documents.choices import DocumentKind
from documents.models import Document
from patients import services
from patients.choices import AuthorizationStatus, Stage
from patients.models import Case, Evaluation, TreatmentPlan

from .conftest import complete_evaluation, file_medical_record, make_admittable

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
D = dt.date(2026, 12, 10)  # the expected admission date of the insurance tests


@pytest.fixture
def evaluating(case, nurse):
    services.start_evaluation(case=case, by=nurse)
    return case


def _row(case) -> dict:
    return Evaluation.objects.filter(case=case).values().get()


def _refused(case, nurse, item: str, **evidence) -> str:
    """The tick's refusal message; the Evaluation row is asserted unchanged."""
    before = _row(case)
    with pytest.raises(ValidationError) as exc:
        services.set_checklist_item(case=case, by=nurse, item=item, done=True, **evidence)
    assert _row(case) == before
    return exc.value.messages[0]


def _tick(case, nurse, item: str, **evidence) -> Evaluation:
    evaluation = services.set_checklist_item(case=case, by=nurse, item=item, done=True, **evidence)
    assert getattr(evaluation, f"{item}_at") is not None and getattr(evaluation, f"{item}_by") == nurse
    return evaluation


def _coverage(case, nurse, *, verified=True, primary=True, status=AuthorizationStatus.NOT_REQUIRED, **fields):
    if status == AuthorizationStatus.APPROVED:
        fields.setdefault("authorization_number", "A-7")
    return services.save_coverage(
        case=case,
        by=nurse,
        verified=verified,
        payer="Acme",
        plan="Gold",
        member_id="M9",
        is_primary=primary,
        authorization_status=status,
        **fields,
    )


def _plan(case, nurse, **fields) -> TreatmentPlan:
    values = {"goals": "Walk 100 m", "planned_services": "Physical therapy", "expected_length_of_stay_days": 10}
    return services.save_treatment_plan(case=case, by=nurse, **{**values, **fields})


# --- insurance verified -------------------------------------------------------------------------


def test_insurance_tick_needs_a_primary_coverage(evaluating, nurse):
    assert _refused(evaluating, nurse, "insurance_verified") == (
        "Cannot mark “Insurance verified” done: no primary insurance coverage is recorded"
    )
    _coverage(evaluating, nurse, primary=False)  # verified, but not the primary one
    assert "no primary insurance coverage is recorded" in _refused(evaluating, nurse, "insurance_verified")


def test_insurance_tick_needs_the_primary_coverage_verified(evaluating, nurse):
    coverage = _coverage(evaluating, nurse, verified=False)
    message = _refused(evaluating, nurse, "insurance_verified")
    assert message == "Cannot mark “Insurance verified” done: the primary coverage (Acme Gold) is not verified"
    services.save_coverage(case=evaluating, by=nurse, coverage=coverage, verified=True)
    _tick(evaluating, nurse, "insurance_verified")


@pytest.mark.parametrize("status", [AuthorizationStatus.PENDING, AuthorizationStatus.DENIED])
def test_insurance_tick_needs_an_approved_authorization_where_the_payer_needs_one(evaluating, nurse, status):
    evaluating.expected_admission_date = D
    evaluating.save()
    _coverage(evaluating, nurse, status=status)
    message = _refused(evaluating, nurse, "insurance_verified")
    assert message.endswith(f"the authorization of Acme Gold is {status.label.lower()}")


def test_insurance_tick_needs_the_expected_admission_date_to_check_the_authorization(evaluating, nurse):
    _coverage(evaluating, nurse, status=AuthorizationStatus.APPROVED)
    assert _refused(evaluating, nurse, "insurance_verified").endswith(
        "the case has no expected admission date to check the authorization against"
    )


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "refusal"),
    [
        (D, D, None),
        (D - dt.timedelta(days=5), None, None),  # open end
        (None, D + dt.timedelta(days=1), None),  # open start
        (None, None, None),
        (D + dt.timedelta(days=1), None, "(valid from 2026-12-11)"),
        (None, D - dt.timedelta(days=1), "(valid until 2026-12-09)"),
        (D - dt.timedelta(days=30), D - dt.timedelta(days=1), "(valid 2026-11-10 to 2026-12-09)"),
    ],
)
def test_insurance_tick_needs_the_authorization_valid_on_the_expected_admission_date(
    evaluating, nurse, valid_from, valid_to, refusal
):
    evaluating.expected_admission_date = D
    evaluating.save()
    _coverage(
        evaluating,
        nurse,
        status=AuthorizationStatus.APPROVED,
        authorization_valid_from=valid_from,
        authorization_valid_to=valid_to,
    )
    if refusal is None:
        _tick(evaluating, nurse, "insurance_verified")
    else:
        message = _refused(evaluating, nurse, "insurance_verified")
        assert message.endswith(
            f"the authorization of Acme Gold is not valid on the expected admission date 2026-12-10 {refusal}"
        )


def test_insurance_tick_with_no_authorization_required_needs_no_date(evaluating, nurse):
    _coverage(evaluating, nurse, status=AuthorizationStatus.NOT_REQUIRED)
    _tick(evaluating, nurse, "insurance_verified")


def test_an_authorization_that_starts_in_the_future_blocks_admission_until_it_starts(
    accepted_case, nurse, consent_form
):
    make_admittable(accepted_case, nurse, consent_form)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    coverage = accepted_case.coverages.get(is_primary=True)
    services.save_coverage(
        case=accepted_case, by=nurse, coverage=coverage, verified=True, authorization_valid_from=tomorrow
    )
    with pytest.raises(ValidationError) as exc:
        services.admit(case=accepted_case, by=nurse)
    assert exc.value.messages == [f"Cannot admit: insurance authorization starts on {tomorrow:%Y-%m-%d}"]
    accepted_case.refresh_from_db()
    assert accepted_case.stage == Stage.ACCEPTED and accepted_case.admitted_at is None
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        services.admit(case=accepted_case, by=nurse)
    accepted_case.refresh_from_db()
    assert accepted_case.stage == Stage.ADMITTED


# --- medications reviewed -----------------------------------------------------------------------


def test_medications_tick_needs_a_list_or_no_current_medications(evaluating, nurse):
    assert _refused(evaluating, nurse, "medications_reviewed") == (
        "Cannot mark “Medications reviewed” done: no medication is listed and “no current medications” is not confirmed"
    )
    evaluation = _tick(evaluating, nurse, "medications_reviewed", no_current_medications=True)
    assert Evaluation.objects.get(pk=evaluation.pk).no_current_medications is True


def test_no_current_medications_is_refused_while_medications_are_listed(evaluating, nurse):
    services.save_medication(case=evaluating, by=nurse, name="Warfarin", reconciled=True)
    message = _refused(evaluating, nurse, "medications_reviewed", no_current_medications=True)
    assert message == (
        "Cannot mark “Medications reviewed” done: “no current medications” cannot be confirmed while Warfarin is listed"
    )
    assert _tick(evaluating, nurse, "medications_reviewed", no_current_medications=False)


def test_medications_tick_needs_every_medication_reconciled(evaluating, nurse):
    services.save_medication(case=evaluating, by=nurse, name="Warfarin")
    apixaban = services.save_medication(case=evaluating, by=nurse, name="Apixaban")
    services.save_medication(case=evaluating, by=nurse, name="Metoprolol", reconciled=True)
    assert _refused(evaluating, nurse, "medications_reviewed").endswith("Apixaban and Warfarin are not reconciled")
    services.save_medication(case=evaluating, by=nurse, medication=apixaban, reconciled=True)
    assert _refused(evaluating, nurse, "medications_reviewed").endswith(": Warfarin is not reconciled")


def test_undoing_the_medications_tick_clears_no_current_medications(evaluating, nurse):
    _tick(evaluating, nurse, "medications_reviewed", no_current_medications=True)
    services.set_checklist_item(case=evaluating, by=nurse, item="medications_reviewed", done=False)
    row = _row(evaluating)
    assert row["medications_reviewed_at"] is None and row["no_current_medications"] is False


# --- treatment plan reviewed --------------------------------------------------------------------


def test_treatment_plan_tick_needs_a_treatment_plan(evaluating, nurse):
    assert _refused(evaluating, nurse, "treatment_plan_reviewed") == (
        "Cannot mark “Treatment plan reviewed” done: the case has no treatment plan"
    )
    _plan(evaluating, nurse)
    _tick(evaluating, nurse, "treatment_plan_reviewed")


def test_a_case_has_one_treatment_plan_saved_and_updated_by_the_service(case, nurse, nurse_teammate):
    plan = _plan(case, nurse)
    again = _plan(case, nurse, goals="Climb stairs", expected_length_of_stay_days=12)
    assert again.pk == plan.pk and TreatmentPlan.objects.count() == 1
    plan.refresh_from_db()
    assert (plan.goals, plan.expected_length_of_stay_days, plan.updated_by) == ("Climb stairs", 12, nurse)
    with pytest.raises(PermissionDenied):
        _plan(case, nurse_teammate)  # sees the case, does not carry it


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expected_length_of_stay_days": 0}, "expected_length_of_stay_days"),
        ({"goals": ""}, "goals"),
        ({"planned_services": ""}, "planned_services"),
    ],
)
def test_a_treatment_plan_needs_goals_services_and_a_positive_stay(case, nurse, fields, field):
    with pytest.raises(ValidationError) as exc:
        _plan(case, nurse, **fields)
    assert field in exc.value.message_dict
    assert TreatmentPlan.objects.count() == 0


def test_a_closed_case_s_treatment_plan_cannot_change(case, nurse):
    services.cancel(case=case, by=nurse)
    with pytest.raises(ValidationError, match="treatment plan can no longer be changed"):
        _plan(case, nurse)
    assert TreatmentPlan.objects.count() == 0


def test_the_treatment_plan_is_audited_like_the_case_s_other_records(case, nurse, client_for):
    response = client_for(nurse).post(
        reverse("patients:treatment_plan_add", args=[case.pk]),
        {"plan-goals": "Walk", "plan-planned_services": "PT", "plan-expected_length_of_stay_days": "9"},
    )
    assert response.status_code == 302
    entry = LogEntry.objects.get_for_object(TreatmentPlan.objects.get()).get(action=LogEntry.Action.CREATE)
    assert entry.actor == nurse
    assert entry.additional_data == {"patient_id": case.patient_id, "case_id": case.pk, "team_id": case.team_id}


# --- medical records reviewed -------------------------------------------------------------------


NO_RECORD = "no medical-record document is filed on the case (upload it under Documents)"


def test_records_tick_needs_a_medical_record_document(evaluating, nurse):
    expected = f"Cannot mark “Medical records reviewed” done: {NO_RECORD}"
    assert _refused(evaluating, nurse, "records_reviewed", records_review_note="Labs") == expected
    # A document of another kind is not a medical record.
    file_medical_record(evaluating, nurse)
    Document.objects.filter(case=evaluating).update(kind=DocumentKind.INSURANCE_CARD)
    assert _refused(evaluating, nurse, "records_reviewed") == expected
    # Nor is a medical record entered in error.
    record = file_medical_record(evaluating, nurse)
    documents_services.mark_entered_in_error(document=record, by=nurse, reason="Another patient's file")
    assert _refused(evaluating, nurse, "records_reviewed") == expected

    file_medical_record(evaluating, nurse)
    _tick(evaluating, nurse, "records_reviewed")
    assert _row(evaluating)["records_review_note"] == ""  # the note is optional


def test_the_records_tick_keeps_its_note(evaluating, nurse):
    file_medical_record(evaluating, nurse)
    _tick(evaluating, nurse, "records_reviewed", records_review_note=" Discharge summary, labs ")
    assert _row(evaluating)["records_review_note"] == "Discharge summary, labs"


def test_a_record_entered_in_error_after_the_tick_blocks_acceptance(evaluating, nurse, client_for):
    complete_evaluation(evaluating, nurse)
    (record,) = Document.objects.filter(case=evaluating)
    documents_services.mark_entered_in_error(document=record, by=nurse, reason="Scanned the wrong chart")
    blocker = f"medical records reviewed is ticked, but {NO_RECORD}"
    with pytest.raises(ValidationError) as exc:
        services.accept(case=evaluating, by=nurse)
    assert exc.value.messages == [f"Cannot accept: {blocker}"]
    assert Case.objects.get(pk=evaluating.pk).stage == Stage.EVALUATING
    client = client_for(nurse)
    # The case page's stage bar and the worklist's next step say the same.
    assert blocker in client.get(reverse("patients:case_detail", args=[evaluating.pk])).content.decode()
    (row,) = [c for g in client.get(reverse("patients:worklist")).context["groups"] for c in g["cases"]]
    assert row.next_step == blocker
    # Filing the record again clears it.
    file_medical_record(evaluating, nurse)
    assert services.accept_blockers(Case.objects.get(pk=evaluating.pk)) == []


def test_a_tick_records_only_its_own_evidence(evaluating, nurse):
    _coverage(evaluating, nurse)
    before = _row(evaluating)
    with pytest.raises(ValidationError, match="records no records_review_note"):
        services.set_checklist_item(
            case=evaluating, by=nurse, item="insurance_verified", done=True, records_review_note="x"
        )
    assert _row(evaluating) == before


# --- one check per item, asked again at acceptance ----------------------------------------------


def _evaluated_with_a_medication(case, nurse) -> None:
    services.save_medication(case=case, by=nurse, name="Metoprolol", reconciled=True)
    complete_evaluation(case, nurse)
    assert services.accept_blockers(Case.objects.get(pk=case.pk)) == []


def test_evidence_removed_after_the_tick_blocks_acceptance_in_the_same_words(evaluating, nurse):
    _evaluated_with_a_medication(evaluating, nurse)
    services.save_medication(case=evaluating, by=nurse, name="Metformin")  # new, not reconciled
    coverage = evaluating.coverages.get(is_primary=True)
    services.save_coverage(case=evaluating, by=nurse, coverage=coverage, verified=False)
    with pytest.raises(ValidationError) as exc:
        services.accept(case=evaluating, by=nurse)
    assert exc.value.messages == [
        "Cannot accept: medications reviewed is ticked, but Metformin is not reconciled; "
        "insurance verified is ticked, but the primary coverage (Acme Health Gold) is not verified"
    ]
    evaluating.refresh_from_db()
    assert evaluating.stage == Stage.EVALUATING and evaluating.accepted_at is None
    # The same words refuse the tick itself.
    services.set_checklist_item(case=evaluating, by=nurse, item="medications_reviewed", done=False)
    assert _refused(evaluating, nurse, "medications_reviewed").endswith(": Metformin is not reconciled")


def test_a_medication_listed_after_no_current_medications_blocks_acceptance(evaluating, nurse):
    complete_evaluation(evaluating, nurse)  # no medication listed: "no current medications"
    services.save_medication(case=evaluating, by=nurse, name="Metformin", reconciled=True)
    with pytest.raises(ValidationError) as exc:
        services.accept(case=evaluating, by=nurse)
    assert exc.value.messages == [
        "Cannot accept: medications reviewed is ticked, but “no current medications” cannot be confirmed "
        "while Metformin is listed"
    ]


def test_the_tick_and_acceptance_ask_the_one_function_of_each_item(evaluating, nurse, monkeypatch):
    complete_evaluation(evaluating, nurse)
    assert services.accept_blockers(Case.objects.get(pk=evaluating.pk)) == []
    monkeypatch.setitem(services.EVIDENCE, "treatment_plan_reviewed", lambda evaluation, records: ["a test says so"])
    assert services.accept_blockers(Case.objects.get(pk=evaluating.pk)) == [
        "treatment plan reviewed is ticked, but a test says so"
    ]
    services.set_checklist_item(case=evaluating, by=nurse, item="treatment_plan_reviewed", done=False)
    assert _refused(evaluating, nurse, "treatment_plan_reviewed").endswith(": a test says so")


def test_a_new_unreconciled_medication_shows_on_the_stage_bar_and_the_worklist(evaluating, nurse, client_for):
    _evaluated_with_a_medication(evaluating, nurse)
    services.save_medication(case=evaluating, by=nurse, name="Metformin")
    client = client_for(nurse)
    page = client.get(reverse("patients:case_detail", args=[evaluating.pk])).content.decode()
    assert "medications reviewed is ticked, but Metformin is not reconciled" in page
    worklist = client.get(reverse("patients:worklist")).content.decode()
    assert "medications reviewed is ticked, but Metformin is not reconciled" in worklist


# --- the case page ------------------------------------------------------------------------------


def test_a_refused_tick_shows_what_is_missing_over_htmx_and_writes_nothing(evaluating, nurse, client_for):
    services.save_medication(case=evaluating, by=nurse, name="Warfarin", reconciled=True)
    before = _row(evaluating)
    url = reverse("patients:checklist_item", args=[evaluating.pk, "medications_reviewed"])
    response = client_for(nurse).post(url, {"done": "1", "no_current_medications": "on"}, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="evaluation"')
    assert "“no current medications” cannot be confirmed while Warfarin is listed" in html
    assert re.search(r'<input[^>]*name="no_current_medications"[^>]*checked', html)  # what was ticked, kept
    assert _row(evaluating) == before


def test_a_refused_tick_without_javascript_shows_the_case_page_with_the_reason(evaluating, nurse, client_for):
    before = _row(evaluating)
    url = reverse("patients:checklist_item", args=[evaluating.pk, "treatment_plan_reviewed"])
    response = client_for(nurse).post(url, {"done": "1"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<h1" in html and "the case has no treatment plan" in html
    assert _row(evaluating) == before


def test_the_ticks_take_their_evidence_from_the_checklist_form(evaluating, nurse, client_for):
    client = client_for(nurse)
    page = client.get(reverse("patients:case_detail", args=[evaluating.pk])).content.decode()
    assert 'name="records_review_note"' in page and 'name="no_current_medications"' in page
    file_medical_record(evaluating, nurse)
    records = reverse("patients:checklist_item", args=[evaluating.pk, "records_reviewed"])
    assert client.post(records, {"done": "1", "records_review_note": "Discharge summary"}, **HX).status_code == 200
    meds = reverse("patients:checklist_item", args=[evaluating.pk, "medications_reviewed"])
    response = client.post(meds, {"done": "1", "no_current_medications": "on"}, **HX)
    assert response.status_code == 200
    row = _row(evaluating)
    assert row["records_review_note"] == "Discharge summary" and row["no_current_medications"] is True
    assert "Reviewed: Discharge summary" in response.content.decode()
    assert "No current medications." in response.content.decode()


def test_the_treatment_plan_form_loads_lazily_and_saves_in_place(
    case, nurse, client_for, django_assert_max_num_queries
):
    client = client_for(nurse)
    page = client.get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    form_url = reverse("patients:case_form", args=[case.pk, "treatment_plan"])
    assert form_url in page and 'name="plan-goals"' not in page  # loads when opened
    client.get(form_url, **HX)
    # + the case (with its patient, for the permission check), its treatment plan (to edit it)
    with django_assert_max_num_queries(2 + 2):
        blank = client.get(form_url, **HX)
    assert blank.status_code == 200 and 'name="plan-expected_length_of_stay_days"' in blank.content.decode()

    url = reverse("patients:treatment_plan_add", args=[case.pk])
    bad = client.post(
        url, {"plan-goals": "Walk", "plan-planned_services": "PT", "plan-expected_length_of_stay_days": "0"}, **HX
    )
    assert bad.status_code == 422 and "greater than or equal to 1" in bad.content.decode()
    assert TreatmentPlan.objects.count() == 0
    ok = client.post(
        url,
        {"plan-goals": "Walk 100 m", "plan-planned_services": "PT daily", "plan-expected_length_of_stay_days": "14"},
        **HX,
    )
    assert ok.status_code == 200 and ok["HX-Trigger"] == "case-changed"
    html = ok.content.decode()
    assert html.lstrip().startswith('<section id="treatment_plan"')
    assert "Walk 100 m" in html and "PT daily" in html and "14 days" in html
    assert "Edit the treatment plan" in html
    filled = client.get(form_url, **HX).content.decode()
    assert "Walk 100 m" in filled  # the form edits the plan
    client.post(
        url,
        {"plan-goals": "Climb stairs", "plan-planned_services": "PT", "plan-expected_length_of_stay_days": "7"},
        **HX,
    )
    plan = TreatmentPlan.objects.get()
    assert (plan.case_id, plan.goals, plan.expected_length_of_stay_days) == (case.pk, "Climb stairs", 7)
    printed = client.get(reverse("patients:case_print", args=[case.pk])).content.decode()
    assert "Climb stairs" in printed and "Expected length of stay: 7 days" in printed


@pytest.mark.parametrize("who", ["other_nurse", "other_manager"])
def test_outsiders_get_404_on_the_treatment_plan(case, who, request, client_for):
    client = client_for(request.getfixturevalue(who))
    data = {"plan-goals": "Walk", "plan-planned_services": "PT", "plan-expected_length_of_stay_days": "9"}
    assert client.post(reverse("patients:treatment_plan_add", args=[case.pk]), data).status_code == 404
    assert client.get(reverse("patients:case_form", args=[case.pk, "treatment_plan"]), **HX).status_code == 404
    assert TreatmentPlan.objects.count() == 0


def test_msls_and_teammates_cannot_write_the_treatment_plan(case, msl, nurse_teammate, client_for):
    data = {"plan-goals": "Walk", "plan-planned_services": "PT", "plan-expected_length_of_stay_days": "9"}
    url = reverse("patients:treatment_plan_add", args=[case.pk])
    assert client_for(msl).post(url, data).status_code == 403
    assert client_for(nurse_teammate).post(url, data).status_code == 403
    assert TreatmentPlan.objects.count() == 0
