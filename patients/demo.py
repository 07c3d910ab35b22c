"""Demo patients and cases for the two clinical-liaison teams (bulk inserts, idempotent).

Per team and per unit of `--scale`: 75 patients with one case each, spread over every stage, a
year of discharged cases with lengths of stay, consents in every status, referral sources from
the demo physicians and institutions. Follow-ups about cases for nurse and nurse2, some due now
and never reminded.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from accounts.demo_data import PATIENT_GIVEN_NAMES, PATIENT_SURNAMES
from accounts.models import Team, User
from physicians.models import Institution, Physician
from physicians.npi import make_npi

from .choices import (
    AuthorizationStatus,
    CommChannel,
    CommParties,
    ConsentStatus,
    DeclineReason,
    DischargeDisposition,
    Eligibility,
    Priority,
    Sex,
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

MRN_PREFIX = "DEMO"
TEAMS = [("Clinical Liaison North", ["nurse", "nurse_north2"]), ("Clinical Liaison South", ["nurse2", "nurse_south2"])]
# Stage mix of each team's 75 cases.
STAGE_MIX = [
    (Stage.REFERRED, 8),
    (Stage.EVALUATING, 10),
    (Stage.ACCEPTED, 8),
    (Stage.ADMITTED, 10),
    (Stage.DISCHARGED, 30),
    (Stage.DECLINED, 6),
    (Stage.CANCELLED, 3),
]
PROGRAMS = [
    "Cardiac rehabilitation",
    "Pulmonary rehabilitation",
    "Stroke recovery unit",
    "Orthopedic rehab",
    "Wound care",
    "Skilled nursing",
]
REASONS = [
    "Post-CABG rehabilitation",
    "COPD exacerbation, deconditioning",
    "Ischemic stroke, left hemiparesis",
    "Total hip arthroplasty",
    "Diabetic foot ulcer, IV antibiotics",
    "Heart failure with reduced ejection fraction",
]
PAYERS = [
    ("Medicare", "Part A"),
    ("Aetna", "Choice PPO"),
    ("Blue Cross", "Blue Choice"),
    ("UnitedHealthcare", "Options PPO"),
    ("Medicaid", ""),
]
MEDS = [
    ("Metoprolol", "25 mg", "oral", "twice daily"),
    ("Apixaban", "5 mg", "oral", "twice daily"),
    ("Atorvastatin", "40 mg", "oral", "nightly"),
    ("Insulin glargine", "20 units", "subcutaneous", "nightly"),
    ("Furosemide", "40 mg", "oral", "daily"),
]
PLAN_GOALS = [
    "Walk 150 m with a rolling walker; independent transfers.",
    "Wound closure; manage dressing changes at home with the family.",
    "Return to baseline breathing; safe use of inhalers and home oxygen.",
    "Independent in self-care; stable blood glucose on the new regimen.",
]
PLAN_SERVICES = [
    "Physical therapy 5x/week, occupational therapy 3x/week, medication teaching.",
    "Wound care daily, IV antibiotics, nutrition consult.",
    "Pulmonary rehabilitation, respiratory therapy, smoking cessation counselling.",
    "Speech therapy, physical therapy, stroke education for patient and family.",
]
LANGUAGES = ["English"] * 7 + ["Spanish", "Vietnamese", "Portuguese"]
CONSENT_FORMS = [("Admission", "2.1", True), ("Treatment plan", "1.4", True), ("Release of information", "1.0", False)]


def _previous_version(version: str) -> str | None:
    major, _, minor = version.partition(".")
    if minor.isdigit() and int(minor) > 0:
        return f"{major}.{int(minor) - 1}"
    return f"{int(major) - 1}.0" if major.isdigit() and int(major) > 1 else None


def _superseded_versions(consents: list[Consent]) -> list[Consent]:
    """For every fourth consent signed on an admitted case, the one it replaced by re-consent:
    signed on the form's previous version, superseded when the current one was signed."""
    earlier = []
    signed = [c for c in consents if c.status == ConsentStatus.SIGNED and c.case.admitted_at and c.explained_at]
    for i, new in enumerate(signed):
        old_version = _previous_version(new.form_version)
        if i % 4 or old_version is None:
            continue
        start = new.case.evaluation_started_at
        earlier.append(
            Consent(
                case=new.case,
                procedure=new.procedure,
                form=new.form,
                form_version=old_version,
                required=new.required,
                explained_by=new.explained_by,
                explained_at=start + (new.explained_at - start) / 4,
                teach_back_confirmed=True,
                signed_by=SignedBy.PATIENT,
                witness_name=new.witness_name,
                interpreter_used=new.interpreter_used,
                status=ConsentStatus.SUPERSEDED,
                signed_at=start + (new.explained_at - start) / 2,
                superseded_at=new.signed_at,
                superseded_by=new,
            )
        )
    return earlier


def _referral_sources(rng: random.Random):
    physicians = list(Physician.objects.order_by("pk").values_list("pk", "institution_id")[:300])
    institutions = list(Institution.objects.order_by("pk").values_list("pk", flat=True)[:100])
    if not physicians:
        made = Institution.objects.bulk_create(
            [
                Institution(name=f"{city} General Hospital", city=city, state="MA")
                for city in ("Boston", "Worcester", "Springfield")
            ]
        )
        phys = Physician.objects.bulk_create(
            [
                Physician(
                    first_name=rng.choice(PATIENT_GIVEN_NAMES),
                    last_name=rng.choice(PATIENT_SURNAMES),
                    credentials="MD",
                    npi=make_npi(190000000 + i),
                    specialty="Internal medicine",
                    institution=made[i % len(made)],
                )
                for i in range(6)
            ]
        )
        physicians = [(p.pk, p.institution_id) for p in phys]
        institutions = [i.pk for i in made]
    return physicians, institutions


def seed(*, scale: int, stdout) -> None:
    if Patient.objects.filter(mrn__startswith=MRN_PREFIX).exists():
        stdout.write("  patients: demo data already present")
        return
    rng = random.Random(42)
    now = timezone.now()
    forms = []
    for name, version, required in CONSENT_FORMS:
        form, _ = ConsentForm.objects.get_or_create(
            name=name, defaults={"current_version": version, "required_for_admission": required}
        )
        forms.append(form)
    physicians, institutions = _referral_sources(rng)
    teams = {t.name: t for t in Team.objects.filter(name__in=[n for n, _ in TEAMS])}
    users = {u.username: u for u in User.objects.filter(username__in=[u for _, names in TEAMS for u in names])}
    manager = User.objects.filter(username="manager").first()

    patients: list[Patient] = []
    plans: list[tuple] = []  # (team, liaison, stage)
    serial = 0
    for team_name, usernames in TEAMS:
        team = teams.get(team_name)
        liaisons = [users[u] for u in usernames if u in users]
        if team is None or not liaisons:
            continue
        for _ in range(scale):
            for stage, count in STAGE_MIX:
                for _ in range(count):
                    serial += 1
                    age = rng.randint(25, 95)
                    patients.append(
                        Patient(
                            mrn=f"{MRN_PREFIX}{serial:08d}",
                            first_name=rng.choice(PATIENT_GIVEN_NAMES),
                            last_name=rng.choice(PATIENT_SURNAMES),
                            date_of_birth=(now - dt.timedelta(days=age * 365 + rng.randint(0, 364))).date(),
                            sex=rng.choice([Sex.FEMALE, Sex.MALE, Sex.FEMALE, Sex.MALE, Sex.UNKNOWN]),
                            phone=f"(617) 555-{rng.randint(1000, 9999)}",
                            address=f"{rng.randint(1, 999)} Main Street, Boston, MA",
                            preferred_language=(lang := rng.choice(LANGUAGES)),
                            interpreter_needed=lang != "English",
                            emergency_contact_name=f"{rng.choice(PATIENT_GIVEN_NAMES)} {rng.choice(PATIENT_SURNAMES)}",
                            emergency_contact_relationship=rng.choice(["Spouse", "Daughter", "Son", "Sibling"]),
                            emergency_contact_phone=f"(617) 555-{rng.randint(1000, 9999)}",
                        )
                    )
                    plans.append((team, liaisons[serial % len(liaisons)], stage))
    if not patients:
        stdout.write("  patients: no clinical-liaison demo users; nothing to do")
        return
    Patient.objects.bulk_create(patients, batch_size=1000)

    cases: list[Case] = []
    timelines: list[list[tuple[str, str, dt.datetime]]] = []
    for patient, (team, liaison, stage) in zip(patients, plans, strict=True):
        phys_id, inst_id = rng.choice(physicians)
        if stage == Stage.DISCHARGED:
            received = now - dt.timedelta(days=rng.randint(20, 365), hours=rng.randint(0, 23))
        elif stage in (Stage.ADMITTED, Stage.DECLINED, Stage.CANCELLED):
            received = now - dt.timedelta(days=rng.randint(8, 40), hours=rng.randint(0, 23))
        else:
            received = now - dt.timedelta(days=rng.randint(0, 8), hours=rng.randint(0, 23))
        t_eval = received + dt.timedelta(hours=rng.randint(2, 30))
        t_done = t_eval + dt.timedelta(hours=rng.randint(6, 60))
        t_accept = t_done + dt.timedelta(hours=rng.randint(1, 12))
        t_admit = t_accept + dt.timedelta(days=rng.randint(1, 4))
        los = rng.randint(3, 28)  # length of stay in days
        t_discharge = t_admit + dt.timedelta(days=los)
        t_exit = received + dt.timedelta(days=rng.randint(1, 5))
        # Shift the whole story back so its last event is in the past (order kept).
        last = {
            Stage.REFERRED: received,
            Stage.EVALUATING: t_eval,
            Stage.ACCEPTED: t_accept,
            Stage.ADMITTED: t_admit,
            Stage.DISCHARGED: t_discharge,
        }.get(stage, t_exit)
        shift = max(dt.timedelta(0), last - (now - dt.timedelta(hours=1)))
        received, t_eval, t_done, t_accept, t_admit, t_discharge, t_exit = (
            t - shift for t in (received, t_eval, t_done, t_accept, t_admit, t_discharge, t_exit)
        )
        case = Case(
            patient=patient,
            program=rng.choice(PROGRAMS),
            assigned_liaison=liaison,
            team=team,
            referral_physician_id=phys_id if rng.random() < 0.8 else None,
            referral_institution_id=(inst_id or (rng.choice(institutions) if institutions else None)),
            referral_source_other="" if rng.random() < 0.9 else "Self-referral via community event",
            referral_received_at=received,
            priority=Priority.URGENT if rng.random() < 0.2 else Priority.STANDARD,
            reason=rng.choice(REASONS),
            created_by=liaison,
            version=1,
        )
        stamps = [(Stage.REFERRED, received)]
        if stage in (Stage.EVALUATING, Stage.ACCEPTED, Stage.ADMITTED, Stage.DISCHARGED):
            case.evaluation_started_at = t_eval
            stamps.append((Stage.EVALUATING, case.evaluation_started_at))
        if stage in (Stage.ACCEPTED, Stage.ADMITTED, Stage.DISCHARGED):
            case.evaluated_at = t_done
            case.accepted_at = t_accept
            case.expected_admission_date = (case.accepted_at + dt.timedelta(days=rng.randint(-1, 5))).date()
            stamps.append((Stage.ACCEPTED, case.accepted_at))
        if stage in (Stage.ADMITTED, Stage.DISCHARGED):
            case.admitted_at = t_admit
            stamps.append((Stage.ADMITTED, case.admitted_at))
        if stage == Stage.DISCHARGED:
            case.discharged_at = t_discharge
            case.discharge_disposition = rng.choice(DischargeDisposition.values)
            case.discharge_summary = "Goals met; follow-up with primary care in one week."
            stamps.append((Stage.DISCHARGED, case.discharged_at))
        if stage in (Stage.DECLINED, Stage.CANCELLED):
            at = t_exit
            if stage == Stage.DECLINED:
                case.decline_reason = rng.choice(DeclineReason.values)
            stamps.append((stage, at))
        case.stage = stage
        case.stage_changed_at = stamps[-1][1]
        case.version = len(stamps)
        cases.append(case)
        timelines.append([(stamps[i - 1][0] if i else "", s, at) for i, (s, at) in enumerate(stamps)])
    Case.objects.bulk_create(cases, batch_size=1000)

    transitions, evaluations, consents, coverages, meds, comms, plans = [], [], [], [], [], [], []
    status_cycle = [ConsentStatus.PENDING, ConsentStatus.SIGNED, ConsentStatus.REFUSED, ConsentStatus.WITHDRAWN]
    for idx, (case, timeline) in enumerate(zip(cases, timelines, strict=True)):
        liaison = case.assigned_liaison
        for from_stage, to_stage, at in timeline:
            transitions.append(
                CaseTransition(case=case, from_stage=from_stage, to_stage=to_stage, by=liaison, at=at, note="")
            )
        if case.evaluation_started_at:
            done = case.evaluated_at is not None
            partial = rng.randint(0, 3)
            ev = Evaluation(case=case, clinical_notes="Reviewed records from the referring hospital.")
            ticked = set()
            for i, (key, _label) in enumerate(Evaluation.CHECKLIST):
                if done or i < partial:
                    ticked.add(key)
                    setattr(ev, f"{key}_by", liaison)
                    end = case.evaluated_at or now
                    setattr(
                        ev, f"{key}_at", case.evaluation_started_at + (end - case.evaluation_started_at) * (i + 1) / 5
                    )
            # Each tick with its evidence (services.EVIDENCE): the note of the records reviewed,
            # the medications reconciled, the treatment plan, the coverage verified and authorized.
            if "records_reviewed" in ticked:
                ev.records_review_note = (
                    "Discharge summary, history and physical, recent labs from the referring hospital."
                )
            if "treatment_plan_reviewed" in ticked or rng.random() < 0.3:
                plans.append(
                    TreatmentPlan(
                        case=case,
                        goals=rng.choice(PLAN_GOALS),
                        planned_services=rng.choice(PLAN_SERVICES),
                        expected_length_of_stay_days=rng.randint(7, 21),
                        updated_by=liaison,
                    )
                )
            if done:
                ev.eligibility, ev.decided_by, ev.decided_at = Eligibility.ELIGIBLE, liaison, case.evaluated_at
            evaluations.append(ev)
            payer, plan = rng.choice(PAYERS)
            approved = done or rng.random() < 0.4
            # In force on the expected admission date (the evidence of "Insurance verified").
            valid_from = None
            if approved and case.accepted_at:
                valid_from = min(case.accepted_at.date(), case.expected_admission_date or case.accepted_at.date())
            coverages.append(
                InsuranceCoverage(
                    case=case,
                    payer=payer,
                    plan=plan,
                    member_id=f"{payer[:3].upper()}{rng.randint(100000, 999999)}",
                    is_primary=True,
                    verified_by=liaison if done else None,
                    verified_at=case.evaluated_at,
                    authorization_status=AuthorizationStatus.APPROVED if approved else AuthorizationStatus.PENDING,
                    authorization_number=f"AUTH-{rng.randint(10000, 99999)}" if approved else "",
                    authorization_valid_from=valid_from,
                    authorization_valid_to=valid_from + dt.timedelta(days=60) if valid_from else None,
                )
            )
            for name, dose, route, freq in rng.sample(MEDS, rng.randint(1, 4)):
                reconciled = "medications_reviewed" in ticked
                meds.append(
                    Medication(case=case, name=name, dose=dose, route=route, frequency=freq, reconciled=reconciled)
                )
            admitted = case.admitted_at is not None
            for form in forms:
                if admitted and form.required_for_admission:
                    status = ConsentStatus.SIGNED
                elif case.stage == Stage.DISCHARGED and not form.required_for_admission:
                    status = ConsentStatus.WITHDRAWN if idx % 5 == 0 else ConsentStatus.SIGNED
                else:
                    status = status_cycle[(idx + forms.index(form)) % len(status_cycle)]
                explained = status != ConsentStatus.PENDING or idx % 2 == 0
                end = case.admitted_at or now
                t = case.evaluation_started_at + (end - case.evaluation_started_at) / 3
                t_signed = t + (end - t) / 3
                signed = status in (ConsentStatus.SIGNED, ConsentStatus.WITHDRAWN)
                representative = signed and idx % 7 == 0
                consents.append(
                    Consent(
                        case=case,
                        procedure=form.name,
                        form=form,
                        form_version=form.current_version,
                        required=form.required_for_admission,
                        explained_by=liaison if explained else None,
                        explained_at=t if explained else None,
                        teach_back_confirmed=explained,
                        signed_by=(SignedBy.REPRESENTATIVE if representative else SignedBy.PATIENT) if signed else "",
                        representative_name=f"{rng.choice(PATIENT_GIVEN_NAMES)} {case.patient.last_name}"
                        if representative
                        else "",
                        representative_relationship="Health care proxy" if representative else "",
                        witness_name=f"{rng.choice(PATIENT_GIVEN_NAMES)} {rng.choice(PATIENT_SURNAMES)}, RN"
                        if signed
                        else "",
                        interpreter_used=case.patient.interpreter_needed,
                        status=status,
                        signed_at=t_signed if signed else None,
                        withdrawn_at=t_signed + (now - t_signed) / 2 if status == ConsentStatus.WITHDRAWN else None,
                    )
                )
        span = (
            (case.stage_changed_at - case.referral_received_at) if not case.is_open else now - case.referral_received_at
        )
        for k in range(rng.randint(1, 4)):
            at = case.referral_received_at + span * (k + 1) / 5
            case.last_communication_at = max(case.last_communication_at or at, at)
            if at < now:
                comms.append(
                    Communication(
                        case=case,
                        occurred_at=at,
                        channel=rng.choice(CommChannel.values),
                        parties=rng.choice(CommParties.values),
                        summary=rng.choice(
                            [
                                "Explained the program and the next steps; patient agrees.",
                                "Daughter asked about visiting hours and transport.",
                                "Discussed discharge medications with the referring physician.",
                                "Confirmed insurance documents received.",
                            ]
                        ),
                        by=liaison,
                    )
                )
    CaseTransition.objects.bulk_create(transitions, batch_size=2000)
    Evaluation.objects.bulk_create(evaluations, batch_size=2000)
    InsuranceCoverage.objects.bulk_create(coverages, batch_size=2000)
    Medication.objects.bulk_create(meds, batch_size=2000)
    TreatmentPlan.objects.bulk_create(plans, batch_size=2000)
    Consent.objects.bulk_create(consents, batch_size=2000)
    consents += Consent.objects.bulk_create(_superseded_versions(consents), batch_size=2000)
    Communication.objects.bulk_create(comms, batch_size=2000)
    Case.objects.bulk_update(cases, ["last_communication_at"], batch_size=1000)
    follow_ups = _follow_ups(cases, users, manager, now, rng)
    stdout.write(
        f"  {len(patients)} patients, {len(cases)} cases, {len(consents)} consents, {len(comms)} communications, "
        f"{follow_ups} case follow-ups"
    )


def _follow_ups(cases, users, manager, now, rng) -> int:
    from outreach.models import FollowUp

    rows = []
    for username in ("nurse", "nurse2"):
        owner = users.get(username)
        if owner is None:
            continue
        mine = [c for c in cases if c.assigned_liaison_id == owner.pk and c.is_open][:8]
        for i, case in enumerate(mine):
            due = now - dt.timedelta(minutes=30 + i) if i < 3 else now + dt.timedelta(days=i)
            rows.append(
                FollowUp(
                    owner=owner,
                    team_id=owner.team_id,
                    title=rng.choice(
                        ["Call the patient's daughter", "Chase the insurance authorization", "Check consent signed"]
                    ),
                    notes="",
                    due_at=due,
                    case=case,
                    created_by=manager or owner,
                )
            )
    FollowUp.objects.bulk_create(rows)
    return len(rows)
