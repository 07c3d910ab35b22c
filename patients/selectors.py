"""Read-side queries shared by the views (and by reporting)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case as When_
from django.db.models import IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User
from documents.models import Document
from documents.selectors import HAS_MEDICAL_RECORD, medical_record_filed
from liaison_crm.dates import day_start
from physicians.models import Institution, Physician

from . import conf
from .choices import Stage
from .models import (
    Case,
    CaseTransition,
    Communication,
    Consent,
    Evaluation,
    InsuranceCoverage,
    Medication,
    Patient,
    TreatmentPlan,
)
from .services import accept_blockers, admission_blockers

STAGE_ORDER = [
    Stage.REFERRED,
    Stage.EVALUATING,
    Stage.ACCEPTED,
    Stage.ADMITTED,
    Stage.DISCHARGED,
    Stage.DECLINED,
    Stage.CANCELLED,
]

PHI_MODELS = (
    Patient, Case, CaseTransition, Evaluation, Medication, InsuranceCoverage, TreatmentPlan, Consent, Communication,
)  # fmt: skip


PATIENT_UNSHOWN_ON_WORKLIST = (
    "date_of_birth", "sex", "phone", "email", "address", "preferred_language", "interpreter_needed",
    "emergency_contact_name", "emergency_contact_relationship", "emergency_contact_phone",
)  # fmt: skip


# worklist_queryset()'s prefetched lists
CONSENTS, COVERAGES, MEDICATIONS = "consent_list", "coverage_list", "medication_list"


def _consents_and_coverages(case: Case) -> tuple:
    """The case's consents and coverages: worklist_queryset()'s lists, or read now."""
    consents, coverages = getattr(case, CONSENTS, None), getattr(case, COVERAGES, None)
    if consents is None or coverages is None:
        return case.consents.all(), case.coverages.all()
    return consents, coverages


def stage_rank():
    return When_(*[When(stage=s, then=Value(i)) for i, s in enumerate(STAGE_ORDER)], output_field=IntegerField())


def worklist_queryset(qs: QuerySet[Case], now: dt.datetime | None = None) -> QuerySet[Case]:
    """Rows for the worklist: everything a row shows, in a fixed number of queries."""
    related = ("patient", "assigned_liaison", "evaluation", "treatment_plan")
    return (
        qs.select_related(*related)
        # A row shows the patient's name and MRN: the rest of their record is not read. Of the
        # treatment plan, only whether there is one (the evidence of its tick).
        .defer(
            *(f"patient__{field}" for field in PATIENT_UNSHOWN_ON_WORKLIST),
            *User.unshown("assigned_liaison"),
            "treatment_plan__goals",
            "treatment_plan__planned_services",
        )
        # As plain lists (to_attr): a prefetch into the related manager builds a filtered
        # queryset for every row of the page, a fifth of the worklist's Python time. The
        # medications are the evidence of the "Medications reviewed" tick (accept_blockers).
        # The referral source is read by the row's label only. Joined, the physician's and
        # institution's 25 indexes tripled the query's planning time (bench/results.md).
        .prefetch_related(
            Prefetch(
                "referral_physician", queryset=Physician.objects.only("id", "first_name", "last_name", "credentials")
            ),
            Prefetch("referral_institution", queryset=Institution.objects.only("id", "name", "city")),
            Prefetch("consents", queryset=Consent.objects.select_related("form"), to_attr=CONSENTS),
            Prefetch("coverages", queryset=InsuranceCoverage.objects.all(), to_attr=COVERAGES),
            Prefetch(
                "medications", queryset=Medication.objects.only("case", "name", "reconciled"), to_attr=MEDICATIONS
            ),
        )
        .with_length_of_stay(now)
        .annotate(stage_rank=stage_rank(), **{HAS_MEDICAL_RECORD: medical_record_filed()})
    )


def _evaluation(case: Case) -> Evaluation | None:
    try:
        return case.evaluation
    except Evaluation.DoesNotExist:
        return None


def next_step(case: Case) -> str:
    """The next missing step in words ("insurance not verified", "consent 'X' is pending")."""
    if case.stage == Stage.REFERRED:
        return "start the evaluation"
    if case.stage == Stage.EVALUATING:
        evaluation = _evaluation(case)
        if evaluation is None:
            return "evaluation checklist not started"
        words = {
            "records_reviewed": "medical records not reviewed",
            "medications_reviewed": "medications not reviewed",
            "treatment_plan_reviewed": "treatment plan not reviewed",
            "insurance_verified": "insurance not verified",
        }
        for key, _label in Evaluation.CHECKLIST:
            if getattr(evaluation, f"{key}_at") is None:
                return words[key]
        medications, coverages = getattr(case, MEDICATIONS, None), getattr(case, COVERAGES, None)
        blockers = accept_blockers(case, medications=medications, coverages=coverages)
        return blockers[0] if blockers else "ready to accept"
    if case.stage == Stage.ACCEPTED:
        consents, coverages = _consents_and_coverages(case)
        blockers = admission_blockers(case, consents=consents, coverages=coverages)
        return blockers[0] if blockers else "ready to admit"
    if case.stage == Stage.ADMITTED:
        return "plan the discharge"
    return ""


def decorate(case: Case, now: dt.datetime | None = None) -> Case:
    now = now or timezone.now()
    case.age_in_stage = now - case.stage_changed_at
    sla = conf.PATIENTS_STAGE_SLA_DAYS.get(case.stage)
    overdue = sla is not None and case.age_in_stage > dt.timedelta(days=sla)
    if (
        case.stage == Stage.ACCEPTED
        and case.expected_admission_date
        and case.expected_admission_date < timezone.localdate(now)
    ):
        overdue = True
    case.is_overdue = overdue
    case.next_step = next_step(case)
    return case


def case_detail_queryset(qs: QuerySet[Case]) -> QuerySet[Case]:
    reviewers = [f"{key}_by" for key, _label in Evaluation.CHECKLIST] + ["decided_by"]
    people = ["assigned_liaison", "created_by"]
    return (
        qs.select_related("patient", "team", "referral_physician", "referral_institution", "treatment_plan", *people)
        # The people on the page are shown by name: their other columns (the password hash
        # above all) stay in the database, and the query is a hundred columns shorter.
        .defer(*User.unshown(*people))
        .with_length_of_stay()
        # The evidence of "Medical records reviewed", for the stage bar's blockers.
        .annotate(**{HAS_MEDICAL_RECORD: medical_record_filed()})
        .prefetch_related(
            # The evaluation and its five reviewers in a query of their own: joined to the case,
            # they made a 13-table join that PostgreSQL took 4-6 ms to plan (0.4 ms to run) on
            # every case page; apart, each query plans in a fraction of a millisecond.
            Prefetch(
                "evaluation",
                queryset=Evaluation.objects.select_related(*reviewers).defer(*User.unshown(*reviewers)),
            ),
            Prefetch("medications", queryset=Medication.objects.all()),
            Prefetch(
                "coverages",
                queryset=InsuranceCoverage.objects.select_related("verified_by").defer(*User.unshown("verified_by")),
            ),
            Prefetch(
                "consents",
                queryset=Consent.objects.select_related("form", "explained_by").defer(*User.unshown("explained_by")),
            ),
            Prefetch("communications", queryset=Communication.objects.select_related("by").defer(*User.unshown("by"))),
            Prefetch("transitions", queryset=CaseTransition.objects.select_related("by").defer(*User.unshown("by"))),
        )
    )


@dataclass(frozen=True)
class ConsentHistory:
    """A consent as the case page shows it: the current one (what the nurse acts on) and its
    versions, the consents it superseded through re-consents included, newest first."""

    consent: Consent
    versions: list[Consent]


def consent_history(consents) -> list[ConsentHistory]:
    """The case's consents grouped by what replaced what, from the list already read (the case
    page prefetches it): no query per consent."""
    consents = list(consents)
    by_pk = {c.pk: c for c in consents}

    def current(consent: Consent) -> Consent:
        seen = set()
        while consent.superseded_by_id in by_pk and consent.pk not in seen:
            seen.add(consent.pk)
            consent = by_pk[consent.superseded_by_id]
        return consent

    chains: dict[int, list[Consent]] = {}
    for consent in consents:
        chains.setdefault(current(consent).pk, []).append(consent)
    return [
        ConsentHistory(by_pk[pk], sorted(versions, key=lambda c: c.pk, reverse=True)) for pk, versions in chains.items()
    ]


def stage_bar(case: Case) -> list[dict]:
    """The main path with the case's position; the next stage carries what blocks it."""
    path = [Stage.REFERRED, Stage.EVALUATING, Stage.ACCEPTED, Stage.ADMITTED, Stage.DISCHARGED]
    current = path.index(case.stage) if case.stage in path else None
    steps = []
    for i, stage in enumerate(path):
        state = "todo"
        if current is not None:
            state = "done" if i < current else "current" if i == current else "todo"
        steps.append({"stage": stage, "label": stage.label, "state": state, "blockers": []})
    if current is not None and current + 1 < len(path):
        nxt = steps[current + 1]
        if case.stage == Stage.EVALUATING:
            nxt["blockers"] = accept_blockers(case)
        elif case.stage == Stage.ACCEPTED:
            nxt["blockers"] = admission_blockers(case, consents=case.consents.all(), coverages=case.coverages.all())
    return steps


# --- audit ------------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    user: int | None = None
    patient: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    action: int | None = None
    kind: str | None = None  # choices.AccessKind: which page, fragment, export or admin page


def phi_content_types() -> list[ContentType]:
    return list(ContentType.objects.get_for_models(*PHI_MODELS).values())


def audit_entries(user, filters: AuditFilters) -> QuerySet[LogEntry]:
    """Who viewed or changed which patient: entries about PHI models within the user's teams, and
    about a case's documents (filed, downloaded, previewed, entered in error; an inquiry's
    documents name no patient and are not PHI)."""
    qs = LogEntry.objects.filter(
        Q(content_type__in=[ct.pk for ct in phi_content_types()])
        | Q(content_type=ContentType.objects.get_for_model(Document), additional_data__has_key="patient_id")
    )
    # An entry about one team or patient names it as team_id / patient_id; an access entry
    # about several (a worklist page, an export) lists them as keys (patients/audit.py).
    scope = user.scope_team_ids
    if scope is not None:
        teams = [str(pk) for pk in scope]
        qs = qs.filter(Q(additional_data__team_id__in=list(scope)) | Q(additional_data__teams__has_any_keys=teams))
    if filters.user:
        qs = qs.filter(actor_id=filters.user)
    if filters.patient:
        qs = qs.filter(
            Q(additional_data__patient_id=filters.patient) | Q(additional_data__patients__has_key=str(filters.patient))
        )
    if filters.kind:
        qs = qs.filter(action=LogEntry.Action.ACCESS, additional_data__kind=filters.kind)
    if filters.action is not None:
        qs = qs.filter(action=filters.action)
    # Ranges on the indexed timestamp, not a date() of it.
    if filters.date_from:
        qs = qs.filter(timestamp__gte=day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(timestamp__lt=day_start(filters.date_to + dt.timedelta(days=1)))
    return qs.select_related("actor", "content_type").order_by("-timestamp", "-id")


def search_cases(qs: QuerySet[Case], q: str) -> QuerySet[Case]:
    q = (q or "").strip()
    if not q:
        return qs
    terms = q.split()
    # MRNs match exactly (as typed or upper-cased) so the unique index answers.
    cond = Q(patient__mrn__in={q, q.upper()})
    if len(terms) >= 2:
        cond |= Q(patient__first_name__istartswith=terms[0], patient__last_name__istartswith=terms[-1])
        cond |= Q(patient__last_name__istartswith=terms[0].rstrip(","), patient__first_name__istartswith=terms[-1])
    else:
        cond |= Q(patient__last_name__istartswith=q) | Q(patient__first_name__istartswith=q)
    return qs.filter(cond)
