"""Load a decade of data into a separate PostgreSQL database, fast, with COPY.

    python -m bench.load [--scale 1.0] [--db-url postgres://postgres@127.0.0.1:5432/liaison_bench]

At scale 1.0: 300 users in 30 teams, 2,000 institutions, 50,000 physicians, 1,000,000
interactions, 200,000 insights, 100,000 inquiries, 200,000 patients with 250,000 cases across
every stage (and their transitions, evaluations, consents, communications), 1,000,000
follow-ups of which 100,000 are due and never reminded. The database is dropped and created
again, migrated, loaded and analysed. Deterministic (random.Random(42)) for a given scale.
"""

from __future__ import annotations

import argparse
import sys
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

# The name pools live with the demo's (bench/run.py reads them from here too).
from accounts.demo_data import BENCH_GIVEN_NAMES as FIRST_NAMES
from accounts.demo_data import BENCH_SURNAMES as LAST_NAMES
from bench import env

DAY = 86_400.0
DECADE = 3652 * DAY

SPECIALTIES = (
    "Oncology",
    "Hematology",
    "Cardiology",
    "Endocrinology",
    "Neurology",
    "Rheumatology",
    "Pulmonology",
    "Nephrology",
    "Gastroenterology",
    "Infectious disease",
    "Internal medicine",
    "Family medicine",
)
CITIES = [
    "Boston",
    "New_York",
    "Philadelphia",
    "Baltimore",
    "Atlanta",
    "Miami",
    "Chicago",
    "Detroit",
    "Cleveland",
    "Houston",
    "Dallas",
    "Denver",
    "Phoenix",
    "Seattle",
    "Portland",
    "San_Diego",
    "Los_Angeles",
    "San_Francisco",
    "Minneapolis",
    "St._Louis",
    "Nashville",
    "Charlotte",
    "Pittsburgh",
    "Columbus",
    "Indianapolis",
    "Kansas_City",
    "Omaha",
    "Salt_Lake_City",
    "Sacramento",
    "Tampa",
]
STATES = [
    "MA",
    "NY",
    "PA",
    "MD",
    "GA",
    "FL",
    "IL",
    "MI",
    "OH",
    "TX",
    "TX",
    "CO",
    "AZ",
    "WA",
    "OR",
    "CA",
    "CA",
    "CA",
    "MN",
    "MO",
    "TN",
    "NC",
    "PA",
    "OH",
    "IN",
    "MO",
    "NE",
    "UT",
    "CA",
    "FL",
]
AREAS = (
    "Oncology",
    "Cardiology",
    "Neurology",
    "Immunology",
    "Endocrinology",
    "Respiratory",
    "Nephrology",
    "Rare disease",
)
CHANNELS = ("in_person", "in_person", "in_person", "virtual", "virtual", "phone", "email", "congress", "advisory_board")
THEMES = ("efficacy", "safety", "dosing", "unmet_need", "competitive", "access", "trial_design", "other")
SENTIMENTS = ("positive", "neutral", "negative", "mixed")
TOPICS = (
    "Phase III results; dosing in renal impairment",
    "Real-world evidence; switching patterns",
    "Safety profile in the elderly",
    "Upcoming congress data",
    "Investigator-initiated study proposal",
    "Formulary access and prior authorisation",
)
SUMMARIES = (
    "Discussed the latest efficacy data and answered questions about the subgroup analysis.",
    "Reviewed the safety update; the physician asked for the full publication.",
    "Follow-up on the advisory board; agreed to share the real-world evidence summary.",
    "Short call about dosing adjustments in patients with hepatic impairment.",
)
INSIGHT_TEXTS = (
    "Sees a clear need for an oral option in second line.",
    "Concerned about monitoring burden in community practice.",
    "Would prescribe earlier if payers removed the step therapy requirement.",
    "Believes the trial population under-represents elderly patients.",
    "Competitor data at the congress changed the local standard of care.",
)
QUESTIONS = (
    "What is the evidence for use in patients over 75?",
    "Is there data on co-administration with anticoagulants?",
    "What are the storage requirements once opened?",
    "Can the dose be split for paediatric patients?",
)
PROGRAMS = ("Inpatient rehabilitation", "Long-term acute care", "Skilled nursing", "Cardiac rehab", "Stroke unit")
REASONS = (
    "Post-operative rehabilitation after hip replacement",
    "Stroke recovery; needs intensive therapy",
    "Ventilator weaning",
    "Complex wound care",
    "Cardiac rehabilitation after bypass surgery",
)
DECLINE_REASONS = ("not_eligible", "insurance_denied", "patient_choice", "no_bed", "lost_to_competitor", "other")
DISPOSITIONS = ("home", "home_health", "skilled_nursing", "readmission", "hospice", "other")
COMM_CHANNELS = ("phone", "phone", "in_person", "video", "portal", "email", "interpreter")
COMM_PARTIES = ("liaison_patient", "liaison_family", "liaison_provider", "provider_patient")
COMM_SUMMARIES = (
    "Explained the admission process and answered questions about the stay.",
    "Confirmed insurance details with the family.",
    "Spoke with the referring provider about the medication list.",
    "Patient agreed to the transfer date.",
)
FOLLOW_UP_TITLES = (
    "Send the publication requested",
    "Check in after the congress",
    "Call back about the inquiry",
    "Confirm admission date with the family",
    "Chase the insurance authorisation",
    "Prepare the advisory board briefing",
)
CONSENT_FORMS = ("General consent to treatment", "Consent to share records", "Photography consent")


def scaled(n: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(n * scale))


@dataclass
class World:
    """Ids and attributes the later tables refer to (plain arrays: a million rows stay small)."""

    now: float
    msl_ids: list[int] = field(default_factory=list)
    nurse_ids: list[int] = field(default_factory=list)
    user_team: dict[int, int] = field(default_factory=dict)
    team_members: dict[int, list[int]] = field(default_factory=dict)
    team_manager: dict[int, int] = field(default_factory=dict)
    msl_team_ids: list[int] = field(default_factory=list)
    cl_team_ids: list[int] = field(default_factory=list)
    product_ids: list[int] = field(default_factory=list)
    consent_form_ids: list[int] = field(default_factory=list)
    n_institutions: int = 0
    n_physicians: int = 0
    p_owner: array = field(default_factory=lambda: array("l"))
    p_inst: array = field(default_factory=lambda: array("l"))
    n_interactions: int = 0
    i_phys: array = field(default_factory=lambda: array("l"))
    i_msl: array = field(default_factory=lambda: array("l"))
    i_at: array = field(default_factory=lambda: array("d"))
    n_inquiries: int = 0
    cases_by_team: dict[int, list[int]] = field(default_factory=dict)
    n_cases: int = 0


class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:7.1f}s] {message}", flush=True)


def recreate_database(url: str) -> None:
    import psycopg2

    name = env.db_name(url)
    conn = psycopg2.connect(env.maintenance_url(url))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def drop_database(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(env.maintenance_url(url))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{env.db_name(url)}" WITH (FORCE)')
    conn.close()


# --- small tables through the ORM --------------------------------------------------------------


def load_people(world: World, scale: float, log: Progress) -> None:
    """30 teams, 300 users (the demo users of accounts/demo.py among them, password `demo`)."""
    from django.contrib.auth.hashers import make_password

    from accounts import demo
    from accounts.models import Team, User

    grow = max(1.0, scale)
    password = make_password(demo.DEMO_PASSWORD)
    demo_users = {row[0]: row for row in demo.USERS}
    msl_names = [name for name, kind in demo.TEAMS if kind == Team.Kind.MEDICAL_AFFAIRS]
    cl_names = [name for name, kind in demo.TEAMS if kind == Team.Kind.CLINICAL_LIAISON]
    msl_names += [f"Medical Affairs Region {i:02d}" for i in range(len(msl_names) + 1, 16)]
    cl_names += [f"Clinical Liaison Region {i:02d}" for i in range(len(cl_names) + 1, 16)]
    msl_teams = Team.objects.bulk_create([Team(name=n, kind=Team.Kind.MEDICAL_AFFAIRS) for n in msl_names])
    cl_teams = Team.objects.bulk_create([Team(name=n, kind=Team.Kind.CLINICAL_LIAISON) for n in cl_names])
    world.msl_team_ids = [t.id for t in msl_teams]
    world.cl_team_ids = [t.id for t in cl_teams]
    demo_team = {name: t for t in msl_teams + cl_teams for name in [t.name]}

    rng = Random(7)
    users: list[User] = []

    def person(username: str, role: str, team, first=None, last=None, title="", creds="") -> User:
        u = User(
            username=username,
            first_name=first or rng.choice(FIRST_NAMES),
            last_name=last or rng.choice(LAST_NAMES),
            email=f"{username}@bench.liaison-crm.local",
            role=role,
            team=team,
            job_title=title,
            credentials=creds,
            password=password,
            is_staff=role == User.Role.ADMIN,
            is_superuser=role == User.Role.ADMIN,
        )
        users.append(u)
        return u

    # Demo users first, so round-robin assignment gives them data at every scale.
    for username, first, last, role, team_idx, title, creds in demo_users.values():
        team = demo_team[demo.TEAMS[team_idx][0]] if team_idx is not None else None
        person(username, role, team, first, last, title, creds)
    per_msl_team = round(10 * grow)
    per_cl_team = round(9 * grow)
    for teams, per_team, role, prefix, creds in (
        (msl_teams, per_msl_team, User.Role.MSL, "msl", "PharmD"),
        (cl_teams, per_cl_team, User.Role.CLINICAL_LIAISON, "cl", "RN"),
    ):
        for t_index, team in enumerate(teams):
            have = sum(1 for u in users if u.team_id == team.id)
            for k in range(have, per_team):
                person(f"{prefix}_t{t_index + 1:02d}_{k + 1:02d}", role, team, creds=creds)
    extra_managers = []
    for t_index in range(2, 15):
        extra_managers.append(person(f"manager_t{t_index + 1:02d}", User.Role.MANAGER, None, title="Manager"))
    User.objects.bulk_create(users)
    by_name = {u.username: u for u in User.objects.all()}
    manager = by_name["manager"]
    Through = Team.managers.through
    links = [Through(team_id=t.id, user_id=manager.id) for t in msl_teams[:2] + cl_teams[:2]]
    for t_index, m in zip(range(2, 15), extra_managers, strict=True):
        mid = by_name[m.username].id
        links += [
            Through(team_id=msl_teams[t_index].id, user_id=mid),
            Through(team_id=cl_teams[t_index].id, user_id=mid),
        ]
    Through.objects.bulk_create(links)
    for link in links:
        world.team_manager[link.team_id] = link.user_id

    all_users = list(User.objects.order_by("id"))
    demo_order = {name: i for i, name in enumerate(demo_users)}
    all_users.sort(key=lambda u: (demo_order.get(u.username, 999), u.id))
    for u in all_users:
        if u.team_id:
            world.user_team[u.id] = u.team_id
            world.team_members.setdefault(u.team_id, []).append(u.id)
        if u.role == User.Role.MSL:
            world.msl_ids.append(u.id)
        elif u.role == User.Role.CLINICAL_LIAISON:
            world.nurse_ids.append(u.id)
    log(f"teams: {len(msl_teams) + len(cl_teams)}, users: {len(all_users)}")


def load_reference(world: World, log: Progress) -> None:
    from patients.models import ConsentForm
    from physicians.models import Product, TherapeuticArea

    areas = TherapeuticArea.objects.bulk_create([TherapeuticArea(name=n) for n in AREAS])
    products = []
    for i in range(24):
        area = areas[i % len(areas)]
        products.append(
            Product(
                name=f"{['Zeltra', 'Novix', 'Cardiom', 'Pulmara', 'Renvia', 'Immuta'][i % 6]}-{i + 1}",
                generic_name=f"compound-{i + 1:03d}",
                therapeutic_area=area,
                status="investigational" if i % 5 == 4 else "marketed",
            )
        )
    world.product_ids = [p.id for p in Product.objects.bulk_create(products)]
    forms = ConsentForm.objects.bulk_create(
        [ConsentForm(name=n, required_for_admission=i < 2) for i, n in enumerate(CONSENT_FORMS)]
    )
    world.consent_form_ids = [f.id for f in forms]
    log(f"therapeutic areas: {len(areas)}, products: {len(products)}, consent forms: {len(forms)}")


# --- big tables through COPY -------------------------------------------------------------------


def load_medical_affairs(world: World, scale: float, copier, log: Progress) -> None:
    from bench.bulk import NULL, Table, chunked, ts
    from physicians.models import Insight, Institution, Interaction, MedicalInquiry, Physician
    from physicians.npi import make_npi

    rng = Random(42)
    now = world.now

    # Institutions.
    n_inst = scaled(2000, scale, 10)
    t = Table(Institution, ["id", "name", "kind", "city", "state", "country"])
    kinds = ("academic", "community_clinic", "hospital", "hospital", "private_practice")
    words = {
        "academic": "University Medical Center",
        "community_clinic": "Community Clinic",
        "hospital": "General Hospital",
        "private_practice": "Medical Group",
    }

    def institutions():
        for i in range(1, n_inst + 1):
            c = (i - 1) % len(CITIES)
            kind = kinds[i % len(kinds)]
            city = CITIES[c].replace("_", " ")
            yield (i, f"{rng.choice(LAST_NAMES)} {words[kind]} {i}", kind, city, STATES[c], "United States")

    copier.put(t, institutions())
    world.n_institutions = n_inst
    log(f"institutions: {n_inst}")

    # Interactions first (FK checks are off during the load) so physicians get last_interaction_at.
    n_phys = scaled(50_000, scale, 30)
    n_msl = len(world.msl_ids)
    world.n_physicians = n_phys
    world.p_owner = array("l", (world.msl_ids[i % n_msl] for i in range(n_phys)))
    world.p_inst = array("l", (rng.randrange(n_inst) + 1 for _ in range(n_phys)))
    last_at = array("d", bytes(8 * n_phys))

    n_int = scaled(1_000_000, scale, 200)
    long_timeline = scaled(1000, scale, 20)  # physician #1 (owned by `msl`): the long profile
    i_phys, i_msl, i_at = array("l"), array("l"), array("d")
    t = Table(
        Interaction,
        [
            "id",
            "physician_id",
            "msl_id",
            "team_id",
            "occurred_at",
            "channel",
            "duration_minutes",
            "topics",
            "summary",
            "unsolicited_request",
            "off_label_discussed",
            "created_at",
        ],
    )
    through = Interaction.products.through
    t_prod = Table(through, ["interaction_id", "product_id"])
    user_team, members, owners = world.user_team, world.team_members, world.p_owner
    products = world.product_ids
    m2m: list[tuple] = []
    n_m2m = 0

    def interactions():
        nonlocal n_m2m
        for k in range(1, n_int + 1):
            p = 1 if k <= long_timeline else rng.randrange(n_phys) + 1
            msl = owners[p - 1]
            team = user_team[msl]
            if rng.random() < 0.15:
                msl = rng.choice(members[team])
            at = now - rng.random() * DECADE - 3600
            i_phys.append(p)
            i_msl.append(msl)
            i_at.append(at)
            if at > last_at[p - 1]:
                last_at[p - 1] = at
            unsolicited = rng.random() < 0.1
            stamp = ts(at)
            if rng.random() < 0.3:
                m2m.append((k, rng.choice(products)))
                n_m2m += 1
            yield (
                k,
                p,
                msl,
                team,
                stamp,
                rng.choice(CHANNELS),
                rng.choice((15, 30, 30, 45, 60)),
                rng.choice(TOPICS),
                rng.choice(SUMMARIES),
                unsolicited,
                unsolicited and rng.random() < 0.3,
                stamp,
            )

    done = 0
    for chunk in chunked(interactions()):
        done += copier.put(t, chunk)
        if m2m:
            copier.put(t_prod, m2m)
            m2m.clear()
        if done % 200_000 == 0 or done == n_int:
            log(f"interactions: {done:,}/{n_int:,}")
    world.n_interactions = n_int
    world.i_phys, world.i_msl, world.i_at = i_phys, i_msl, i_at
    log(f"interaction products: {n_m2m:,}")

    # Physicians, with last_interaction_at consistent with the interactions above.
    t = Table(
        Physician,
        [
            "id",
            "first_name",
            "last_name",
            "credentials",
            "npi",
            "specialty",
            "institution_id",
            "email",
            "kol_tier",
            "owner_id",
            "is_active",
            "last_interaction_at",
            "created_at",
            "updated_at",
        ],
    )
    tiers = (1,) * 5 + (2,) * 10 + (3,) * 20 + (0,) * 65

    def physicians():
        created = ts(now - DECADE - DAY)
        for i in range(1, n_phys + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            last_seen = last_at[i - 1]
            yield (
                i,
                first,
                last,
                rng.choice(("MD", "MD", "DO", "MD, PhD")),
                make_npi(100_000_000 + i),
                rng.choice(SPECIALTIES),
                world.p_inst[i - 1],
                f"{first}.{last}.{i}@example.org".lower(),
                rng.choice(tiers),
                owners[i - 1],
                rng.random() > 0.02,
                ts(last_seen) if last_seen else NULL,
                created,
                created,
            )

    for chunk in chunked(physicians()):
        copier.put(t, chunk)
    log(f"physicians: {n_phys:,}")

    # Insights, each from an interaction (same physician, MSL, team and time).
    n_ins = scaled(200_000, scale, 40)
    t = Table(
        Insight,
        [
            "id",
            "interaction_id",
            "physician_id",
            "product_id",
            "theme",
            "sentiment",
            "text",
            "status",
            "captured_by_id",
            "team_id",
            "captured_at",
            "reviewer_id",
            "review_note",
            "review_started_at",
            "actioned_at",
            "closed_at",
            "status_changed_at",
        ],
    )

    def insights():
        for k in range(1, n_ins + 1):
            it = rng.randrange(n_int)
            at, msl = i_at[it], i_msl[it]
            team = user_team[msl]
            age = now - at
            status = (
                rng.choice(("new", "under_review")) if age < 60 * DAY else rng.choice(("actioned", "closed", "closed"))
            )
            reviewer = review = actioned = closed = None
            changed = at
            if status != "new":
                reviewer = world.team_manager.get(team)
                review = at + rng.uniform(0.5, 10) * DAY
                review = min(review, now - 60)
                changed = review
            if status in ("actioned", "closed"):
                actioned = review + rng.uniform(1, 20) * DAY
                changed = actioned
            if status == "closed":
                closed = actioned + rng.uniform(1, 20) * DAY
                changed = closed
            yield (
                k,
                it + 1,
                i_phys[it],
                rng.choice(products) if rng.random() < 0.7 else NULL,
                rng.choice(THEMES),
                rng.choice(SENTIMENTS),
                rng.choice(INSIGHT_TEXTS),
                status,
                msl,
                team,
                ts(at),
                reviewer,
                "Reviewed." if reviewer else "",
                ts(review),
                ts(actioned),
                ts(closed),
                ts(changed),
            )

    for chunk in chunked(insights()):
        copier.put(t, chunk)
    log(f"insights: {n_ins:,}")

    # Medical inquiries.
    n_inq = scaled(100_000, scale, 20)
    t = Table(
        MedicalInquiry,
        [
            "id",
            "physician_id",
            "product_id",
            "question",
            "priority",
            "received_at",
            "due_at",
            "status",
            "answer",
            "delivery_method",
            "answered_at",
            "delivered_at",
            "closed_at",
            "owner_id",
            "team_id",
            "created_at",
        ],
    )

    def inquiries():
        for k in range(1, n_inq + 1):
            p = rng.randrange(n_phys) + 1
            owner = owners[p - 1]
            received = now - rng.random() * DECADE
            urgent = rng.random() < 0.2
            due = received + (DAY if urgent else 10 * DAY)
            age = now - received
            recent_and_open = age < 14 * DAY and rng.random() < 0.7
            status = "open" if recent_and_open else ("answered" if rng.random() < 0.2 else "closed")
            answered = delivered = closed = None
            method = ""
            if status != "open":
                answered = min(received + rng.uniform(0.1, 12) * DAY, now - 60)
                delivered = answered
                method = rng.choice(("email", "phone", "in_person", "letter"))
            if status == "closed":
                closed = min(answered + rng.uniform(0, 3) * DAY, now - 30)
            yield (
                k,
                p,
                rng.choice(products),
                rng.choice(QUESTIONS),
                "urgent" if urgent else "standard",
                ts(received),
                ts(due),
                status,
                "Answered with the label and the key publications." if answered else "",
                method,
                ts(answered),
                ts(delivered),
                ts(closed),
                owner,
                user_team[owner],
                ts(received),
            )

    for chunk in chunked(inquiries()):
        copier.put(t, chunk)
    world.n_inquiries = n_inq
    log(f"medical inquiries: {n_inq:,}")


def load_patients(world: World, scale: float, copier, log: Progress) -> None:
    from bench.bulk import NULL, Table, chunked, ts
    from patients.models import Case, CaseTransition, Communication, Consent, Evaluation, Patient

    rng = Random(43)
    now = world.now
    n_pat = scaled(200_000, scale, 30)
    n_case = scaled(250_000, scale, 40)

    t = Table(
        Patient,
        [
            "id",
            "mrn",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "phone",
            "preferred_language",
            "interpreter_needed",
            "created_at",
            "updated_at",
        ],
    )

    def patients():
        created = ts(now - DECADE - DAY)
        for i in range(1, n_pat + 1):
            dob = f"{rng.randint(1930, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            lang = "Spanish" if rng.random() < 0.12 else "English"
            yield (
                i,
                f"MRN{i:08d}",
                rng.choice(FIRST_NAMES),
                rng.choice(LAST_NAMES),
                dob,
                rng.choice(("female", "male", "female", "male", "unknown")),
                f"555-01{i % 10000:04d}",
                lang,
                lang != "English" and rng.random() < 0.5,
                created,
                created,
            )

    for chunk in chunked(patients()):
        copier.put(t, chunk)
    log(f"patients: {n_pat:,}")

    t_case = Table(
        Case,
        [
            "id",
            "patient_id",
            "program",
            "assigned_liaison_id",
            "team_id",
            "referral_physician_id",
            "referral_institution_id",
            "referral_source_other",
            "referral_received_at",
            "priority",
            "reason",
            "expected_admission_date",
            "stage",
            "stage_changed_at",
            "decline_reason",
            "evaluation_started_at",
            "evaluated_at",
            "accepted_at",
            "admitted_at",
            "discharged_at",
            "discharge_disposition",
            "last_communication_at",
            "version",
            "created_by_id",
            "created_at",
            "updated_at",
        ],
    )
    t_tr = Table(CaseTransition, ["case_id", "from_stage", "to_stage", "by_id", "at", "note"])
    t_ev = Table(
        Evaluation,
        [
            "case_id",
            "records_reviewed_by_id",
            "records_reviewed_at",
            "medications_reviewed_by_id",
            "medications_reviewed_at",
            "treatment_plan_reviewed_by_id",
            "treatment_plan_reviewed_at",
            "insurance_verified_by_id",
            "insurance_verified_at",
            "clinical_notes",
            "eligibility",
            "decided_by_id",
            "decided_at",
        ],
    )
    t_con = Table(
        Consent,
        [
            "case_id",
            "procedure",
            "form_id",
            "form_version",
            "required",
            "explained_by_id",
            "explained_at",
            "teach_back_confirmed",
            "signed_by",
            "status",
            "signed_at",
        ],
    )
    t_comm = Table(Communication, ["case_id", "occurred_at", "channel", "parties", "summary", "by_id"])
    transitions, evaluations, consents, comms = [], [], [], []
    counts = {"transitions": 0, "evaluations": 0, "consents": 0, "communications": 0}
    stages_seen: dict[str, int] = {}
    cl_teams = world.cl_team_ids
    members = world.team_members
    by_team: dict[int, list[int]] = {tid: [] for tid in cl_teams}

    def cases():
        for k in range(1, n_case + 1):
            patient = k if k <= n_pat else rng.randrange(n_pat) + 1
            team = cl_teams[(k - 1) % len(cl_teams)]
            team_nurses = members[team]
            liaison = team_nurses[((k - 1) // len(cl_teams)) % len(team_nurses)]
            by_team[team].append(k)
            # A decade of history, and a busy last month so every open stage has a worklist.
            received = now - (rng.random() * 30 * DAY if rng.random() < 0.12 else rng.random() * DECADE)
            # Each team's first nurse (the demo nurse in hers) gets a few cases received in the last
            # days, so her worklist and an open case exist at every scale: the same pages (and
            # queries) at a tiny scale as at full scale.
            recent = k <= 4 * len(cl_teams)
            if recent:
                liaison = team_nurses[0]
                received = now - (0.01, 1.0, 4.0, 9.0)[(k - 1) // len(cl_teams)] * DAY
            if rng.random() < 0.8:
                phys = rng.randrange(world.n_physicians) + 1
                inst, other = world.p_inst[phys - 1], ""
            else:
                phys, inst, other = NULL, NULL, "Self-referral"
            # The planned path; whatever lies in the future has not happened yet.
            ev_start = received + rng.uniform(0.05, 2) * DAY
            evaluated = ev_start + rng.uniform(0.3, 3) * DAY
            accepted = evaluated + rng.uniform(0, 1) * DAY
            admitted = accepted + rng.uniform(0.5, 5) * DAY
            discharged = admitted + rng.uniform(3, 30) * DAY
            fate = max(rng.random(), 0.5) if recent else rng.random()
            events = [("referred", received)]
            decline = ""
            if fate < 0.04:  # cancelled before evaluation ends
                events += [("evaluating", ev_start), ("cancelled", min(evaluated, ev_start + DAY))]
            elif fate < 0.18:  # declined at evaluation
                events += [("evaluating", ev_start), ("declined", evaluated)]
                decline = rng.choice(DECLINE_REASONS)
            else:
                events += [
                    ("evaluating", ev_start),
                    ("accepted", accepted),
                    ("admitted", admitted),
                    ("discharged", discharged),
                ]
            events = [e for e in events if e[1] < now]
            stage, changed = events[-1]
            stages_seen[stage] = stages_seen.get(stage, 0) + 1
            at = dict(events)
            if stage != "declined":
                decline = ""
            prev = ""
            for to, when in events:
                transitions.append((k, prev, to, liaison, ts(when), ""))
                prev = to
            evaluated_at = (at.get("accepted") and evaluated) or (at.get("declined") and evaluated) or None
            if "evaluating" in at:
                done = evaluated_at is not None
                r = ts(ev_start + 0.1 * DAY) if done or rng.random() < 0.5 else NULL
                m = ts(ev_start + 0.2 * DAY) if done else NULL
                eligibility = (
                    ("not_eligible" if stage == "declined" and decline == "not_eligible" else "eligible")
                    if done
                    else "pending"
                )
                evaluations.append(
                    (
                        k,
                        liaison if r != NULL else NULL,
                        r,
                        liaison if done else NULL,
                        m,
                        liaison if done else NULL,
                        m,
                        liaison if done else NULL,
                        m,
                        "",
                        eligibility,
                        liaison if done else NULL,
                        ts(evaluated_at),
                    )
                )
                for f_index, form in enumerate(world.consent_form_ids[:2]):
                    signed = at.get("accepted")
                    consents.append(
                        (
                            k,
                            CONSENT_FORMS[f_index],
                            form,
                            "1.0",
                            True,
                            liaison,
                            ts(ev_start),
                            signed is not None,
                            "patient" if signed else "",
                            "signed" if signed else "pending",
                            ts(signed),
                        )
                    )
            # Communications between referral and discharge (or now).
            last_comm = None
            end = min(at.get("discharged", now), now)
            for _ in range(rng.randint(0, 4)):
                when = received + rng.random() * max(60.0, end - received)
                when = min(when, now - 30)
                comms.append(
                    (
                        k,
                        ts(when),
                        rng.choice(COMM_CHANNELS),
                        rng.choice(COMM_PARTIES),
                        rng.choice(COMM_SUMMARIES),
                        liaison,
                    )
                )
                if last_comm is None or when > last_comm:
                    last_comm = when
            expected = NULL
            if "accepted" in at and "admitted" not in at:
                expected = time.strftime("%Y-%m-%d", time.gmtime(admitted))
            yield (
                k,
                patient,
                rng.choice(PROGRAMS),
                liaison,
                team,
                phys,
                inst,
                other,
                ts(received),
                "urgent" if rng.random() < 0.15 else "standard",
                rng.choice(REASONS),
                expected,
                stage,
                ts(changed),
                decline,
                ts(at.get("evaluating")),
                ts(evaluated_at),
                ts(at.get("accepted")),
                ts(at.get("admitted")),
                ts(at.get("discharged")),
                rng.choice(DISPOSITIONS) if "discharged" in at else "",
                ts(last_comm),
                len(events),
                liaison,
                ts(received),
                ts(changed),
            )

    def flush_children():
        for table, rows, key in (
            (t_tr, transitions, "transitions"),
            (t_ev, evaluations, "evaluations"),
            (t_con, consents, "consents"),
            (t_comm, comms, "communications"),
        ):
            if rows:
                counts[key] += copier.put(table, rows)
                rows.clear()

    done = 0
    for chunk in chunked(cases()):
        done += copier.put(t_case, chunk)
        flush_children()
        log(f"cases: {done:,}/{n_case:,}")
    flush_children()
    world.n_cases = n_case
    world.cases_by_team = by_team
    log(f"case stages: {dict(sorted(stages_seen.items()))}")
    log(", ".join(f"{k}: {v:,}" for k, v in counts.items()))


def load_follow_ups(world: World, scale: float, copier, log: Progress) -> int:
    from bench.bulk import NULL, Table, chunked, ts
    from outreach.models import FollowUp

    rng = Random(44)
    now = world.now
    n_fu = scaled(1_000_000, scale, 100)
    n_due = scaled(100_000, scale, 10)
    t = Table(
        FollowUp,
        [
            "id",
            "owner_id",
            "team_id",
            "title",
            "notes",
            "due_at",
            "status",
            "completed_at",
            "completed_by_id",
            "physician_id",
            "interaction_id",
            "inquiry_id",
            "case_id",
            "created_by_id",
            "created_at",
            "reminded_at",
            "escalated_at",
        ],
    )
    field_users = [u for pair in zip(world.msl_ids, world.nurse_ids, strict=False) for u in pair]
    field_users += world.msl_ids[len(world.nurse_ids) :] + world.nurse_ids[len(world.msl_ids) :]
    nurses = set(world.nurse_ids)

    def follow_ups():
        for j in range(1, n_fu + 1):
            owner = field_users[(j - 1) % len(field_users)]
            team = world.user_team[owner]
            phys = inter = inq = case = NULL
            r = rng.random()
            if owner in nurses:
                team_cases = world.cases_by_team.get(team)
                if r < 0.6 and team_cases:
                    case = rng.choice(team_cases)
            elif r < 0.4:
                phys = rng.randrange(world.n_physicians) + 1
            elif r < 0.6:
                inter = rng.randrange(world.n_interactions) + 1
            elif r < 0.7:
                inq = rng.randrange(world.n_inquiries) + 1
            reminded = escalated = completed = completed_by = None
            if j <= n_due:  # due and never reminded: the dispatch benchmark's work
                status, due = "open", now - rng.uniform(60, 30 * DAY)
            else:
                r = rng.random()
                if r < 0.70:
                    status, due = "done", now - rng.random() * DECADE
                    completed, completed_by = due + rng.uniform(-2, 2) * DAY, owner
                    completed = min(completed, now - 60)
                elif r < 0.73:
                    status, due = "cancelled", now - rng.random() * DECADE
                elif r < 0.87:
                    status, due = "open", now + rng.uniform(60, 60 * DAY)
                else:
                    status, due = "open", now - rng.uniform(60, 90 * DAY)
                    reminded = due + 60
                    if due < now - 3 * DAY:
                        escalated = due + 3 * DAY
            created = due - rng.uniform(1, 30) * DAY
            yield (
                j,
                owner,
                team,
                rng.choice(FOLLOW_UP_TITLES),
                "",
                ts(due),
                status,
                ts(completed),
                completed_by,
                phys,
                inter,
                inq,
                case,
                owner,
                ts(min(created, now - 120)),
                ts(reminded),
                ts(escalated),
            )

    done = 0
    for chunk in chunked(follow_ups()):
        done += copier.put(t, chunk)
        if done % 200_000 == 0 or done == n_fu:
            log(f"follow-ups: {done:,}/{n_fu:,}")
    log(f"follow-ups due and never reminded: {n_due:,}")
    return n_due


def load_documents(log: Progress, count: int = 20) -> int:
    """`count` documents on one case of the demo nurse (not the case page's own case): rows and
    small files through the documents service, as an upload stores them (random keys, digests,
    thumbnails), for the case_documents page."""
    import shutil

    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from bench.measure import nurse_case
    from documents import services
    from documents.choices import DocumentKind
    from patients.models import Case

    # The previous load's files went with its database.
    for folder in ("documents", "thumbnails"):
        shutil.rmtree(Path(settings.MEDIA_ROOT) / folder, ignore_errors=True)
    nurse = User.objects.get(username="nurse")
    case_id = nurse_case(nurse, exclude=nurse_case(nurse)) or nurse_case(nurse)
    if case_id is None:
        log("documents: the nurse has no case; none filed")
        return 0
    case = Case.objects.select_related("patient").get(pk=case_id)
    pdf, png = _document_files()
    kinds = [DocumentKind.MEDICAL_RECORD, DocumentKind.INSURANCE_CARD, DocumentKind.REFERRAL_PACKET]
    for i in range(count):
        content, name = (png, f"scan {i + 1}.png") if i % 2 else (pdf, f"record {i + 1}.pdf")
        upload = SimpleUploadedFile(name, content)
        services.upload_documents(by=nurse, uploads=[upload], kind=kinds[i % len(kinds)], case=case)
    log(f"documents: {count} on case {case_id}")
    return count


def load_trials(world: World, scale: float, log: Progress) -> int:
    """Trials and their sites (investigators among the physicians), each protocol's criteria and
    IRB approval, and participations of the clinical teams' cases at the open sites, every status
    among them, with their first step: for the site pages' counts, the participation page and the
    overview's trial widgets. bulk_create through the ORM (thousands of rows, not millions)."""
    import datetime as dt

    from django.utils import timezone

    from patients.models import Case, ConsentForm
    from physicians.models import ClinicalTrial, IrbApproval, Physician, TrialCriterion, TrialSite
    from research.models import Participation, ParticipationTransition

    rng = Random(47)
    now = timezone.now()
    n_trials = scaled(40, scale, 4)
    per_trial = 10
    trials = ClinicalTrial.objects.bulk_create(
        [
            ClinicalTrial(
                protocol_number=f"BX-{i:04d}",
                nct_number=f"NCT{9_000_000 + i:08d}",
                title=f"A randomised trial of treatment {i}",
                phase=str(1 + i % 4),
                status="recruiting" if i % 5 else "completed",
                product_id=world.product_ids[i % len(world.product_ids)],
                sponsor_type="investigator" if i % 7 == 0 else "company",
            )
            for i in range(1, n_trials + 1)
        ]
    )
    pis = list(Physician.objects.order_by("id").values_list("id", "institution_id")[: n_trials * per_trial])
    statuses = [
        "identified",
        "selected",
        "activated",
        "enrolling",
        "enrolling",
        "enrolling",
        "activated",
        "closed",
        "enrolling",
        "selected",
    ]
    sites = TrialSite.objects.bulk_create(
        [
            TrialSite(
                trial=trial,
                institution_id=pis[(t * per_trial + k) % len(pis)][1] or 1,
                principal_investigator_id=pis[(t * per_trial + k) % len(pis)][0],
                status=statuses[k],
                enrolment_target=rng.choice([10, 20, 40]),
            )
            for t, trial in enumerate(trials)
            for k in range(per_trial)
        ],
        ignore_conflicts=True,  # two sites of a trial at one institution: one is enough
    )
    sites = list(
        TrialSite.objects.filter(trial__in=trials, status__in=["activated", "enrolling"]).select_related("trial")
    )
    TrialCriterion.objects.bulk_create(
        [
            TrialCriterion(trial=trial, kind=kind, position=position, text=f"{kind.title()} criterion {position}")
            for trial in trials
            for kind, n in (("inclusion", 4), ("exclusion", 3))
            for position in range(1, n + 1)
        ]
    )
    manager_id = world.team_manager[world.cl_team_ids[0]]
    IrbApproval.objects.bulk_create(
        [
            IrbApproval(
                trial=t, version="1.0", approved_on=(now - dt.timedelta(days=700)).date(), recorded_by_id=manager_id
            )
            for t in trials
        ]
    )
    ConsentForm.objects.bulk_create(
        [
            ConsentForm(
                name=f"Research consent · {t.protocol_number}", kind="research", trial=t, required_for_admission=False
            )
            for t in trials
        ]
    )
    # The demo nurse's own cases first (the participation page), then every team's.
    cases = list(
        Case.objects.filter(assigned_liaison__username="nurse")
        .order_by("id")
        .values_list("id", "assigned_liaison_id")[:50]
    )
    n_part = scaled(20_000, scale, 40)
    step = max(1, world.n_cases // n_part)
    cases += list(
        Case.objects.filter(id__in=range(1, world.n_cases + 1, step)).values_list("id", "assigned_liaison_id")
    )
    paths = [
        "screening",
        "eligible",
        "screen_failure",
        "consented",
        "enrolled",
        "enrolled",
        "completed",
        "withdrawn",
        "screen_failure",
        "enrolled",
    ]
    reasons = ["inclusion_not_met", "exclusion_met", "declined", "lost_to_follow_up", "other"]
    rows, seen = [], set()
    for i, (case_id, liaison_id) in enumerate(cases):
        site = sites[i % len(sites)]
        if (case_id, site.trial_id) in seen or liaison_id is None:
            continue
        seen.add((case_id, site.trial_id))
        status = paths[i % len(paths)]
        started = now - dt.timedelta(days=rng.randint(1, 3 * 365), hours=rng.randint(0, 23))
        concluded = started + dt.timedelta(days=rng.randint(1, 20)) if status != "screening" else None
        enrolled = status in ("enrolled", "completed", "withdrawn")
        rows.append(
            Participation(
                case_id=case_id,
                site=site,
                trial_id=site.trial_id,
                status=status,
                status_changed_at=concluded or started,
                screened_by_id=liaison_id,
                screened_at=started,
                concluded_by_id=liaison_id if concluded else None,
                concluded_at=concluded,
                failure_reason=reasons[i % len(reasons)] if status == "screen_failure" else "",
                failure_note="Other reason." if status == "screen_failure" and i % len(reasons) == 4 else "",
                consented_at=concluded + dt.timedelta(days=3)
                if concluded and status not in ("eligible", "screen_failure")
                else None,
                participant_id=f"{site.trial.protocol_number}-{i:06d}" if enrolled else "",
                enrolled_on=(concluded + dt.timedelta(days=7)).date() if enrolled else None,
                ended_at=concluded + dt.timedelta(days=200) if status in ("completed", "withdrawn") else None,
                withdrawal_reason="Moved away." if status == "withdrawn" else "",
            )
        )
    made = Participation.objects.bulk_create(rows, batch_size=2000)
    ParticipationTransition.objects.bulk_create(
        [
            ParticipationTransition(
                participation=p, from_status="", to_status="screening", by_id=p.screened_by_id, at=p.screened_at
            )
            for p in made
        ],
        batch_size=2000,
    )
    log(f"trials: {len(trials)} trials, {len(sites)} open sites, {len(made):,} participations")
    return len(made)


def _document_files() -> tuple[bytes, bytes]:
    """A one-page PDF (pypdf) and a small PNG (Pillow)."""
    import io

    from PIL import Image
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    pdf = io.BytesIO()
    writer.write(pdf)
    png = io.BytesIO()
    Image.new("RGB", (600, 400), (230, 230, 240)).save(png, "PNG")
    return pdf.getvalue(), png.getvalue()


# --- orchestration -----------------------------------------------------------------------------

BIG_MODELS = (
    "physicians.Institution",
    "physicians.Physician",
    "physicians.Interaction",
    "physicians.Insight",
    "physicians.MedicalInquiry",
    "patients.Patient",
    "patients.Case",
    "patients.CaseTransition",
    "patients.Evaluation",
    "patients.Consent",
    "patients.Communication",
    "outreach.FollowUp",
)


def _big_tables() -> list[str]:
    from django.apps import apps

    from physicians.models import Interaction

    tables = [apps.get_model(label)._meta.db_table for label in BIG_MODELS]
    return [*tables, Interaction.products.through._meta.db_table]


def drop_secondary_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop indexes that back no constraint (rebuilt after the load: much faster than row by row)."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [tables],
    )
    rows = cursor.fetchall()
    for name, _ in rows:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in rows]


def reset_sequences(cursor, tables: list[str]) -> None:
    for table in tables:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (seq,) = cursor.fetchone()
        if seq:
            cursor.execute(f'SELECT setval(%s, COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)', [seq])


def load(*, scale: float, url: str | None = None, log: Progress | None = None) -> dict:
    """Drop, create, migrate and fill the bench database; returns a summary."""
    log = log or Progress()
    url = url or env.db_url()
    recreate_database(url)
    env.configure(url)
    from django.core.management import call_command
    from django.db import connection

    from bench.bulk import Copier

    log(f"database {env.db_name(url)} created; migrating")
    call_command("migrate", verbosity=0, interactive=False)
    log("migrated")
    world = World(now=time.time())
    load_people(world, scale, log)
    load_reference(world, log)
    from outreach.rules import ensure_rule_rows

    ensure_rule_rows()  # the service-level rules' settings rows, as the first rules run creates them

    tables = _big_tables()
    with connection.cursor() as cur:
        index_defs = drop_secondary_indexes(cur, tables)
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur:
        # Generated rows are consistent by construction: skip per-row FK triggers and fsyncs.
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET synchronous_commit = off")
    copier = Copier(raw)
    try:
        load_medical_affairs(world, scale, copier, log)
        load_patients(world, scale, copier, log)
        n_due = load_follow_ups(world, scale, copier, log)
    finally:
        copier.finish()
    with raw.cursor() as cur:
        cur.execute("SET session_replication_role = DEFAULT")
    log(f"rows copied; rebuilding {len(index_defs)} indexes")
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        for definition in index_defs:
            cur.execute(definition)
        reset_sequences(cur, tables)
    n_documents = load_documents(log)
    n_participations = load_trials(world, scale, log)
    from physicians.services import rebuild_last_contacts

    log(f"indexes rebuilt; {rebuild_last_contacts():,} team last contacts; VACUUM ANALYZE")
    with connection.cursor() as cur:
        # As autovacuum would leave a live database: statistics, and the visibility map that
        # index-only scans need (COPY leaves every page "not all-visible").
        cur.execute("VACUUM (ANALYZE)")
    seconds = time.monotonic() - log.started
    log(f"loaded scale {scale} in {seconds:.1f}s")
    return {
        "scale": scale,
        "seconds": round(seconds, 1),
        "physicians": world.n_physicians,
        "interactions": world.n_interactions,
        "cases": world.n_cases,
        "follow_ups_due": n_due,
        "documents": n_documents,
        "participations": n_participations,
        "now": world.now,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every volume (default 1.0)")
    parser.add_argument("--db-url", default=None, help=f"bench database (default {env.DEFAULT_DB_URL})")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    load(scale=args.scale, url=args.db_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
