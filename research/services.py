"""Every step of a case's trial participation, and the protocol changes that steps depend on.

Each function checks who may act and what the step needs, writes in one transaction, and says
what is missing in words for the liaison; refused, it writes nothing. Every status change is a
ParticipationTransition: the case's history shows it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from documents.choices import DocumentKind
from documents.models import Document
from outreach.models import FollowUp
from outreach.services import complete_follow_up
from patients import services as patient_services
from patients.choices import ConsentKind, ConsentStatus
from patients.models import Case, Consent, ConsentForm
from physicians.choices import CriterionKind, SiteStatus
from physicians.models import ClinicalTrial, IrbApproval, TrialCriterion, TrialSite

from .choices import ACTIVE_STATUSES, NEXT_STATUSES, Answer, ParticipationStatus, ScreenFailureReason
from .models import Participation, ParticipationTransition, ScreeningAnswer

Status = ParticipationStatus
PARTICIPANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}\Z")
# The service-level rules about a participation's age in a status (research/rules.py): their
# follow-ups are done once the participation moves on.
AGE_RULES = ("screening_open", "consented_not_enrolled")


def can_change(user, participation_or_case) -> bool:
    """The case's assigned liaison, a manager of its team, an administrator."""
    case = getattr(participation_or_case, "case", participation_or_case)
    return patient_services.can_change_case(user, case)


def _require_change(user, case: Case) -> None:
    if not patient_services.can_change_case(user, case):
        raise PermissionDenied("Only the assigned liaison or a manager of the team may change this case's trials.")


def _lock(participation: Participation) -> Participation:
    """Lock the row and refresh `participation` from it (two steps at once must not both pass)."""
    participation.refresh_from_db(
        from_queryset=Participation.objects.select_for_update(of=("self",)).select_related(
            "case__patient", "site__institution", "site__trial", "trial"
        )
    )
    return participation


def _move(participation: Participation, to: str, *, by, note: str = "", at: dt.datetime | None = None) -> None:
    """Record the step `participation.status` → `to` (already checked to be allowed)."""
    at = at or timezone.now()
    ParticipationTransition.objects.create(
        participation=participation, from_status=participation.status, to_status=to, by=by, at=at, note=note
    )
    participation.status = to
    participation.status_changed_at = at
    # The "open too long" follow-ups about the status it leaves are done.
    for follow_up in FollowUp.objects.open().filter(
        rule__in=AGE_RULES, case_id=participation.case_id, rule_key__startswith=f"{participation.pk}:"
    ):
        complete_follow_up(follow_up=follow_up, by=by)


def _require_step(participation: Participation, to: str, what: str) -> None:
    if to not in NEXT_STATUSES.get(participation.status, ()):
        raise ValidationError(f"Cannot {what}: the participation is {participation.get_status_display().lower()}.")


# --- protocol ------------------------------------------------------------------------------------


def can_edit_protocol(user) -> bool:
    """Trials are the medical-affairs side's: its staff, managers and administrators."""
    return user.is_authenticated and user.sees_medical_affairs


@transaction.atomic
def set_criteria(*, trial: ClinicalTrial, by, inclusion: list[str], exclusion: list[str]) -> list[TrialCriterion]:
    """Replace the protocol's ordered inclusion and exclusion criteria. Once a screening has
    answered them they are its record: they can no longer change."""
    if not can_edit_protocol(by):
        raise PermissionDenied("Only medical-affairs staff may change a trial's protocol.")
    lists = {CriterionKind.INCLUSION: inclusion, CriterionKind.EXCLUSION: exclusion}
    wanted = {kind: [t.strip() for t in texts if t.strip()] for kind, texts in lists.items()}
    errors = {}
    for kind, texts in wanted.items():
        too_long = [i for i, t in enumerate(texts, start=1) if len(t) > 500]
        if too_long:
            errors[kind] = f"Keep each criterion under 500 characters (number {too_long[0]} is longer)."
    if errors:
        raise ValidationError(errors)
    current = {
        kind: list(trial.criteria.filter(kind=kind).order_by("position").values_list("text", flat=True))
        for kind in lists
    }
    if current == wanted:
        return list(trial.criteria.all())
    if ScreeningAnswer.objects.filter(criterion__trial=trial).exists():
        raise ValidationError(
            "Screenings have answered this protocol's criteria: they can no longer be changed. "
            "Record an amended protocol as a new trial."
        )
    trial.criteria.all().delete()
    return TrialCriterion.objects.bulk_create(
        [
            TrialCriterion(trial=trial, kind=kind, position=position, text=text)
            for kind, texts in wanted.items()
            for position, text in enumerate(texts, start=1)
        ]
    )


def research_consent_form(trial: ClinicalTrial) -> ConsentForm | None:
    try:
        return trial.research_consent_form
    except ConsentForm.DoesNotExist:
        return None


@transaction.atomic
def approve_consent_version(*, trial: ClinicalTrial, by, version: str, approved_on: dt.date) -> IrbApproval:
    """Record the IRB's approval of a research consent version: it becomes the version a research
    consent is signed on, and the consents of enrolled participants signed on an earlier one need
    re-consent (patients' re-consent flow; research/rules.py opens its follow-up)."""
    if not can_edit_protocol(by):
        raise PermissionDenied("Only medical-affairs staff may record IRB approvals.")
    trial = ClinicalTrial.objects.select_for_update().get(pk=trial.pk)
    version = (version or "").strip()
    errors = {}
    if not version:
        errors["version"] = "Give the version the IRB approved."
    elif len(version) > 20:
        errors["version"] = "Keep the version under 20 characters."
    elif trial.irb_approvals.filter(version__iexact=version).exists():
        errors["version"] = f"Version {version} is already recorded for this trial."
    if approved_on is None:
        errors["approved_on"] = "Give the date of the IRB's approval."
    elif approved_on > timezone.localdate():
        errors["approved_on"] = "The approval date cannot be in the future."
    else:
        latest = trial.irb_approvals.order_by("-approved_on", "-id").first()
        if latest is not None and approved_on < latest.approved_on:
            errors["approved_on"] = (
                f"Version {latest.version} was approved on {latest.approved_on:%Y-%m-%d}: a newer version "
                "cannot have been approved before it."
            )
    if errors:
        raise ValidationError(errors)
    approval = IrbApproval.objects.create(trial=trial, version=version, approved_on=approved_on, recorded_by=by)
    form = research_consent_form(trial)
    if form is None:
        ConsentForm.objects.create(
            name=f"Research consent · {trial.protocol_number}"[:120],
            kind=ConsentKind.RESEARCH,
            trial=trial,
            required_for_admission=False,
            current_version=version,
        )
    else:
        form.current_version = version
        form.save(update_fields=["current_version"])  # audit-logged
    return approval


# --- screening -----------------------------------------------------------------------------------


def site_refusal(site: TrialSite) -> str:
    """Why no one can be screened at `site` now ('' when they can)."""
    if site.status == SiteStatus.CLOSED:
        return f"The site {site} is closed: no one can be screened there."
    if not site.is_open_for_screening and site.trial.is_recruiting:
        return f"The site {site} is {site.get_status_display().lower()}, not open yet: screening starts once it is activated."
    if not site.trial.is_recruiting:
        return f"The trial {site.trial.protocol_number} is {site.trial.get_status_display().lower()}: it is not recruiting."
    return ""


@transaction.atomic
def start_screening(*, case: Case, site: TrialSite, by) -> Participation:
    _require_change(by, case)
    # The case's row locked (not its patient's): one screening of it starts at a time.
    case = Case.objects.select_for_update(of=("self",)).select_related("patient").get(pk=case.pk)
    if not case.is_open:
        raise ValidationError(f"The case is {case.get_stage_display().lower()}: no new screening can start.")
    site = TrialSite.objects.select_related("trial", "institution").get(pk=site.pk)
    refusal = site_refusal(site)
    if refusal:
        raise ValidationError({"site": refusal})
    if not site.trial.criteria.exists():
        raise ValidationError({"site": f"{site.trial.protocol_number} has no eligibility criteria recorded yet."})
    active = Participation.objects.filter(case=case, trial=site.trial, status__in=ACTIVE_STATUSES).first()
    if active is not None:
        raise ValidationError(
            {
                "site": f"The case already takes part in {site.trial.protocol_number} "
                f"({active.get_status_display().lower()} at {active.site.institution.name}): "
                "one participation per trial at a time."
            }
        )
    now = timezone.now()
    participation = Participation(
        case=case, site=site, trial=site.trial, screened_by=by, screened_at=now, status_changed_at=now
    )
    try:
        with transaction.atomic():
            participation.save()
    except IntegrityError as exc:  # two nurses starting the same screening at once
        raise ValidationError({"site": "The case already takes part in this trial."}) from exc
    ParticipationTransition.objects.create(
        participation=participation, from_status="", to_status=Status.SCREENING, by=by, at=now
    )
    return participation


def criteria_with_answers(participation: Participation) -> list[tuple[TrialCriterion, ScreeningAnswer | None]]:
    """The protocol's criteria in order (inclusion first), each with this screening's answer."""
    answers = {
        a.criterion_id: a
        for a in ScreeningAnswer.objects.filter(participation=participation).select_related("answered_by")
    }
    criteria = TrialCriterion.objects.filter(trial_id=participation.trial_id).order_by("kind", "position")
    return [(c, answers.get(c.pk)) for c in criteria]


@transaction.atomic
def answer_criteria(*, participation: Participation, by, answers: Mapping[int, str]) -> list[ScreeningAnswer]:
    """Record answers (met, not met, unknown) to the protocol's criteria, by criterion id. An
    answer that changes records who changed it and when."""
    _require_change(by, participation.case)
    _lock(participation)
    if participation.status != Status.SCREENING:
        raise ValidationError(
            f"The screening is concluded ({participation.get_status_display().lower()}): its answers are its record."
        )
    criteria = {c.pk: c for c in TrialCriterion.objects.filter(trial_id=participation.trial_id)}
    errors = []
    for criterion_id, answer in answers.items():
        if criterion_id not in criteria:
            errors.append("An answer names a criterion of another protocol.")
        elif answer not in Answer.values:
            errors.append(
                f"Answer {criteria[criterion_id].get_kind_display().lower()} {criteria[criterion_id].position}: met, not met or unknown."
            )
    if errors:
        raise ValidationError(errors)
    existing = {a.criterion_id: a for a in ScreeningAnswer.objects.filter(participation=participation)}
    now = timezone.now()
    saved = []
    for criterion_id, answer in answers.items():
        row = existing.get(criterion_id)
        if row is None:
            row = ScreeningAnswer(participation=participation, criterion=criteria[criterion_id], answered_by=by)
        elif row.answer == answer:
            saved.append(row)
            continue
        row.participation = participation
        row.answer, row.answered_by, row.answered_at = answer, by, now
        row.save()
        saved.append(row)
    return saved


def _label(criterion: TrialCriterion) -> str:
    return f"{criterion.get_kind_display().lower()} criterion {criterion.position} ({criterion.text[:80]})"


def eligibility_blockers(participation: Participation) -> list[str]:
    """What stands between the screening's answers and "eligible": every inclusion criterion met,
    every exclusion criterion not met, none unknown."""
    missing = []
    for criterion, answer in criteria_with_answers(participation):
        value = answer.answer if answer else Answer.UNKNOWN
        if value == Answer.UNKNOWN:
            missing.append(f"{_label(criterion)} is not answered")
        elif criterion.kind == CriterionKind.INCLUSION and value == Answer.NOT_MET:
            missing.append(f"{_label(criterion)} is not met")
        elif criterion.kind == CriterionKind.EXCLUSION and value == Answer.MET:
            missing.append(f"{_label(criterion)} is met")
    return missing


@transaction.atomic
def conclude_screening(
    *, participation: Participation, by, eligible: bool, reason: str = "", note: str = ""
) -> Participation:
    """The screening's outcome: eligible (every criterion as the protocol needs it), or a screen
    failure with its coded reason."""
    _require_change(by, participation.case)
    _lock(participation)
    to = Status.ELIGIBLE if eligible else Status.SCREEN_FAILURE
    _require_step(participation, to, "conclude the screening")
    note = (note or "").strip()
    if eligible:
        missing = eligibility_blockers(participation)
        if missing:
            raise ValidationError("Cannot find the patient eligible: " + "; ".join(missing) + ".")
    else:
        if reason not in ScreenFailureReason.values:
            raise ValidationError({"reason": "Choose the reason of the screen failure."})
        if reason == ScreenFailureReason.OTHER and not note:
            raise ValidationError({"note": "Say what the other reason is."})
        participation.failure_reason, participation.failure_note = reason, note
    now = timezone.now()
    participation.concluded_by, participation.concluded_at = by, now
    _move(participation, to, by=by, note=note, at=now)
    participation.save()
    return participation


# --- research consent ----------------------------------------------------------------------------


def research_consents(participation: Participation) -> list[Consent]:
    """The case's consents on this trial's research consent form, newest first."""
    return list(
        Consent.objects.filter(case_id=participation.case_id, form__trial_id=participation.trial_id)
        .select_related("form", "explained_by")
        .order_by("-pk")
    )


def research_consent_refusal(participation: Participation, consents: list[Consent]) -> str:
    """Why no research consent can be opened now ('' when it can): what the page's button and
    add_research_consent both ask."""
    if participation.status not in (Status.ELIGIBLE, Status.CONSENTED, Status.ENROLLED):
        return (
            "A research consent is taken once the screening found the patient eligible "
            f"(the participation is {participation.get_status_display().lower()})."
        )
    if research_consent_form(participation.trial) is None:
        return f"No IRB-approved research consent version is recorded for {participation.trial.protocol_number}."
    open_ = [c for c in consents if c.status in (ConsentStatus.PENDING, ConsentStatus.SIGNED) and not c.needs_reconsent]
    if open_:
        return (
            f"The case already has the research consent '{open_[0].procedure}' "
            f"({open_[0].get_status_display().lower()}) on v{open_[0].form_version}."
        )
    return ""


@transaction.atomic
def add_research_consent(*, participation: Participation, by) -> Consent:
    """Open the research consent on the trial's current IRB-approved version, to be explained,
    understood and signed like any consent (the case page's consent section)."""
    _require_change(by, participation.case)
    _lock(participation)
    refusal = research_consent_refusal(participation, research_consents(participation))
    if refusal:
        raise ValidationError(refusal)
    return patient_services.add_consent(
        case=participation.case,
        by=by,
        form=research_consent_form(participation.trial),
        procedure=f"Research participation in {participation.trial.protocol_number}"[:200],
        required=False,
    )


def signed_copies(consents: list[Consent]) -> set[int]:
    """The ids of `consents` that have their signed copy filed (not entered in error)."""
    return set(
        Document.objects.current()
        .filter(consent__in=consents, kind=DocumentKind.SIGNED_CONSENT)
        .values_list("consent_id", flat=True)
    )


def consent_blockers(
    participation: Participation, consents: list[Consent] | None = None, copies: set[int] | None = None
) -> list[str]:
    """What a research consent must be for consent and enrolment: signed on the trial's current
    IRB version, with its signed copy filed as a document."""
    form = research_consent_form(participation.trial)
    if form is None:
        return [f"no IRB-approved research consent version is recorded for {participation.trial.protocol_number}"]
    consents = research_consents(participation) if consents is None else consents
    signed = [c for c in consents if c.status == ConsentStatus.SIGNED and c.form_version == form.current_version]
    if not signed:
        old = [c for c in consents if c.status == ConsentStatus.SIGNED]
        if old:
            return [
                f"the research consent was signed on v{old[0].form_version}: re-consent on the current "
                f"IRB version v{form.current_version}"
            ]
        return [f"no research consent is signed on the current IRB version (v{form.current_version})"]
    copies = signed_copies(signed[:1]) if copies is None else copies
    if signed[0].pk not in copies:
        return ["the signed research consent has no signed copy filed (attach it to the consent under Documents)"]
    return []


@transaction.atomic
def record_consent(*, participation: Participation, by) -> Participation:
    """Eligible → consented: the research consent is signed on the current IRB version, with its copy."""
    _require_change(by, participation.case)
    _lock(participation)
    _require_step(participation, Status.CONSENTED, "record the research consent")
    missing = consent_blockers(participation)
    if missing:
        raise ValidationError("Cannot record the research consent: " + "; ".join(missing) + ".")
    signed = next(c for c in research_consents(participation) if c.status == ConsentStatus.SIGNED)
    participation.consented_at = signed.signed_at
    _move(participation, Status.CONSENTED, by=by)
    participation.save()
    return participation


# --- enrolment and after -------------------------------------------------------------------------


def _participant_id_errors(participation: Participation, participant_id: str) -> list[str]:
    if not participant_id:
        return ["Give the participant id: the study's subject id."]
    if not PARTICIPANT_ID.match(participant_id):
        return [
            "A participant id is up to 40 letters, digits, dots, dashes or underscores, starting with a letter or digit."
        ]
    mrn = participation.case.patient.mrn
    if re.sub(r"[^a-z0-9]", "", participant_id.casefold()) == re.sub(r"[^a-z0-9]", "", mrn.casefold()):
        return ["The participant id is the study's subject id, never the medical record number."]
    taken = (
        Participation.objects.filter(trial_id=participation.trial_id, participant_id__iexact=participant_id)
        .exclude(pk=participation.pk)
        .exists()
    )
    if taken:
        return [f"Participant id {participant_id} is already used in {participation.trial.protocol_number}."]
    return []


@transaction.atomic
def enrol(*, participation: Participation, by, participant_id: str, enrolled_on: dt.date | None) -> Participation:
    """Consented → enrolled, under the study's subject id, on a date: the research consent still
    signed on the current IRB version, and every criterion still as the protocol needs it."""
    _require_change(by, participation.case)
    _lock(participation)
    _require_step(participation, Status.ENROLLED, "enrol")
    participant_id = (participant_id or "").strip()
    errors: dict[str, list[str]] = {}
    if ids := _participant_id_errors(participation, participant_id):
        errors["participant_id"] = ids
    if enrolled_on is None:
        errors["enrolled_on"] = ["Give the enrolment date."]
    elif enrolled_on > timezone.localdate():
        errors["enrolled_on"] = ["The enrolment date cannot be in the future."]
    elif enrolled_on < timezone.localtime(participation.screened_at).date():
        errors["enrolled_on"] = [
            f"The enrolment date cannot be before the screening ({timezone.localtime(participation.screened_at):%Y-%m-%d})."
        ]
    missing = consent_blockers(participation) + eligibility_blockers(participation)
    if participation.site.status == SiteStatus.CLOSED:
        missing.append(f"the site {participation.site} is closed")
    if missing:
        errors.setdefault("__all__", []).append("Cannot enrol: " + "; ".join(missing) + ".")
    if errors:
        raise ValidationError(errors)
    participation.participant_id, participation.enrolled_on = participant_id, enrolled_on
    _move(participation, Status.ENROLLED, by=by)
    try:
        with transaction.atomic():
            participation.save()
    except IntegrityError as exc:  # the same id given at once to two participants
        raise ValidationError({"participant_id": f"Participant id {participant_id} is already used."}) from exc
    return participation


@transaction.atomic
def complete(*, participation: Participation, by, note: str = "") -> Participation:
    _require_change(by, participation.case)
    _lock(participation)
    _require_step(participation, Status.COMPLETED, "complete the participation")
    participation.ended_at = timezone.now()
    _move(participation, Status.COMPLETED, by=by, note=(note or "").strip(), at=participation.ended_at)
    participation.save()
    return participation


@transaction.atomic
def withdraw(*, participation: Participation, by, reason: str) -> Participation:
    """An eligible, consented or enrolled participant leaves the trial, with the reason."""
    _require_change(by, participation.case)
    _lock(participation)
    _require_step(participation, Status.WITHDRAWN, "withdraw")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the participant withdraws."})
    participation.withdrawal_reason = reason
    participation.ended_at = timezone.now()
    _move(participation, Status.WITHDRAWN, by=by, note=reason, at=participation.ended_at)
    participation.save()
    return participation
