"""Case lifecycle and the pre-admission work. Every write of PHI goes through here.

Each transition is one function: it checks who may act, takes a row lock, refuses a stale form
(optimistic locking on `Case.version`), checks its guards and says exactly what is missing,
then records the transition in the case's history and keeps the denormalised timestamps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .choices import (
    PRE_ADMISSION_STAGES,
    AuthorizationStatus,
    ConsentStatus,
    DeclineReason,
    DischargeDisposition,
    Eligibility,
    SignedBy,
    Stage,
)
from .models import (
    Case,
    CaseTransition,
    Communication,
    Consent,
    ConsentForm,
    Evaluation,
    InsuranceCoverage,
    Medication,
    Patient,
)


class StaleCaseError(ValidationError):
    """The form was opened on an older version of the case: nothing was written."""


# --- permissions ------------------------------------------------------------------------------


def can_change_case(user, case: Case) -> bool:
    """The assigned liaison, a manager of the case's team, or an administrator."""
    if not user.is_authenticated or not user.sees_phi:
        return False
    if user.is_admin_role:
        return True
    if user.is_manager:
        return user.sees_team(case.team_id)
    return case.assigned_liaison_id == user.pk


def _require_change(user, case: Case) -> None:
    if not can_change_case(user, case):
        raise PermissionDenied("Only the assigned liaison or a manager of the team may change this case.")


def _lock(case: Case, version: int | None) -> None:
    """Lock the row and refresh `case` from it; refuse if the caller's version is stale."""
    case.refresh_from_db(from_queryset=Case.objects.select_for_update())
    if version is not None and int(version) != case.version:
        raise StaleCaseError(
            "This case was changed by someone else since you opened it "
            f"(your version {version}, now {case.version}). Reload the page and try again; "
            "nothing was saved."
        )


def _transition(case: Case, *, by, to: str, note: str = "", at: dt.datetime | None = None, **fields) -> Case:
    at = at or timezone.now()
    from_stage = case.stage
    case.stage = to
    case.stage_changed_at = at
    case.version += 1
    for name, value in fields.items():
        setattr(case, name, value)
    case.full_clean(exclude=["patient", "team", "assigned_liaison", "created_by"])
    case.save()
    CaseTransition.objects.create(case=case, from_stage=from_stage, to_stage=to, by=by, at=at, note=note)
    return case


def _refuse(action: str, missing: Iterable[str]) -> None:
    missing = list(missing)
    if missing:
        raise ValidationError(f"Cannot {action}: " + "; ".join(missing))


# --- referral ------------------------------------------------------------------------------------


def find_duplicates(*, user, mrn: str, first_name: str, last_name: str, date_of_birth) -> dict:
    """Likely duplicates of a new patient. Outside the user's scope only the MRN clash is told."""
    result: dict = {"mrn_patient": None, "mrn_exists_elsewhere": False, "same_person": []}
    mrn = (mrn or "").strip()
    if mrn:
        existing = Patient.objects.filter(mrn__iexact=mrn).first()
        if existing is not None:
            if Patient.objects.visible_to(user).filter(pk=existing.pk).exists():
                result["mrn_patient"] = existing
            else:
                result["mrn_exists_elsewhere"] = True
    if first_name and last_name and date_of_birth:
        result["same_person"] = list(
            Patient.objects.visible_to(user)
            .filter(first_name__iexact=first_name.strip(), last_name__iexact=last_name.strip())
            .filter(date_of_birth=date_of_birth)
            .exclude(mrn__iexact=mrn)[:5]
        )
    return result


@transaction.atomic
def create_referral(
    *,
    by,
    case_fields: dict,
    patient_fields: dict | None = None,
    existing_patient: Patient | None = None,
) -> Case:
    """Create the case (and the patient unless an existing one is given), stage "referred"."""
    if not by.sees_phi:
        raise PermissionDenied("Only clinical liaisons and managers may take referrals.")
    liaison = case_fields.get("assigned_liaison") or (by if by.is_liaison else None)
    if liaison is None:
        raise ValidationError({"assigned_liaison": "Choose the liaison who will carry this case."})
    if liaison.team_id is None or not by.sees_team(liaison.team_id):
        raise ValidationError({"assigned_liaison": "That liaison is not on one of your teams."})
    if by.is_liaison and liaison.team_id != by.team_id:
        raise ValidationError({"assigned_liaison": "You can assign cases only within your own team."})
    if existing_patient is None:
        patient = Patient(**(patient_fields or {}))
        patient.audit_team_id = liaison.team_id
        patient.full_clean()
        patient.save()
    else:
        patient = existing_patient
    fields = {k: v for k, v in case_fields.items() if k != "assigned_liaison"}
    now = timezone.now()
    case = Case(
        patient=patient,
        assigned_liaison=liaison,
        team_id=liaison.team_id,
        created_by=by,
        stage=Stage.REFERRED,
        stage_changed_at=now,
        **fields,
    )
    if not case.referral_received_at:
        case.referral_received_at = now
    case.full_clean()
    case.save()
    CaseTransition.objects.create(
        case=case, from_stage="", to_stage=Stage.REFERRED, by=by, at=now, note="Referral received"
    )
    return case


@transaction.atomic
def update_case(*, case: Case, by, version: int | None, **fields) -> Case:
    _require_change(by, case)
    _lock(case, version)
    for name, value in fields.items():
        setattr(case, name, value)
    case.version += 1
    case.full_clean()
    case.save()
    return case


@transaction.atomic
def assign_case(*, case: Case, liaison, by, version: int | None) -> Case:
    """Managers move a case to another liaison of one of their teams."""
    if not (by.is_manager or by.is_admin_role) or not by.sees_team(case.team_id):
        raise PermissionDenied("Only a manager of the team may reassign a case.")
    if not liaison.is_liaison or not by.sees_team(liaison.team_id):
        raise ValidationError({"assigned_liaison": "Choose a clinical liaison of one of your teams."})
    _lock(case, version)
    previous = case.assigned_liaison_id
    case.assigned_liaison = liaison
    case.team_id = liaison.team_id
    case.version += 1
    case.save(update_fields=["assigned_liaison", "team", "version", "updated_at"])
    if liaison.pk != previous and liaison.pk != by.pk:
        from outreach.models import Notification
        from outreach.services import notify

        # By its number only: the title also goes by email, which must carry no patient data.
        notify(
            user=liaison,
            title=f"{by} assigned you case #{case.pk}",
            url=reverse("patients:case_detail", args=[case.pk]),
            kind=Notification.Kind.CASE_ASSIGNMENT,
        )
    return case


# --- lifecycle -----------------------------------------------------------------------------------


@transaction.atomic
def start_evaluation(*, case: Case, by, version: int | None = None, note: str = "") -> Case:
    _require_change(by, case)
    _lock(case, version)
    if case.stage != Stage.REFERRED:
        raise ValidationError(
            f"Cannot start the evaluation: the case is {case.get_stage_display().lower()}, not referred."
        )
    now = timezone.now()
    Evaluation.objects.get_or_create(case=case)
    return _transition(case, by=by, to=Stage.EVALUATING, note=note, at=now, evaluation_started_at=now)


def _evaluation(case: Case) -> Evaluation | None:
    try:
        return case.evaluation
    except Evaluation.DoesNotExist:
        return None


def accept_blockers(case: Case) -> list[str]:
    evaluation = _evaluation(case)
    if evaluation is None:
        return ["the evaluation has not started"]
    missing = [
        f"{label.lower()} is missing" for key, label in Evaluation.CHECKLIST if getattr(evaluation, f"{key}_at") is None
    ]
    if evaluation.eligibility == Eligibility.PENDING:
        missing.append("the eligibility decision is pending")
    elif evaluation.eligibility == Eligibility.NOT_ELIGIBLE:
        missing.append("the evaluation found the patient not eligible (decline the case instead)")
    return missing


@transaction.atomic
def accept(*, case: Case, by, version: int | None = None, note: str = "") -> Case:
    _require_change(by, case)
    _lock(case, version)
    if case.stage != Stage.EVALUATING:
        raise ValidationError(f"Cannot accept: the case is {case.get_stage_display().lower()}, not being evaluated.")
    _refuse("accept", accept_blockers(case))
    return _transition(case, by=by, to=Stage.ACCEPTED, note=note, accepted_at=timezone.now())


def admission_blockers(case: Case, consents: Iterable[Consent] | None = None, coverages=None) -> list[str]:
    """What stands between an accepted case and admission, in words for the liaison."""
    consents = list(case.consents.select_related("form") if consents is None else consents)
    coverages = list(case.coverages.all() if coverages is None else coverages)
    missing = []
    required = [c for c in consents if c.required]
    if not required:
        missing.append("no required consent has been recorded")
    for consent in required:
        if consent.status != ConsentStatus.SIGNED:
            missing.append(f"consent '{consent.procedure}' is {consent.get_status_display().lower()}")
        elif consent.form_version != consent.form.current_version:
            missing.append(f"consent '{consent.procedure}' was signed on an old form version ({consent.form_version})")
    primary = next((c for c in coverages if c.is_primary), coverages[0] if coverages else None)
    if primary is None:
        missing.append("no insurance coverage recorded")
    elif primary.authorization_status == AuthorizationStatus.PENDING:
        missing.append("insurance authorization is pending")
    elif primary.authorization_status == AuthorizationStatus.DENIED:
        missing.append("insurance authorization was denied")
    elif primary.authorization_status == AuthorizationStatus.APPROVED:
        today = timezone.localdate()
        if primary.authorization_valid_to and primary.authorization_valid_to < today:
            missing.append(f"insurance authorization expired on {primary.authorization_valid_to:%Y-%m-%d}")
    return missing


@transaction.atomic
def admit(
    *, case: Case, by, version: int | None = None, note: str = "", admitted_at: dt.datetime | None = None
) -> Case:
    _require_change(by, case)
    _lock(case, version)
    if case.stage != Stage.ACCEPTED:
        raise ValidationError(f"Cannot admit: the case is {case.get_stage_display().lower()}, not accepted.")
    _refuse("admit", admission_blockers(case))
    at = admitted_at or timezone.now()
    return _transition(case, by=by, to=Stage.ADMITTED, note=note, at=at, admitted_at=at)


@transaction.atomic
def discharge(
    *,
    case: Case,
    by,
    disposition: str,
    summary: str,
    version: int | None = None,
    note: str = "",
    discharged_at: dt.datetime | None = None,
) -> Case:
    _require_change(by, case)
    _lock(case, version)
    if case.stage != Stage.ADMITTED:
        raise ValidationError(f"Cannot discharge: the case is {case.get_stage_display().lower()}, not admitted.")
    at = discharged_at or timezone.now()
    missing = []
    if disposition not in DischargeDisposition.values:
        missing.append("the discharge disposition is missing")
    if not (summary or "").strip():
        missing.append("the discharge summary is missing")
    if case.admitted_at and at < case.admitted_at:
        missing.append("the discharge time is before the admission")
    _refuse("discharge", missing)
    return _transition(
        case,
        by=by,
        to=Stage.DISCHARGED,
        note=note,
        at=at,
        discharged_at=at,
        discharge_disposition=disposition,
        discharge_summary=summary.strip(),
    )


@transaction.atomic
def decline(*, case: Case, by, reason: str, version: int | None = None, note: str = "") -> Case:
    _require_change(by, case)
    _lock(case, version)
    if case.stage not in PRE_ADMISSION_STAGES:
        raise ValidationError(
            f"Cannot decline: the case is {case.get_stage_display().lower()}; only a case before admission can be declined."
        )
    if reason not in DeclineReason.values:
        raise ValidationError("Cannot decline: choose the reason for declining.")
    return _transition(case, by=by, to=Stage.DECLINED, note=note, decline_reason=reason)


@transaction.atomic
def cancel(*, case: Case, by, version: int | None = None, note: str = "") -> Case:
    _require_change(by, case)
    _lock(case, version)
    if case.stage not in PRE_ADMISSION_STAGES:
        raise ValidationError(
            f"Cannot cancel: the case is {case.get_stage_display().lower()}; only a case before admission can be cancelled."
        )
    return _transition(case, by=by, to=Stage.CANCELLED, note=note)


TRANSITIONS = {
    "start_evaluation": start_evaluation,
    "accept": accept,
    "admit": admit,
    "discharge": discharge,
    "decline": decline,
    "cancel": cancel,
}


def next_transitions(case: Case) -> list[str]:
    """The transitions the stage allows (guards may still refuse)."""
    return {
        Stage.REFERRED: ["start_evaluation", "decline", "cancel"],
        Stage.EVALUATING: ["accept", "decline", "cancel"],
        Stage.ACCEPTED: ["admit", "decline", "cancel"],
        Stage.ADMITTED: ["discharge"],
    }.get(case.stage, [])


# --- evaluation ----------------------------------------------------------------------------------

CHECKLIST_KEYS = [key for key, _ in Evaluation.CHECKLIST]


def _sync_evaluated_at(case: Case, evaluation: Evaluation) -> None:
    """Case.evaluated_at is when the evaluation became complete (cleared if it is reopened)."""
    complete = evaluation.is_complete
    if complete and case.evaluated_at is None:
        case.evaluated_at = timezone.now()
    elif not complete and case.evaluated_at is not None and case.stage == Stage.EVALUATING:
        case.evaluated_at = None
    else:
        return
    Case.objects.filter(pk=case.pk).update(evaluated_at=case.evaluated_at)


def _open_evaluation(case: Case, by) -> Evaluation:
    _require_change(by, case)
    if case.stage != Stage.EVALUATING:
        raise ValidationError("The evaluation can be changed only while the case is being evaluated.")
    evaluation, _ = Evaluation.objects.select_for_update().get_or_create(case=case)
    evaluation.case = case
    return evaluation


@transaction.atomic
def set_checklist_item(*, case: Case, by, item: str, done: bool) -> Evaluation:
    if item not in CHECKLIST_KEYS:
        raise ValidationError(f"Unknown checklist item '{item}'.")
    evaluation = _open_evaluation(case, by)
    if done and getattr(evaluation, f"{item}_at") is None:
        setattr(evaluation, f"{item}_by", by)
        setattr(evaluation, f"{item}_at", timezone.now())
    elif not done:
        setattr(evaluation, f"{item}_by", None)
        setattr(evaluation, f"{item}_at", None)
    evaluation.save()
    _sync_evaluated_at(case, evaluation)
    return evaluation


@transaction.atomic
def decide_eligibility(*, case: Case, by, eligibility: str, clinical_notes: str) -> Evaluation:
    evaluation = _open_evaluation(case, by)
    if eligibility not in Eligibility.values:
        raise ValidationError({"eligibility": "Choose an eligibility decision."})
    if eligibility != Eligibility.PENDING and eligibility != evaluation.eligibility:
        evaluation.decided_by = by
        evaluation.decided_at = timezone.now()
    elif eligibility == Eligibility.PENDING:
        evaluation.decided_by = None
        evaluation.decided_at = None
    evaluation.eligibility = eligibility
    evaluation.clinical_notes = clinical_notes
    evaluation.full_clean(exclude=["case"])
    evaluation.save()
    _sync_evaluated_at(case, evaluation)
    return evaluation


# --- medications, coverage, consents, communications -------------------------------------------


def _require_open(case: Case, what: str) -> None:
    if not case.is_open:
        raise ValidationError(f"The case is {case.get_stage_display().lower()}: its {what} can no longer be changed.")


@transaction.atomic
def save_medication(*, case: Case, by, medication: Medication | None = None, **fields) -> Medication:
    _require_change(by, case)
    _require_open(case, "medications")
    medication = medication or Medication()
    medication.case = case
    for name, value in fields.items():
        setattr(medication, name, value)
    medication.full_clean()
    medication.save()
    return medication


@transaction.atomic
def save_coverage(
    *, case: Case, by, coverage: InsuranceCoverage | None = None, verified: bool = False, **fields
) -> InsuranceCoverage:
    _require_change(by, case)
    _require_open(case, "insurance coverage")
    coverage = coverage or InsuranceCoverage()
    coverage.case = case
    for name, value in fields.items():
        setattr(coverage, name, value)
    if verified and coverage.verified_at is None:
        coverage.verified_by, coverage.verified_at = by, timezone.now()
    elif not verified:
        coverage.verified_by, coverage.verified_at = None, None
    errors = {}
    if coverage.authorization_status == AuthorizationStatus.APPROVED and not coverage.authorization_number:
        errors["authorization_number"] = "An approved authorization needs its number."
    if (
        coverage.authorization_valid_from
        and coverage.authorization_valid_to
        and coverage.authorization_valid_to < coverage.authorization_valid_from
    ):
        errors["authorization_valid_to"] = "The authorization cannot end before it starts."
    if errors:
        raise ValidationError(errors)
    coverage.full_clean()
    if coverage.is_primary:
        case.coverages.exclude(pk=coverage.pk).filter(is_primary=True).update(is_primary=False)
    coverage.save()
    return coverage


@transaction.atomic
def add_consent(*, case: Case, by, form: ConsentForm, procedure: str, required: bool = True) -> Consent:
    _require_change(by, case)
    _require_open(case, "consents")
    consent = Consent(case=case, form=form, form_version=form.current_version, procedure=procedure, required=required)
    consent.full_clean()
    consent.save()
    return consent


@transaction.atomic
def update_consent(
    *,
    consent: Consent,
    case: Case,
    by,
    explained: bool,
    teach_back_confirmed: bool,
    interpreter_used: bool,
    status: str,
    signed_by: str = "",
    representative_name: str = "",
    representative_relationship: str = "",
    witness_name: str = "",
) -> Consent:
    """Record the explanation, signature, refusal or withdrawal, with its safeguards."""
    _require_change(by, case)
    _require_open(case, "consents")
    now = timezone.now()
    consent.case = case
    errors: dict[str, str] = {}
    if explained and consent.explained_at is None:
        consent.explained_by, consent.explained_at = by, now
    elif not explained and status == ConsentStatus.PENDING:
        consent.explained_by, consent.explained_at = None, None
    consent.teach_back_confirmed = teach_back_confirmed
    consent.interpreter_used = interpreter_used
    consent.witness_name = witness_name.strip()
    previous = consent.status
    if status == ConsentStatus.SIGNED and previous != ConsentStatus.SIGNED:
        if consent.explained_at is None:
            errors["explained"] = "Explain the procedure before the consent is signed."
        if not teach_back_confirmed:
            errors["teach_back_confirmed"] = "Confirm by teach-back that the patient understood."
        if case.patient.interpreter_needed and not interpreter_used:
            errors["interpreter_used"] = "The patient needs an interpreter: record that one was used."
        if signed_by not in SignedBy.values:
            errors["signed_by"] = "Say who signed: the patient or a legal representative."
        elif signed_by == SignedBy.REPRESENTATIVE:
            if not representative_name.strip():
                errors["representative_name"] = "Name the legal representative who signed."
            if not representative_relationship.strip():
                errors["representative_relationship"] = "Give the representative's relationship to the patient."
        consent.signed_by = signed_by
        consent.representative_name = representative_name.strip() if signed_by == SignedBy.REPRESENTATIVE else ""
        consent.representative_relationship = (
            representative_relationship.strip() if signed_by == SignedBy.REPRESENTATIVE else ""
        )
        consent.signed_at = now
        consent.form_version = consent.form.current_version
    elif status == ConsentStatus.WITHDRAWN and previous != ConsentStatus.WITHDRAWN:
        if previous != ConsentStatus.SIGNED:
            errors["status"] = "Only a signed consent can be withdrawn."
        consent.withdrawn_at = now
    elif status == ConsentStatus.REFUSED and previous != ConsentStatus.REFUSED:
        if consent.explained_at is None:
            errors["explained"] = "Explain the procedure before recording a refusal."
    elif status == ConsentStatus.PENDING and previous != ConsentStatus.PENDING:
        errors["status"] = "A consent that was signed, refused or withdrawn cannot go back to pending; add a new one."
    if status not in ConsentStatus.values:
        errors["status"] = "Choose a status."
    if errors:
        raise ValidationError(errors)
    consent.status = status
    consent.full_clean()
    consent.save()
    return consent


@transaction.atomic
def log_communication(*, case: Case, by, channel: str, parties: str, summary: str, occurred_at=None) -> Communication:
    _require_change(by, case)
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": "A communication cannot be logged in the future."})
    communication = Communication(
        case=case, by=by, channel=channel, parties=parties, summary=(summary or "").strip(), occurred_at=occurred_at
    )
    communication.full_clean()
    communication.save()
    # Kept on the case so "no contact for N days" needs no scan of the log.
    if case.last_communication_at is None or occurred_at > case.last_communication_at:
        case.last_communication_at = occurred_at
        Case.objects.filter(pk=case.pk).update(last_communication_at=occurred_at)
    return communication


@transaction.atomic
def update_patient(*, patient: Patient, case: Case, by, version: int | None = None, **fields) -> Patient:
    """Demographics are edited from a case the user may change (optimistic lock on the case)."""
    _require_change(by, case)
    _lock(case, version)
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.audit_team_id = case.team_id
    patient.full_clean()
    patient.save()
    return patient


def add_case_follow_up(*, case: Case, by, title: str, due_at: dt.datetime, notes: str = ""):
    from outreach.services import create_follow_up

    _require_change(by, case)
    owner = case.assigned_liaison or by
    return create_follow_up(owner=owner, title=title, due_at=due_at, notes=notes, case=case, created_by=by)
