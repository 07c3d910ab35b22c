"""Case lifecycle and the pre-admission work. Every write of PHI goes through here.

Each transition is one function: it checks who may act, takes a row lock, refuses a stale form
(optimistic locking on `Case.version`), checks its guards and says exactly what is missing,
then records the transition in the case's history and keeps the denormalised timestamps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from documents import selectors as documents_selectors

from . import matching
from .choices import (
    PRE_ADMISSION_STAGES,
    AuthorizationStatus,
    ConsentKind,
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
    TreatmentPlan,
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


def require_change(user, case: Case) -> None:
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


@dataclass
class Duplicates:
    """What a new referral may duplicate, as the user may be told it.

    `mrn_patient` and `candidates` are patients the user may see, each candidate with its
    `match_reasons` and (with `mrn_patient`) its `open_cases` of the user's teams. Of a patient
    the user may not see, only that one exists: `mrn_exists_elsewhere` (the MRN is taken) and
    `elsewhere` (a likely duplicate in another team). No field of theirs leaves this function.
    """

    mrn_patient: Patient | None = None
    mrn_exists_elsewhere: bool = False
    candidates: list[Patient] = field(default_factory=list)
    elsewhere: bool = False

    @property
    def mrn_taken(self) -> bool:
        return self.mrn_patient is not None or self.mrn_exists_elsewhere

    @property
    def likely(self) -> bool:
        return bool(self.candidates) or self.elsewhere

    def errors(self) -> dict[str, list[str]]:
        if self.mrn_patient is not None:
            return {"mrn": ["A patient with this MRN already exists: use that patient record below."]}
        if self.mrn_exists_elsewhere:
            return {"mrn": ["A patient with this MRN already exists."]}
        if self.candidates:
            message = (
                "A patient on file may be the same person (a similar name and birth date, or the same phone "
                "number). Use that record, or confirm this is a different person."
            )
        else:
            message = (
                "A possible match for this patient exists in another team. If it is the same person, enter "
                "their MRN to add this referral to that record; otherwise confirm this is a different person."
            )
        return {NON_FIELD_ERRORS: [message]}


class DuplicatePatientError(ValidationError):
    """A new patient that may already be on file: nothing was written; `duplicates` says why."""

    def __init__(self, duplicates: Duplicates):
        super().__init__(duplicates.errors())
        self.duplicates = duplicates


def referral_patient(*, by, use_patient: int | None, use_mrn_patient: bool, mrn: str) -> Patient | None:
    """The patient on file that a new referral joins, if the referral names one: `use_patient`, a
    patient of `by`'s teams (any other id is refused), or, with `use_mrn_patient`, the record of
    another team whose MRN this is (offered when the MRN is taken; the user sees nothing of it)."""
    if use_patient:
        existing = Patient.objects.visible_to(by).filter(pk=use_patient).first()
        if existing is None:
            raise ValidationError("That patient is not one of your team's patients.")
        return existing
    if use_mrn_patient:
        return Patient.objects.filter(mrn__iexact=(mrn or "").strip()).first()
    return None


def find_duplicates(
    *, user, mrn: str, first_name: str, last_name: str, date_of_birth: dt.date | None, phone: str = ""
) -> Duplicates:
    """The patients a new referral may duplicate (see patients/matching.py for what matches).

    Two queries whatever the number of candidates: one reads the matching patients of every team,
    each marked visible or not, and one the open cases of those the user may see. On PostgreSQL
    the names are compared in the query (pg_trgm); elsewhere in Python over the rows whose birth
    date is near. Each branch of the match has its index (MRN, birth date, phone digits).
    """
    if not user.is_authenticated or not user.sees_phi:
        raise PermissionDenied("Only clinical liaisons and managers may take referrals.")
    found = Duplicates()
    mrn = (mrn or "").strip()
    name = f"{(first_name or '').strip()} {(last_name or '').strip()}".strip()
    near = matching.birth_date_variants(date_of_birth) if name and date_of_birth else {}
    digits = matching.phone_digits(phone)
    if len(digits) < matching.MIN_PHONE_DIGITS:
        digits = ""
    in_sql = _names_compared_in_sql()

    qs = Patient.objects.annotate(
        digits=matching.PhoneDigits("phone"),
        visible=Exists(Patient.objects.visible_to(user).filter(pk=OuterRef("pk"))),
        same_mrn=ExpressionWrapper(Q(mrn__iexact=mrn), output_field=BooleanField()) if mrn else Value(False),
    )
    match = Q()
    if mrn:
        match |= Q(mrn__iexact=mrn)
    if near and in_sql:
        qs = qs.annotate(name_similarity=TrigramSimilarity(Concat("first_name", Value(" "), "last_name"), name))
        match |= Q(date_of_birth__in=near, name_similarity__gte=matching.NAME_SIMILARITY)
    elif near:
        match |= Q(date_of_birth__in=near)
    if digits:
        match |= Q(digits=digits)
    if not match:
        return found
    order = ["-same_mrn", "-name_similarity", "pk"] if near and in_sql else ["-same_mrn", "pk"]
    limit = matching.MAX_CANDIDATES if in_sql else matching.FALLBACK_ROWS

    rows = list(qs.filter(match).order_by(*order)[:limit])
    if near and not in_sql:  # the fallback: what pg_trgm would have computed, in the same order
        for patient in rows:
            patient.name_similarity = matching.trigram_similarity(patient.full_name, name)
        rows.sort(key=lambda patient: (not patient.same_mrn, -patient.name_similarity, patient.pk))

    for patient in rows:
        if patient.same_mrn:
            if patient.visible:
                found.mrn_patient = patient
            else:
                found.mrn_exists_elsewhere = True
            continue
        reasons = []
        born = near.get(patient.date_of_birth)
        if born is not None and patient.name_similarity >= matching.NAME_SIMILARITY:
            same_name = patient.full_name.casefold() == name.casefold()
            reasons += ["same name" if same_name else "similar name", born]
        if digits and patient.digits == digits:
            reasons.append("same phone number")
        if not reasons:
            continue  # the fallback read a near birth date, but the name is not similar
        if patient.visible:
            patient.match_reasons = reasons
            found.candidates.append(patient)
        else:
            found.elsewhere = True
    found.candidates = found.candidates[: matching.MAX_CANDIDATES]

    shown = [p for p in [found.mrn_patient, *found.candidates] if p is not None]
    if shown:
        open_cases = Case.objects.visible_to(user).open().order_by("-referral_received_at", "-pk")
        prefetch_related_objects(shown, Prefetch("cases", queryset=open_cases, to_attr="open_cases"))
    return found


def _names_compared_in_sql() -> bool:
    """PostgreSQL compares names with pg_trgm (migration 0004 enables it); other databases fall
    back to matching.trigram_similarity."""
    return connection.vendor == "postgresql"


@transaction.atomic
def create_referral(
    *,
    by,
    case_fields: dict,
    patient_fields: dict | None = None,
    existing_patient: Patient | None = None,
    confirm_new: bool = False,
) -> Case:
    """Create the case (and the patient unless an existing one is given), stage "referred".

    A new patient whose MRN is taken is refused; one that resembles a patient on file (see
    find_duplicates) is refused unless `confirm_new` says it is a different person. Either way
    the DuplicatePatientError carries what was found, for the form to offer."""
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
        patient_fields = patient_fields or {}
        duplicates = find_duplicates(
            user=by,
            mrn=patient_fields.get("mrn", ""),
            first_name=patient_fields.get("first_name", ""),
            last_name=patient_fields.get("last_name", ""),
            date_of_birth=patient_fields.get("date_of_birth"),
            phone=patient_fields.get("phone", ""),
        )
        if duplicates.mrn_taken or (duplicates.likely and not confirm_new):
            raise DuplicatePatientError(duplicates)
        patient = Patient(**patient_fields)
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
    require_change(by, case)
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
    require_change(by, case)
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


def accept_blockers(case: Case, medications: Iterable[Medication] | None = None, coverages=None) -> list[str]:
    """What stands between an evaluated case and acceptance: each review not done, or done but
    without its evidence any more (in the words that refused the tick), and the decision."""
    evaluation = _evaluation(case)
    if evaluation is None:
        return ["the evaluation has not started"]
    records = CaseRecords(case, medications=medications, coverages=coverages)
    missing = []
    for key, label in Evaluation.CHECKLIST:
        if getattr(evaluation, f"{key}_at") is None:
            missing.append(f"{label.lower()} is missing")
        else:
            missing += [
                f"{label.lower()} is ticked, but {m}" for m in checklist_evidence_missing(key, evaluation, records)
            ]
    if evaluation.eligibility == Eligibility.PENDING:
        missing.append("the eligibility decision is pending")
    elif evaluation.eligibility == Eligibility.NOT_ELIGIBLE:
        missing.append("the evaluation found the patient not eligible (decline the case instead)")
    return missing


@transaction.atomic
def accept(*, case: Case, by, version: int | None = None, note: str = "") -> Case:
    require_change(by, case)
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
    # A superseded consent is a record of what was once signed: its re-consent is what counts.
    required = [c for c in consents if c.required and c.status != ConsentStatus.SUPERSEDED]
    if not required:
        missing.append("no required consent has been recorded")
    for consent in required:
        if consent.status != ConsentStatus.SIGNED:
            missing.append(f"consent '{consent.procedure}' is {consent.get_status_display().lower()}")
        elif consent.form_version != consent.form.current_version:
            missing.append(
                f"consent '{consent.procedure}' was signed on an old form version ({consent.form_version}): "
                f"re-consent on v{consent.form.current_version}"
            )
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
        elif primary.authorization_valid_from and primary.authorization_valid_from > today:
            missing.append(f"insurance authorization starts on {primary.authorization_valid_from:%Y-%m-%d}")
    return missing


@transaction.atomic
def admit(
    *, case: Case, by, version: int | None = None, note: str = "", admitted_at: dt.datetime | None = None
) -> Case:
    require_change(by, case)
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
    require_change(by, case)
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
    require_change(by, case)
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
    require_change(by, case)
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


# --- the checklist's evidence ------------------------------------------------------------------
#
# A tick says a review was done; its evidence is what the review rests on. Each item has one
# function that names what is missing (EVIDENCE): set_checklist_item refuses a tick without its
# evidence, and accept_blockers asks the same function again, so evidence that went away after
# the tick (a new medication not reconciled, a coverage no longer verified) blocks acceptance in
# the same words.


class CaseRecords:
    """The case's records that the evidence is read from: the lists as the caller has them (the
    case page and the worklist prefetch them), or read when first needed."""

    def __init__(self, case: Case, medications: Iterable[Medication] | None = None, coverages=None) -> None:
        self.case = case
        self._medications, self._coverages = medications, coverages

    @cached_property
    def medications(self) -> list[Medication]:
        return list(self.case.medications.all() if self._medications is None else self._medications)

    @cached_property
    def coverages(self) -> list[InsuranceCoverage]:
        return list(self.case.coverages.all() if self._coverages is None else self._coverages)

    @cached_property
    def has_medical_record(self) -> bool:
        return documents_selectors.has_medical_record(self.case)

    @property
    def treatment_plan(self) -> TreatmentPlan | None:
        try:
            return self.case.treatment_plan
        except TreatmentPlan.DoesNotExist:
            return None


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def records_review_missing(evaluation: Evaluation, records: CaseRecords) -> list[str]:
    """The "Medical records reviewed" tick: at least one medical-record document filed on the case
    (not entered in error). The note of what was reviewed is kept with the tick, and optional."""
    if not records.has_medical_record:
        return ["no medical-record document is filed on the case (upload it under Documents)"]
    return []


def medications_review_missing(evaluation: Evaluation, records: CaseRecords) -> list[str]:
    """The "Medications reviewed" tick: every listed medication reconciled, or none listed and "no
    current medications" confirmed (which cannot stand while any is listed)."""
    medications = records.medications
    if not medications:
        if evaluation.no_current_medications:
            return []
        return ["no medication is listed and “no current medications” is not confirmed"]
    missing = []
    names = [m.name for m in medications]
    if evaluation.no_current_medications:
        verb = "is" if len(names) == 1 else "are"
        missing.append(f"“no current medications” cannot be confirmed while {_and(names)} {verb} listed")
    open_ = [m.name for m in medications if not m.reconciled]
    if open_:
        missing.append(f"{_and(open_)} {'is' if len(open_) == 1 else 'are'} not reconciled")
    return missing


def treatment_plan_review_missing(evaluation: Evaluation, records: CaseRecords) -> list[str]:
    """The "Treatment plan reviewed" tick: the case has its treatment plan."""
    return [] if records.treatment_plan is not None else ["the case has no treatment plan"]


def _authorization_period(coverage: InsuranceCoverage) -> str:
    start, end = coverage.authorization_valid_from, coverage.authorization_valid_to
    if start and end:
        return f"valid {start:%Y-%m-%d} to {end:%Y-%m-%d}"
    return f"valid from {start:%Y-%m-%d}" if start else f"valid until {end:%Y-%m-%d}"


def insurance_verification_missing(evaluation: Evaluation, records: CaseRecords) -> list[str]:
    """The "Insurance verified" tick: a verified primary coverage; where the payer needs authorization,
    approved and valid on the case's expected admission date."""
    primary = next((c for c in records.coverages if c.is_primary), None)
    if primary is None:
        return ["no primary insurance coverage is recorded"]
    missing = []
    if primary.verified_at is None:
        missing.append(f"the primary coverage ({primary}) is not verified")
    if primary.needs_authorization:
        day = records.case.expected_admission_date
        if primary.authorization_status != AuthorizationStatus.APPROVED:
            missing.append(f"the authorization of {primary} is {primary.get_authorization_status_display().lower()}")
        elif day is None:
            missing.append("the case has no expected admission date to check the authorization against")
        elif not primary.authorization_valid_on(day):
            missing.append(
                f"the authorization of {primary} is not valid on the expected admission date {day:%Y-%m-%d} "
                f"({_authorization_period(primary)})"
            )
    return missing


EVIDENCE: dict[str, Callable[[Evaluation, CaseRecords], list[str]]] = {
    "records_reviewed": records_review_missing,
    "medications_reviewed": medications_review_missing,
    "treatment_plan_reviewed": treatment_plan_review_missing,
    "insurance_verified": insurance_verification_missing,
}
# What a tick records with it, entered in its form (forms.CHECKLIST_FORMS).
EVIDENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "records_reviewed": ("records_review_note",),
    "medications_reviewed": ("no_current_medications",),
}


def checklist_evidence_missing(item: str, evaluation: Evaluation, records: CaseRecords) -> list[str]:
    return EVIDENCE[item](evaluation, records)


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
    require_change(by, case)
    if case.stage != Stage.EVALUATING:
        raise ValidationError("The evaluation can be changed only while the case is being evaluated.")
    evaluation, _ = Evaluation.objects.select_for_update().get_or_create(case=case)
    evaluation.case = case
    return evaluation


@transaction.atomic
def set_checklist_item(*, case: Case, by, item: str, done: bool, **evidence) -> Evaluation:
    """Tick or untick one review. A tick needs its evidence (EVIDENCE): refused, it says what is
    missing and writes nothing. What the tick records with it (EVIDENCE_FIELDS: the note of the
    records reviewed, "no current medications") comes as keyword arguments."""
    if item not in CHECKLIST_KEYS:
        raise ValidationError(f"Unknown checklist item '{item}'.")
    unexpected = sorted(set(evidence) - set(EVIDENCE_FIELDS.get(item, ())))
    if unexpected:
        raise ValidationError(f"The checklist item '{item}' records no {', '.join(unexpected)}.")
    evaluation = _open_evaluation(case, by)
    if done and getattr(evaluation, f"{item}_at") is None:
        for name, value in evidence.items():
            setattr(evaluation, name, value.strip() if isinstance(value, str) else value)
        label = dict(Evaluation.CHECKLIST)[item]
        _refuse(f"mark “{label}” done", checklist_evidence_missing(item, evaluation, CaseRecords(case)))
        setattr(evaluation, f"{item}_by", by)
        setattr(evaluation, f"{item}_at", timezone.now())
    elif not done:
        setattr(evaluation, f"{item}_by", None)
        setattr(evaluation, f"{item}_at", None)
        if item == "medications_reviewed":
            evaluation.no_current_medications = False  # it was said with the tick
    evaluation.full_clean(exclude=["case"])
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
    require_change(by, case)
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
    require_change(by, case)
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
def save_treatment_plan(*, case: Case, by, **fields) -> TreatmentPlan:
    """The case's one treatment plan (goals, planned services or therapies, expected length of
    stay), recorded or updated."""
    require_change(by, case)
    _require_open(case, "treatment plan")
    plan = TreatmentPlan.objects.select_for_update().filter(case=case).first() or TreatmentPlan()
    plan.case = case
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.updated_by = by
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def add_consent(*, case: Case, by, form: ConsentForm, procedure: str, required: bool = True) -> Consent:
    require_change(by, case)
    _require_open(case, "consents")
    if form.kind == ConsentKind.RESEARCH:
        required = False  # a trial's consent is the trial's business, never an admission blocker
    consent = Consent(case=case, form=form, form_version=form.current_version, procedure=procedure, required=required)
    consent.full_clean()
    consent.save()
    return consent


# How far ahead of this server's clock a time typed on another device may be.
CLOCK_SKEW = dt.timedelta(minutes=5)


def _superseded_message(consent: Consent) -> str:
    when = f" on {timezone.localtime(consent.superseded_at):%Y-%m-%d %H:%M}" if consent.superseded_at else ""
    return (
        f"Consent '{consent.procedure}' (v{consent.form_version}) was superseded by a re-consent{when}: "
        "it is kept as a record and cannot be changed."
    )


def _lock_consent(consent: Consent, case: Case) -> None:
    """Lock the consent's row and refresh `consent` from it (two nurses renewing the same consent
    at once must not both replace it)."""
    consent.refresh_from_db(from_queryset=Consent.objects.select_for_update(of=("self",)).select_related("form"))
    if consent.case_id != case.pk:
        raise ValidationError("That consent belongs to another case.")
    consent.case = case


def _signature_errors(
    case: Case,
    *,
    explained: bool,
    teach_back_confirmed: bool,
    interpreter_used: bool,
    signed_by: str,
    representative_name: str,
    representative_relationship: str,
) -> dict[str, str]:
    """The safeguards of every signature: explained, understood, interpreted, signed by whom."""
    errors: dict[str, str] = {}
    if not explained:
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
    return errors


def _checked_signed_at(
    case: Case, signed_at: dt.datetime, renews: Consent | None = None
) -> tuple[dt.datetime, dict[str, str]]:
    """A signature recorded as it happened: within the case's life (a re-consent after the
    consent it renews), never in the future. The forms give the time to the minute, so a time in
    the very minute of the referral (or of the renewed consent) means that moment itself.
    Returns the time to record and the errors, by field."""
    if signed_at > timezone.now() + CLOCK_SKEW:
        return signed_at, {"signed_at": "The signing time cannot be in the future."}
    floors = [(case.referral_received_at, "before the referral was received")]
    last = (renews.withdrawn_at or renews.signed_at) if renews is not None else None
    if last is not None:
        done = "withdrawn" if renews.withdrawn_at else "signed"
        floors.append((last, f"before the consent it renews was {done}"))
    for floor, what in floors:
        if floor.replace(second=0, microsecond=0) <= signed_at < floor:
            signed_at = floor
        elif signed_at < floor:
            when = f"{timezone.localtime(floor):%Y-%m-%d %H:%M}"
            return signed_at, {"signed_at": f"The signing time cannot be {what} ({when})."}
    return signed_at, {}


def _sign(
    consent: Consent,
    *,
    signed_at: dt.datetime,
    signed_by: str,
    representative_name: str,
    representative_relationship: str,
) -> None:
    consent.status = ConsentStatus.SIGNED
    consent.signed_by = signed_by
    representative = signed_by == SignedBy.REPRESENTATIVE
    consent.representative_name = representative_name.strip() if representative else ""
    consent.representative_relationship = representative_relationship.strip() if representative else ""
    consent.signed_at = signed_at
    consent.form_version = consent.form.current_version


# The rules whose follow-ups ask for a re-consent (keyed "<consent pk>:<version>"): this app's
# care consents, and research/rules.py's research consents.
RECONSENT_RULES = ("consent_superseded", "research_reconsent")


def _supersede_earlier(consent: Consent, *, by) -> list[Consent]:
    """A consent just signed on the form's current version replaces the case's earlier consents
    of the same form and procedure that were signed on an old version or withdrawn: they become
    superseded (kept, read-only, no longer blocking), and the rules engine's "re-consent needed"
    follow-ups about them are done. A withdrawal or signature later than this signature stands."""
    from outreach.models import FollowUp
    from outreach.services import complete_follow_up

    at = consent.signed_at
    earlier = list(
        Consent.objects.select_for_update()
        .filter(case_id=consent.case_id, form_id=consent.form_id, procedure__iexact=consent.procedure.strip())
        .exclude(pk=consent.pk)
        .filter(
            (
                Q(status=ConsentStatus.SIGNED)
                & ~Q(form_version=consent.form_version)
                & (Q(signed_at__lte=at) | Q(signed_at__isnull=True))
            )
            | (Q(status=ConsentStatus.WITHDRAWN) & (Q(withdrawn_at__lte=at) | Q(withdrawn_at__isnull=True)))
        )
    )
    for old in earlier:
        old.case = consent.case
        old.status = ConsentStatus.SUPERSEDED
        old.superseded_at = at
        old.superseded_by = consent
        # One save each (not an UPDATE of the set): every change of a consent is in the audit log.
        old.save(update_fields=["status", "superseded_at", "superseded_by"])
    if earlier:
        keys = Q()
        for old in earlier:
            keys |= Q(rule_key__startswith=f"{old.pk}:")
        for follow_up in FollowUp.objects.open().filter(keys, rule__in=RECONSENT_RULES, case_id=consent.case_id):
            complete_follow_up(follow_up=follow_up, by=by)
    return earlier


def reconsent_refusal(consent: Consent, case: Case) -> str:
    """Why `consent` cannot be renewed now ('' when it can): what the re-consent form says."""
    if not case.is_open:
        return f"The case is {case.get_stage_display().lower()}: its consents can no longer be changed."
    if consent.status == ConsentStatus.SUPERSEDED:
        return _superseded_message(consent)
    if consent.is_renewable:
        return ""
    if consent.status == ConsentStatus.SIGNED:
        return f"Consent '{consent.procedure}' is signed on the current version (v{consent.form_version}): nothing to renew."
    return (
        f"Consent '{consent.procedure}' is {consent.get_status_display().lower()}: record its signature with "
        "Update; a re-consent renews a consent signed on an old form version or withdrawn."
    )


@transaction.atomic
def reconsent(
    *,
    consent: Consent,
    case: Case,
    by,
    explained: bool,
    teach_back_confirmed: bool,
    interpreter_used: bool,
    signed_by: str,
    representative_name: str = "",
    representative_relationship: str = "",
    witness_name: str = "",
    signed_at: dt.datetime | None = None,
) -> Consent:
    """Renew a consent signed on an old form version, or withdrawn: a NEW consent on the form's
    current version, with every safeguard of a signature, that supersedes the old one."""
    require_change(by, case)
    _require_open(case, "consents")
    _lock_consent(consent, case)
    refusal = reconsent_refusal(consent, case)
    if refusal:
        raise ValidationError(refusal)
    now = timezone.now()
    signed_at = signed_at or now
    errors = _signature_errors(
        case,
        explained=explained,
        teach_back_confirmed=teach_back_confirmed,
        interpreter_used=interpreter_used,
        signed_by=signed_by,
        representative_name=representative_name,
        representative_relationship=representative_relationship,
    )
    signed_at, time_errors = _checked_signed_at(case, signed_at, renews=consent)
    errors.update(time_errors)
    if errors:
        raise ValidationError(errors)
    renewal = Consent(
        case=case,
        procedure=consent.procedure,
        form=consent.form,
        required=consent.required,
        # Explained at the signing session, at the latest.
        explained_by=by,
        explained_at=min(now, signed_at),
        teach_back_confirmed=True,
        interpreter_used=interpreter_used,
        witness_name=witness_name.strip(),
    )
    _sign(
        renewal,
        signed_at=signed_at,
        signed_by=signed_by,
        representative_name=representative_name,
        representative_relationship=representative_relationship,
    )
    renewal.full_clean()
    renewal.save()
    _supersede_earlier(renewal, by=by)
    return renewal


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
    signed_at: dt.datetime | None = None,
) -> Consent:
    """Record the explanation, signature, refusal or withdrawal, with its safeguards.

    Signing a consent that was signed on an old form version or withdrawn is a re-consent: a new
    consent replaces it (see `reconsent`), so the record of what was signed stays as it was. A
    consent signed on the current version supersedes the case's earlier ones of its form."""
    require_change(by, case)
    _require_open(case, "consents")
    _lock_consent(consent, case)
    previous = consent.status
    if previous == ConsentStatus.SUPERSEDED:
        raise ValidationError(_superseded_message(consent))
    if status == ConsentStatus.SIGNED and consent.is_renewable:
        return reconsent(
            consent=consent,
            case=case,
            by=by,
            explained=explained,
            teach_back_confirmed=teach_back_confirmed,
            interpreter_used=interpreter_used,
            signed_by=signed_by,
            representative_name=representative_name,
            representative_relationship=representative_relationship,
            witness_name=witness_name,
            signed_at=signed_at,
        )
    if status == ConsentStatus.SUPERSEDED:
        raise ValidationError({"status": "A consent is superseded only by a re-consent."})
    if previous == ConsentStatus.WITHDRAWN and status != ConsentStatus.WITHDRAWN:
        raise ValidationError({"status": "A withdrawn consent is kept as it is; re-consent to record a new signature."})
    if previous == ConsentStatus.SIGNED and status == ConsentStatus.REFUSED:
        raise ValidationError({"status": "A signed consent cannot become refused: record its withdrawal."})
    errors: dict[str, str] = {}
    if previous == ConsentStatus.WITHDRAWN and status == previous:
        return consent  # nothing of a withdrawn consent changes (a re-consent replaces it)
    if previous == ConsentStatus.SIGNED and status == previous:
        # What was recorded with the signature stays as it was (a withdrawal writes only its time).
        posted = {
            "explained": explained,
            "teach_back_confirmed": teach_back_confirmed,
            "interpreter_used": interpreter_used,
            "witness_name": witness_name.strip(),
        }
        recorded = {
            "explained": consent.explained_at is not None,
            "teach_back_confirmed": consent.teach_back_confirmed,
            "interpreter_used": consent.interpreter_used,
            "witness_name": consent.witness_name,
        }
        for name, value in posted.items():
            if value != recorded[name]:
                errors[name] = "This is part of the signed consent's record and cannot be changed."
        if errors:
            raise ValidationError(errors)
        return consent
    now = timezone.now()
    signing = status == ConsentStatus.SIGNED and previous != ConsentStatus.SIGNED
    signed_at = (signed_at or now) if signing else None
    time_errors: dict[str, str] = {}
    if signing:
        signed_at, time_errors = _checked_signed_at(case, signed_at)
    if previous not in (ConsentStatus.SIGNED, ConsentStatus.WITHDRAWN):
        if explained and consent.explained_at is None:
            # Explained in the same sitting as the signature: at the latest when it was signed.
            consent.explained_by, consent.explained_at = by, min(now, signed_at) if signing else now
        elif not explained and status == ConsentStatus.PENDING:
            consent.explained_by, consent.explained_at = None, None
        consent.teach_back_confirmed = teach_back_confirmed
        consent.interpreter_used = interpreter_used
        consent.witness_name = witness_name.strip()
    if signing:
        errors.update(
            _signature_errors(
                case,
                explained=consent.explained_at is not None,
                teach_back_confirmed=teach_back_confirmed,
                interpreter_used=interpreter_used,
                signed_by=signed_by,
                representative_name=representative_name,
                representative_relationship=representative_relationship,
            )
        )
        errors.update(time_errors)
        _sign(
            consent,
            signed_at=signed_at,
            signed_by=signed_by,
            representative_name=representative_name,
            representative_relationship=representative_relationship,
        )
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
    if signing:
        _supersede_earlier(consent, by=by)
    return consent


@transaction.atomic
def log_communication(*, case: Case, by, channel: str, parties: str, summary: str, occurred_at=None) -> Communication:
    require_change(by, case)
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
    require_change(by, case)
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

    require_change(by, case)
    owner = case.assigned_liaison or by
    return create_follow_up(owner=owner, title=title, due_at=due_at, notes=notes, case=case, created_by=by)
