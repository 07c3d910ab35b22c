"""Demo trial participation (seed_demo): each clinical-liaison team's open cases screened at the
demo trials' open sites, through research.services as a nurse would, so that every status has
rows: screening (one open long enough for its follow-up), eligible, screen failures by reason,
consented (one waiting long enough for its follow-up), enrolled, completed and withdrawn.

Research consents are signed on IRB version 1.0 with their signed copy filed (documents); then
the IRB approves version 2.0 of LCX-301, so its enrolled participants need re-consent. Once each
path is walked, its times are moved back (by the same amount for every step), so the lists and
the rules see screenings of different ages. Runs after the documents demo (SEED_ORDER)."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from documents import services as document_services
from documents.choices import DocumentKind
from documents.demo import page as demo_page
from documents.models import Document
from patients import services as patient_services
from patients.choices import OPEN_STAGES, ConsentStatus, SignedBy
from patients.demo import MRN_PREFIX
from patients.models import Case, Consent
from physicians.choices import CriterionKind
from physicians.models import ClinicalTrial, TrialSite

from . import services
from .choices import Answer, ParticipationStatus, ScreenFailureReason
from .models import Participation, ParticipationTransition

SEED_ORDER = 98.5  # after the documents demo (98), before outreach (99)
S = ParticipationStatus
# (where the path stops, how many days ago it started): one team's participations at scale 1.
PATHS = [
    (S.COMPLETED, 35),
    (S.ENROLLED, 30),
    (S.WITHDRAWN, 25),
    (S.SCREENING, 20),  # open longer than the screening_open rule's 14 days
    (S.ENROLLED, 15),
    (ScreenFailureReason.INCLUSION_NOT_MET, 12),
    (ScreenFailureReason.EXCLUSION_MET, 10),
    (S.CONSENTED, 9),  # waiting longer than the consented_not_enrolled rule's 7 days
    (ScreenFailureReason.DECLINED, 6),
    (S.ELIGIBLE, 4),
    (S.SCREENING, 2),
]


def _answers(participation: Participation, failing: str | None) -> dict[int, str]:
    """Every inclusion criterion met and every exclusion criterion not met, except the one that
    makes `failing` (a screen-failure reason) true."""
    criteria = [c for c, _answer in services.criteria_with_answers(participation)]
    out = {c.pk: Answer.MET if c.kind == CriterionKind.INCLUSION else Answer.NOT_MET for c in criteria}
    if failing == ScreenFailureReason.INCLUSION_NOT_MET:
        first = next(c for c in criteria if c.kind == CriterionKind.INCLUSION)
        out[first.pk] = Answer.NOT_MET
    elif failing == ScreenFailureReason.EXCLUSION_MET:
        first = next(c for c in criteria if c.kind == CriterionKind.EXCLUSION)
        out[first.pk] = Answer.MET
    return out


def _consent(participation: Participation, nurse) -> None:
    consent = services.add_research_consent(participation=participation, by=nurse)
    patient_services.update_consent(
        consent=consent,
        case=participation.case,
        by=nurse,
        explained=True,
        teach_back_confirmed=True,
        interpreter_used=participation.case.patient.interpreter_needed,
        status=ConsentStatus.SIGNED,
        signed_by=SignedBy.PATIENT,
        witness_name="Research coordinator",
    )
    document_services.upload_documents(
        by=nurse,
        uploads=[
            SimpleUploadedFile(
                "Signed research consent.pdf",
                demo_page(
                    ["Informed consent for research", f"{consent.procedure}, version {consent.form_version}: signed"]
                ),
            )
        ],
        kind=DocumentKind.SIGNED_CONSENT,
        case=participation.case,
        consent=consent,
    )


def _walk(case: Case, site: TrialSite, nurse, stop: str, serial: int) -> Participation:
    participation = services.start_screening(case=case, site=site, by=nurse)
    failing = stop if stop in ScreenFailureReason.values else None
    if stop == S.SCREENING:
        services.answer_criteria(
            participation=participation, by=nurse, answers=dict(list(_answers(participation, None).items())[:2])
        )
        return participation
    services.answer_criteria(participation=participation, by=nurse, answers=_answers(participation, failing))
    if failing:
        note = "Prefers not to take part." if failing == ScreenFailureReason.DECLINED else ""
        return services.conclude_screening(
            participation=participation, by=nurse, eligible=False, reason=failing, note=note
        )
    services.conclude_screening(participation=participation, by=nurse, eligible=True)
    if stop == S.ELIGIBLE:
        return participation
    _consent(participation, nurse)
    services.record_consent(participation=participation, by=nurse)
    if stop == S.CONSENTED:
        return participation
    participant_id = f"{site.trial.protocol_number}-{site.pk:03d}-{serial:04d}"
    services.enrol(
        participation=participation, by=nurse, participant_id=participant_id, enrolled_on=timezone.localdate()
    )
    if stop == S.COMPLETED:
        services.complete(participation=participation, by=nurse, note="Completed the treatment and follow-up visits.")
    elif stop == S.WITHDRAWN:
        services.withdraw(participation=participation, by=nurse, reason="Moved out of the area.")
    return participation


def _move_back(participation: Participation, days: int) -> None:
    """Every time of the path `days` earlier (never before the case's referral)."""
    case = participation.case
    earliest = case.referral_received_at + dt.timedelta(hours=1)
    shift = min(dt.timedelta(days=days), max(participation.screened_at - earliest, dt.timedelta(0)))
    Participation.objects.filter(pk=participation.pk).update(
        screened_at=F("screened_at") - shift,
        status_changed_at=F("status_changed_at") - shift,
        concluded_at=F("concluded_at") - shift,
        consented_at=F("consented_at") - shift,
        ended_at=F("ended_at") - shift,
    )
    if participation.enrolled_on:
        enrolled = timezone.localtime(timezone.now() - shift).date()
        Participation.objects.filter(pk=participation.pk).update(enrolled_on=enrolled)
    ParticipationTransition.objects.filter(participation=participation).update(at=F("at") - shift)
    consents = Consent.objects.filter(case=case, form__trial=participation.trial)
    consents.update(signed_at=F("signed_at") - shift, explained_at=F("explained_at") - shift)
    Document.objects.filter(consent__in=consents).update(uploaded_at=F("uploaded_at") - shift)


def seed(*, scale: int, stdout) -> None:
    if Participation.objects.filter(case__patient__mrn__startswith=MRN_PREFIX).exists():
        stdout.write("  research: demo participations already present")
        return
    trials = list(
        ClinicalTrial.objects.filter(protocol_number__in=["LCX-301", "BRX-IIS-014"]).order_by("protocol_number")
    )
    approver = User.objects.filter(username="manager").first()
    if not trials or approver is None:
        stdout.write("  research: no demo trials or manager; nothing to do")
        return
    today = timezone.localdate()
    for trial in trials:
        if services.research_consent_form(trial) is None:
            services.approve_consent_version(
                trial=trial, by=approver, version="1.0", approved_on=today - dt.timedelta(days=400)
            )
    sites = list(TrialSite.objects.open_for_screening().filter(trial__in=trials).select_related("trial", "institution"))
    if not sites:
        stdout.write("  research: no open demo sites; nothing to do")
        return
    made = 0
    for nurse_name in ("nurse", "nurse2"):
        nurse = User.objects.filter(username=nurse_name).first()
        if nurse is None:
            continue
        cases = list(
            Case.objects.filter(assigned_liaison=nurse, stage__in=OPEN_STAGES, patient__mrn__startswith=MRN_PREFIX)
            .select_related("patient", "team")
            .order_by("referral_received_at", "pk")
        )
        # The longest paths on the cases referred longest ago: a path starts after the referral.
        paths = sorted(PATHS * scale, key=lambda path: -path[1])
        for serial, (case, (stop, days)) in enumerate(zip(cases, paths, strict=False), start=made + 1):
            participation = _walk(case, sites[serial % len(sites)], nurse, stop, serial)
            _move_back(participation, days)
            made += 1
    # The IRB approves a new version of one trial's consent: its enrolled participants re-consent.
    lcx = next((t for t in trials if t.protocol_number == "LCX-301"), None)
    if lcx is not None:
        services.approve_consent_version(
            trial=lcx, by=approver, version="2.0", approved_on=today - dt.timedelta(days=20)
        )
    stdout.write(f"  {made} trial participations")
