"""Demo follow-ups for every demo user (overdue, due now and never reminded, due today, later,
done) and a few outreach events. Runs after physicians and patients (SEED_ORDER) so some
follow-ups can point at their records, found through the app registry, never by import."""

from __future__ import annotations

import random
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import EventKind, FollowUp, FollowUpStatus, OutreachEvent

SEED_ORDER = 99

MSL_TASKS = [
    "Send the phase III efficacy data",
    "Share the renal dosing publication",
    "Book an advisory board slot",
    "Answer the question on drug interactions",
    "Follow up on the investigator-initiated study idea",
]
NURSE_TASKS = [
    "Call the family about the admission date",
    "Confirm insurance authorisation",
    "Check the medication list with the pharmacy",
    "Explain the consent to the representative",
    "Schedule the pre-admission visit",
]
EVENTS_CL = [
    ("Community health fair", EventKind.HEALTH_FAIR, "Riverside Community Center"),
    ("Skilled nursing facility in-service", EventKind.IN_SERVICE, "Maple Grove SNF"),
    ("Cardiology grand rounds", EventKind.GRAND_ROUNDS, "St. Mary's Hospital"),
]
EVENTS_MSL = [
    ("American Heart Congress booth", EventKind.CONGRESS, "Chicago, IL"),
    ("Regional advisory board", EventKind.ADVISORY_BOARD, "Boston, MA"),
]


def seed(*, scale: int, stdout) -> None:
    if OutreachEvent.objects.exists():
        stdout.write("  outreach: demo data already present")
        return
    rng = random.Random(42)
    now = timezone.now()
    User = get_user_model()
    users = list(User.objects.filter(is_active=True).select_related("team").order_by("pk"))
    physicians_by_owner: dict[int, list[int]] = {}
    cases_by_liaison: dict[int, list[int]] = {}
    if apps.is_installed("physicians"):
        Physician = apps.get_model("physicians", "Physician")
        for pk, owner_id in Physician.objects.filter(owner__isnull=False).values_list("pk", "owner_id")[:5000]:
            physicians_by_owner.setdefault(owner_id, []).append(pk)
    if apps.is_installed("patients"):
        Case = apps.get_model("patients", "Case")
        for pk, liaison_id in Case.objects.filter(assigned_liaison__isnull=False).values_list(
            "pk", "assigned_liaison_id"
        )[:5000]:
            cases_by_liaison.setdefault(liaison_id, []).append(pk)

    today_evening = timezone.localtime(now).replace(hour=23, minute=0, second=0, microsecond=0)
    rows: list[FollowUp] = []
    for user in users:
        tasks = NURSE_TASKS if user.is_liaison else MSL_TASKS
        for i in range(scale):
            plan = [
                ("overdue", now - timedelta(days=rng.randint(2, 10), hours=rng.randint(0, 8))),
                ("due_now", now - timedelta(minutes=rng.randint(1, 30))),
                ("today", max(now + timedelta(minutes=30), min(today_evening, now + timedelta(hours=3)))),
                ("week", now + timedelta(days=rng.randint(2, 6))),
                ("later", now + timedelta(days=rng.randint(10, 60))),
                ("done", now - timedelta(days=rng.randint(1, 20))),
            ]
            for kind, due in plan:
                fu = FollowUp(
                    owner_id=user.pk,
                    team_id=user.team_id,
                    title=rng.choice(tasks),
                    due_at=due,
                    created_by_id=user.pk,
                    notes="" if i else "Demo follow-up",
                )
                if user.is_liaison and cases_by_liaison.get(user.pk) and rng.random() < 0.5:
                    case_id = rng.choice(cases_by_liaison[user.pk])
                    fu.case_id = case_id
                    fu.title = f"Case #{case_id}: {fu.title.lower()}"
                elif user.is_msl and physicians_by_owner.get(user.pk) and rng.random() < 0.5:
                    fu.physician_id = rng.choice(physicians_by_owner[user.pk])
                if kind == "overdue":
                    fu.reminded_at = due + timedelta(minutes=1)  # reminded long ago, still open
                elif kind == "done":
                    fu.status = FollowUpStatus.DONE
                    fu.completed_at = due + timedelta(hours=2)
                    fu.completed_by_id = user.pk
                    fu.reminded_at = due
                rows.append(fu)
    FollowUp.objects.bulk_create(rows, batch_size=2000)

    events = []
    organisers = [u for u in users if u.team_id and (u.is_liaison or u.is_msl)]
    for n in range(max(1, scale)):
        for user in organisers:
            catalogue = EVENTS_CL if user.is_liaison else EVENTS_MSL
            title, kind, place = catalogue[(n + user.pk) % len(catalogue)]
            audience = rng.randint(15, 300)
            events.append(
                OutreachEvent(
                    title=title,
                    kind=kind,
                    date=(now - timedelta(days=rng.randint(-30, 90))).date(),
                    place=place,
                    organiser_id=user.pk,
                    team_id=user.team_id,
                    audience_size=audience,
                    contacts_made=rng.randint(0, audience // 3),
                    notes="Demo event",
                )
            )
    created = OutreachEvent.objects.bulk_create(events, batch_size=2000)
    # A few referrals from clinical-liaison events to their own cases.
    through = OutreachEvent.referrals.through
    links = []
    for event in created:
        if event.pk and cases_by_liaison.get(event.organiser_id) and rng.random() < 0.5:
            for case_id in rng.sample(
                cases_by_liaison[event.organiser_id], k=min(2, len(cases_by_liaison[event.organiser_id]))
            ):
                links.append(through(outreachevent_id=event.pk, case_id=case_id))
    through.objects.bulk_create(links, ignore_conflicts=True)
    stdout.write(f"  outreach: {len(rows)} follow-ups, {len(events)} events, {len(links)} referral links")
