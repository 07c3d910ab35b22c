"""Demo data for the medical-affairs side: institutions, physicians, products, a year of visits.

Called by `manage.py seed_demo` after the demo users exist. Idempotent (returns when demo products
exist), deterministic (`random.Random(42)`), and bulk-inserted so `--scale N` stays fast:
physicians and interactions are multiplied by N.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.demo_data import PHYSICIAN_GIVEN_NAMES, PHYSICIAN_SURNAMES
from accounts.models import User
from outreach.models import FollowUp

from . import services
from .choices import (
    Channel,
    ConsentChannel,
    ConsentStatus,
    CriterionKind,
    DeliveryMethod,
    InquiryPriority,
    InquiryStatus,
    InsightStatus,
    InstitutionKind,
    KolTier,
    ProductStatus,
    Sentiment,
    SiteStatus,
    SponsorType,
    Theme,
    TrialPhase,
    TrialStatus,
)
from .conf import inquiry_sla_days
from .models import (
    ClinicalTrial,
    ContactConsent,
    Insight,
    Institution,
    Interaction,
    MedicalInquiry,
    Physician,
    Product,
    TherapeuticArea,
    TrainingAttendee,
    TrainingSession,
    TrialCriterion,
    TrialSite,
)
from .npi import make_npi

BATCH = 5000

AREAS = ["Cardiology", "Oncology", "Neurology", "Immunology", "Endocrinology", "Respiratory"]
PRODUCTS = [
    # name, generic, area, status, indications
    ("Cardiolex", "velocardimab", "Cardiology", ProductStatus.MARKETED, "Heart failure with reduced ejection fraction"),
    ("Rhythmara", "dronatilol", "Cardiology", ProductStatus.MARKETED, "Atrial fibrillation rate control"),
    ("Oncovia", "tumirelimab", "Oncology", ProductStatus.MARKETED, "Metastatic non-small-cell lung cancer"),
    ("Lymphatra", "celtuzumab", "Oncology", ProductStatus.INVESTIGATIONAL, "Relapsed diffuse large B-cell lymphoma"),
    ("Neurelia", "migratrexant", "Neurology", ProductStatus.MARKETED, "Prevention of episodic migraine"),
    ("Immunara", "plaquinumab", "Immunology", ProductStatus.MARKETED, "Moderate-to-severe plaque psoriasis"),
    ("Glucenta", "semaglitide", "Endocrinology", ProductStatus.MARKETED, "Type 2 diabetes mellitus"),
    ("Breathix", "tezolukast", "Respiratory", ProductStatus.INVESTIGATIONAL, "Severe eosinophilic asthma"),
]
SPECIALTIES = {
    "Cardiology": ["Cardiology", "Interventional Cardiology", "Electrophysiology"],
    "Oncology": ["Medical Oncology", "Hematology/Oncology", "Radiation Oncology"],
    "Neurology": ["Neurology", "Headache Medicine"],
    "Immunology": ["Dermatology", "Rheumatology", "Allergy & Immunology"],
    "Endocrinology": ["Endocrinology", "Internal Medicine"],
    "Respiratory": ["Pulmonology", "Critical Care Medicine"],
}
CITIES = [
    ("Boston", "MA"),
    ("New York", "NY"),
    ("Philadelphia", "PA"),
    ("Baltimore", "MD"),
    ("Pittsburgh", "PA"),
    ("Cleveland", "OH"),
    ("Chicago", "IL"),
    ("Houston", "TX"),
    ("Nashville", "TN"),
    ("Atlanta", "GA"),
    ("San Francisco", "CA"),
    ("Los Angeles", "CA"),
    ("Seattle", "WA"),
    ("Denver", "CO"),
    ("Phoenix", "AZ"),
    ("Portland", "OR"),
    ("San Diego", "CA"),
    ("Salt Lake City", "UT"),
    ("Minneapolis", "MN"),
    ("Sacramento", "CA"),
]
EAST = {"MA", "NY", "PA", "MD", "OH", "IL", "TX", "TN", "GA"}
TOPICS = [
    "Phase III efficacy data",
    "Real-world evidence update",
    "Dosing in renal impairment",
    "Safety profile and monitoring",
    "Congress highlights",
    "Investigator-initiated study proposal",
    "Patient selection criteria",
    "Guideline update",
    "Access and prior authorisation",
    "Trial enrolment barriers",
]
INSIGHT_TEXT = {
    Theme.EFFICACY: "Sees faster responses than the pivotal trial suggested in elderly patients.",
    Theme.SAFETY: "Worried about injection-site reactions in patients on anticoagulants.",
    Theme.DOSING: "Asks whether the loading dose can be skipped for patients switching therapy.",
    Theme.UNMET_NEED: "No good option for patients who fail two prior lines; would enrol them in a trial.",
    Theme.COMPETITIVE: "Colleagues are moving to the competitor's oral formulation for convenience.",
    Theme.ACCESS: "Prior authorisation takes three weeks at this centre; patients drop out.",
    Theme.TRIAL_DESIGN: "The exclusion of eGFR < 45 rules out a third of the clinic's patients.",
    Theme.OTHER: "Would like patient education material in Spanish.",
}
QUESTIONS = [
    "What is the recommended dose adjustment in moderate hepatic impairment?",
    "Is there data on use during breastfeeding?",
    "Can the product be co-administered with strong CYP3A4 inhibitors?",
    "What is the stability of the reconstituted solution at room temperature?",
    "Are there data in patients over 80 years old?",
    "What was the incidence of grade 3 neutropenia in the pivotal trial?",
]
MSLS = ["msl", "msl_east2", "msl2", "msl_west2"]


# The demo trials' eligibility criteria (inclusion, exclusion), in the protocol's order.
TRIAL_CRITERIA = {
    "LCX-301": {
        CriterionKind.INCLUSION: [
            "Age 18 years or older",
            "Relapsed or refractory diffuse large B-cell lymphoma after at least one line of therapy",
            "ECOG performance status 0 to 2",
        ],
        CriterionKind.EXCLUSION: [
            "Active central nervous system lymphoma",
            "Prior treatment with a CD19-directed therapy",
        ],
    },
    "BRX-IIS-014": {
        CriterionKind.INCLUSION: [
            "Age 18 to 75 years",
            "Severe eosinophilic asthma (blood eosinophils of 300 cells/µL or more)",
            "Two or more exacerbations in the past 12 months",
        ],
        CriterionKind.EXCLUSION: ["Current smoker or 10 pack-years or more", "Pregnant or breastfeeding"],
    },
}


def seed(*, scale: int, stdout) -> None:
    if Product.objects.filter(name=PRODUCTS[0][0]).exists():
        stdout.write("  physicians: demo data already present")
        return
    rng = random.Random(42)
    now = timezone.now()
    users = {u.username: u for u in User.objects.filter(username__in=[*MSLS, "manager"])}
    msls = [users[name] for name in MSLS if name in users]
    manager = users.get("manager")

    areas = {name: TherapeuticArea.objects.get_or_create(name=name)[0] for name in AREAS}
    products = Product.objects.bulk_create(
        [
            Product(name=n, generic_name=g, therapeutic_area=areas[a], status=s, indications=i)
            for n, g, a, s, i in PRODUCTS
        ]
    )

    institutions = []
    for i in range(40):
        city, state = CITIES[i % len(CITIES)]
        if i % 2 == 0:
            name, kind = f"{city} University Medical Center", InstitutionKind.ACADEMIC
            if i >= len(CITIES):
                name = f"{city} Memorial Hospital"
                kind = InstitutionKind.HOSPITAL
        else:
            name, kind = f"{city} Community Clinic", InstitutionKind.COMMUNITY_CLINIC
            if i >= len(CITIES):
                name, kind = f"{city} Specialty Practice", InstitutionKind.PRIVATE_PRACTICE
        institutions.append(Institution(name=name, kind=kind, city=city, state=state))
    Institution.objects.bulk_create(institutions, ignore_conflicts=True)
    institutions = list(Institution.objects.filter(name__in=[i.name for i in institutions]).order_by("id"))
    east_inst = [i for i in institutions if i.state in EAST]
    west_inst = [i for i in institutions if i.state not in EAST]
    msl_by_region = {
        "east": [u for u in msls if u.username in ("msl", "msl_east2")],
        "west": [u for u in msls if u.username in ("msl2", "msl_west2")],
    }

    # --- Physicians ---------------------------------------------------------------------------
    n_physicians = 300 * scale
    physicians = []
    area_links = []
    tiers = [KolTier.TIER_1] * 1 + [KolTier.TIER_2] * 2 + [KolTier.TIER_3] * 3 + [KolTier.UNRANKED] * 2
    for k in range(n_physicians):
        region = "east" if k % 2 == 0 else "west"
        inst = rng.choice(east_inst if region == "east" else west_inst)
        area = AREAS[k % len(AREAS)]
        owners = msl_by_region[region]
        first, last = rng.choice(PHYSICIAN_GIVEN_NAMES), rng.choice(PHYSICIAN_SURNAMES)
        physicians.append(
            Physician(
                first_name=first,
                last_name=last,
                credentials=rng.choice(["MD", "MD", "MD, PhD", "DO"]),
                npi=make_npi(200_000_000 + k),
                specialty=rng.choice(SPECIALTIES[area]),
                institution=inst,
                email=f"{first}.{last}.{k}@example-hospital.test".lower(),
                phone=f"+1 555 {k % 1000:03d} {k % 10000:04d}",
                kol_tier=rng.choice(tiers),
                scientific_interests=f"{area} outcomes research",
                owner=owners[k % len(owners)] if owners and k % 10 else None,
            )
        )
    Physician.objects.bulk_create(physicians, batch_size=BATCH)
    for k, p in enumerate(physicians):
        area_links.append(
            Physician.therapeutic_areas.through(physician_id=p.pk, therapeuticarea_id=areas[AREAS[k % len(AREAS)]].pk)
        )
    Physician.therapeutic_areas.through.objects.bulk_create(area_links, batch_size=BATCH)

    # Consents: most recorded as granted; one in twenty has withdrawn email contact.
    consents = []
    withdrawn_email = set()
    for k, p in enumerate(physicians):
        if k % 3:
            continue
        for channel in ConsentChannel.values:
            status = ConsentStatus.GRANTED
            if channel == ConsentChannel.EMAIL and k % 20 == 0:
                status = ConsentStatus.WITHDRAWN
                withdrawn_email.add(p.pk)
            consents.append(
                ContactConsent(
                    physician=p,
                    channel=channel,
                    status=status,
                    recorded_on=(now - dt.timedelta(days=200 + k % 100)).date(),
                )
            )
    ContactConsent.objects.bulk_create(consents, batch_size=BATCH)

    # --- Interactions and insights: a year of visits per MSL ----------------------------------
    by_owner: dict[int, list[Physician]] = {}
    for p in physicians:
        if p.owner_id:
            by_owner.setdefault(p.owner_id, []).append(p)
    channels = [Channel.IN_PERSON] * 5 + [Channel.VIRTUAL] * 2 + [Channel.PHONE, Channel.EMAIL, Channel.CONGRESS]
    interactions: list[Interaction] = []
    per_msl = 500 * scale
    for msl in msls:
        pool = by_owner.get(msl.pk) or physicians
        for j in range(per_msl):
            p = rng.choice(pool)
            channel = rng.choice(channels)
            if channel == Channel.EMAIL and p.pk in withdrawn_email:
                channel = Channel.IN_PERSON
            unsolicited = rng.random() < 0.1
            occurred = now - dt.timedelta(days=365 * j / per_msl, hours=rng.randint(1, 8), minutes=rng.randint(0, 59))
            interactions.append(
                Interaction(
                    physician=p,
                    msl=msl,
                    team_id=msl.team_id,
                    occurred_at=occurred,
                    channel=channel,
                    duration_minutes=rng.choice([15, 20, 30, 45, 60]),
                    topics=", ".join(rng.sample(TOPICS, 2)),
                    summary=f"Discussed {rng.choice(TOPICS).lower()} with {p.first_name} {p.last_name}.",
                    unsolicited_request=unsolicited,
                    off_label_discussed=unsolicited and rng.random() < 0.5,
                )
            )
    Interaction.objects.bulk_create(interactions, batch_size=BATCH)
    through = Interaction.products.through
    links = []
    for inter in interactions:
        for prod in rng.sample(products, rng.choice([1, 1, 2])):
            links.append(through(interaction_id=inter.pk, product_id=prod.pk))
    through.objects.bulk_create(links, batch_size=BATCH)

    latest = Interaction.objects.filter(physician=OuterRef("pk")).order_by("-occurred_at").values("occurred_at")[:1]
    Physician.objects.filter(pk__in=Subquery(Interaction.objects.values("physician_id"))).update(
        last_interaction_at=Subquery(latest)
    )
    services.rebuild_last_contacts()  # each team's last contact, as the list and profile show it

    insights = []
    statuses = list(InsightStatus.values)
    themes = list(Theme.values)
    for n, inter in enumerate(interactions[:: max(1, 3)]):
        status = statuses[n % len(statuses)] if inter.occurred_at < now - dt.timedelta(days=14) else InsightStatus.NEW
        theme = themes[n % len(themes)]
        at = inter.occurred_at
        ins = Insight(
            interaction=inter,
            physician=inter.physician,
            product=rng.choice(products),
            theme=theme,
            sentiment=rng.choice(Sentiment.values),
            text=INSIGHT_TEXT[theme],
            status=status,
            captured_by=inter.msl,
            team_id=inter.team_id,
            captured_at=at,
        )
        if status != InsightStatus.NEW:
            ins.reviewer = manager
            ins.review_started_at = at + dt.timedelta(days=2)
            ins.status_changed_at = ins.review_started_at
            if status in (InsightStatus.ACTIONED, InsightStatus.CLOSED):
                ins.review_note = "Shared with the clinical development team."
                ins.actioned_at = at + dt.timedelta(days=7) if status == InsightStatus.ACTIONED or n % 2 else None
                ins.status_changed_at = ins.actioned_at or ins.status_changed_at
            if status == InsightStatus.CLOSED:
                ins.closed_at = at + dt.timedelta(days=10)
                ins.status_changed_at = ins.closed_at
        insights.append(ins)
    Insight.objects.bulk_create(insights, batch_size=BATCH)

    # --- Inquiries: open (some overdue), answered, closed ------------------------------------
    inquiries = []
    sla_days = {priority: inquiry_sla_days(priority) for priority in InquiryPriority.values}
    for msl in msls:
        pool = by_owner.get(msl.pk) or physicians
        for j in range(30):
            p = rng.choice(pool)
            priority = InquiryPriority.URGENT if j % 4 == 0 else InquiryPriority.STANDARD
            received = now - dt.timedelta(days=j * 6 + 1, hours=j % 7)
            due = received + dt.timedelta(days=sla_days[priority])
            q = MedicalInquiry(
                physician=p,
                product=rng.choice(products),
                question=QUESTIONS[j % len(QUESTIONS)],
                priority=priority,
                received_at=received,
                due_at=due,
                owner=msl,
                team_id=msl.team_id,
            )
            if j % 3 == 0 or j < 2:
                q.status = InquiryStatus.OPEN  # some of these are past due: overdue
            else:
                q.status = InquiryStatus.ANSWERED if j % 3 == 1 else InquiryStatus.CLOSED
                q.answer = "Sent the standard response letter and the relevant publication."
                q.delivery_method = rng.choice(DeliveryMethod.values)
                q.answered_at = received + dt.timedelta(days=1)
                q.delivered_at = q.answered_at
                if q.status == InquiryStatus.CLOSED:
                    q.closed_at = received + dt.timedelta(days=3)
            inquiries.append(q)
    MedicalInquiry.objects.bulk_create(inquiries, batch_size=BATCH)

    # --- Trainings ---------------------------------------------------------------------------
    sessions, attendees = [], []
    for msl in msls:
        for j in range(6):
            sessions.append(
                TrainingSession(
                    title=f"{products[(j + msl.pk) % len(products)].name}: {rng.choice(TOPICS)}",
                    trainer=msl,
                    team_id=msl.team_id,
                    held_on=(now - dt.timedelta(days=20 + 55 * j)).date(),
                    topics=", ".join(rng.sample(TOPICS, 2)),
                    materials_note="Slide deck v3 and the approved FAQ.",
                )
            )
    TrainingSession.objects.bulk_create(sessions)
    tlinks = []
    for j, s in enumerate(sessions):
        tlinks.append(
            TrainingSession.products.through(trainingsession_id=s.pk, product_id=products[j % len(products)].pk)
        )
        for a in range(rng.randint(5, 12)):
            before = rng.randint(40, 75)
            attended = rng.random() > 0.1
            attendees.append(
                TrainingAttendee(
                    session=s,
                    name=f"{rng.choice(PHYSICIAN_GIVEN_NAMES)} {rng.choice(PHYSICIAN_SURNAMES)}",
                    email=f"rep{j}-{a}@sales.example.test",
                    region=rng.choice(["Northeast", "Southeast", "Midwest", "West", "Southwest"]),
                    attended=attended,
                    score_before=before if attended else None,
                    score_after=min(100, before + rng.randint(5, 25)) if attended else None,
                )
            )
    TrainingSession.products.through.objects.bulk_create(tlinks)
    TrainingAttendee.objects.bulk_create(attendees)

    # --- Trials and sites --------------------------------------------------------------------
    trials = ClinicalTrial.objects.bulk_create(
        [
            ClinicalTrial(
                protocol_number="LCX-301",
                nct_number="NCT05530101",
                title="Lymphatra versus standard of care in relapsed DLBCL (HORIZON)",
                phase=TrialPhase.PHASE_3,
                status=TrialStatus.RECRUITING,
                product=products[3],
                sponsor_type=SponsorType.COMPANY,
                sponsor_name="Liaison Therapeutics",
            ),
            ClinicalTrial(
                protocol_number="BRX-IIS-014",
                nct_number="NCT05640214",
                title="Breathix in severe eosinophilic asthma: a real-world pilot",
                phase=TrialPhase.PHASE_2,
                status=TrialStatus.RECRUITING,
                product=products[7],
                sponsor_type=SponsorType.INVESTIGATOR,
                sponsor_name="Seattle University Medical Center",
            ),
        ]
    )
    TrialCriterion.objects.bulk_create(
        [
            TrialCriterion(trial=trial, kind=kind, position=position, text=text)
            for trial in trials
            for kind, texts in TRIAL_CRITERIA[trial.protocol_number].items()
            for position, text in enumerate(texts, start=1)
        ]
    )
    by_inst: dict[int, Physician] = {}
    for p in physicians:
        by_inst.setdefault(p.institution_id, p)
    site_statuses = list(SiteStatus.values)
    sites = []
    for t_index, trial in enumerate(trials):
        chosen = [i for i in institutions if i.kind == InstitutionKind.ACADEMIC][t_index * 3 : t_index * 3 + 6]
        for s_index, inst in enumerate(chosen):
            status = site_statuses[s_index % len(site_statuses)]
            reached_active = site_statuses.index(status) >= 2
            target = rng.choice([10, 20, 30])
            sites.append(
                TrialSite(
                    trial=trial,
                    institution=inst,
                    principal_investigator=by_inst.get(inst.pk),
                    status=status,
                    enrolment_target=target,
                    activated_on=(now - dt.timedelta(days=90 + 30 * s_index)).date() if reached_active else None,
                    status_changed_at=now - dt.timedelta(days=10 + 15 * s_index),
                )
            )
    TrialSite.objects.bulk_create(sites)

    # --- Follow-ups concerning physicians and inquiries (some due now, never reminded) -------
    follow_ups = []
    open_inquiries = [q for q in inquiries if q.status == InquiryStatus.OPEN]
    for msl in msls:
        pool = by_owner.get(msl.pk) or physicians
        for j in range(6):
            p = pool[j % len(pool)]
            due = now - dt.timedelta(minutes=5 + j) if j < 3 else now + dt.timedelta(days=j * 3)
            follow_ups.append(
                FollowUp(
                    owner=msl,
                    team_id=msl.team_id,
                    title=f"Send the new data to {p}",
                    due_at=due,
                    physician=p,
                    created_by=msl,
                )
            )
        mine = [q for q in open_inquiries if q.owner_id == msl.pk][:3]
        for j, q in enumerate(mine):
            follow_ups.append(
                FollowUp(
                    owner=msl,
                    team_id=msl.team_id,
                    title=f"Chase the answer for {q.physician}",
                    due_at=now - dt.timedelta(minutes=1) if j == 0 else now + dt.timedelta(days=2 + j),
                    inquiry=q,
                    created_by=msl,
                )
            )
    FollowUp.objects.bulk_create(follow_ups)
    _analyze()

    stdout.write(
        f"  physicians: {len(institutions)} institutions, {len(physicians)} physicians, {len(products)} products, "
        f"{len(interactions)} interactions, {len(insights)} insights, {len(inquiries)} inquiries, "
        f"{len(sessions)} trainings, {len(sites)} trial sites, {len(follow_ups)} follow-ups"
    )


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, so the first pages use the indexes."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Physician, Interaction, Insight, MedicalInquiry, ContactConsent, FollowUp):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
