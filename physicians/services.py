"""State changes of the medical-affairs side. Views and tasks call these; the rules live here.

Every function takes keyword-only arguments, runs in a transaction, validates with
`full_clean()` and raises `ValidationError` with a message a user can act on.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from outreach.services import create_follow_up, notify

from . import conf
from .choices import CHANNEL_CONSENT, ConsentStatus, InquiryStatus, InsightStatus, SiteStatus
from .models import (
    ContactConsent,
    Insight,
    Interaction,
    MedicalInquiry,
    Physician,
    PhysicianTeamContact,
    TrainingAttendee,
    TrainingSession,
    TrialSite,
)

logger = logging.getLogger(__name__)


def _require_msl(user) -> None:
    if not user.is_msl:
        raise ValidationError("Only a Medical Science Liaison can record this.")
    if not user.team_id:
        raise ValidationError("You are not on a team yet: ask an administrator to add you to one.")


def withdrawn_consent_message(physician: Physician, channel: str) -> str | None:
    """Why `channel` may not be used for `physician`, or None when it may."""
    consent_channel = CHANNEL_CONSENT.get(channel)
    if consent_channel is None:
        return None
    consent = ContactConsent.objects.filter(physician=physician, channel=consent_channel).first()
    if consent is not None and consent.status == ConsentStatus.WITHDRAWN:
        return (
            f"{physician} withdrew consent to be contacted {consent.get_channel_display().lower()} "
            f"on {consent.recorded_on:%Y-%m-%d}: this interaction cannot be logged on that channel."
        )
    return None


def _touch_last_interaction(physician_id: int, team_id: int, occurred_at: dt.datetime) -> None:
    """A new visit: the physician's last contact, for every team and for the visit's team."""
    # Compare-and-set: keeps the maximum even when two visits are logged at once.
    Physician.objects.filter(pk=physician_id).filter(
        Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=occurred_at)
    ).update(last_interaction_at=occurred_at)
    contact, created = PhysicianTeamContact.objects.get_or_create(
        physician_id=physician_id, team_id=team_id, defaults={"last_interaction_at": occurred_at}
    )
    if not created:
        PhysicianTeamContact.objects.filter(pk=contact.pk, last_interaction_at__lt=occurred_at).update(
            last_interaction_at=occurred_at
        )


def refresh_last_contacts(pairs: Iterable[tuple[int, int]]) -> None:
    """Recompute the last contacts of these (physician id, team id) pairs from their interactions:
    after a visit was edited, moved or deleted (the latest one may no longer be the latest)."""
    pairs = set(pairs)
    for physician_id in {physician for physician, _ in pairs}:
        latest = Interaction.objects.filter(physician_id=physician_id).order_by("-occurred_at").values("occurred_at")
        Physician.objects.filter(pk=physician_id).update(last_interaction_at=Subquery(latest[:1]))
    for physician_id, team_id in pairs:
        latest_at = Interaction.objects.filter(physician_id=physician_id, team_id=team_id).aggregate(
            at=Max("occurred_at")
        )["at"]
        if latest_at is None:
            PhysicianTeamContact.objects.filter(physician_id=physician_id, team_id=team_id).delete()
        else:
            PhysicianTeamContact.objects.update_or_create(
                physician_id=physician_id, team_id=team_id, defaults={"last_interaction_at": latest_at}
            )


@transaction.atomic
def rebuild_last_contacts() -> int:
    """Every team's last contact with every physician, from the interactions (bulk-loaded data:
    the demo seeder and the benchmark loader). Returns how many (physician, team) rows there are."""
    PhysicianTeamContact.objects.all().delete()
    latest = (
        Interaction.objects.order_by()
        .values_list("physician_id", "team_id")
        .annotate(at=Max("occurred_at"))
        .iterator(chunk_size=5000)
    )
    total = 0
    while chunk := list(itertools.islice(latest, 5000)):
        PhysicianTeamContact.objects.bulk_create(
            PhysicianTeamContact(physician_id=physician, team_id=team, last_interaction_at=at)
            for physician, team, at in chunk
        )
        total += len(chunk)
    return total


@transaction.atomic
def set_consent(
    *, physician: Physician, channel: str, status: str, recorded_on: dt.date | None = None
) -> ContactConsent:
    recorded_on = recorded_on or timezone.localdate()
    ContactConsent(physician=physician, channel=channel, status=status, recorded_on=recorded_on).full_clean(
        validate_unique=False, validate_constraints=False
    )
    # A channel's first consent is created with what was recorded, so its audit history starts
    # there (not with the default "granted" and then a change).
    consent, created = ContactConsent.objects.select_for_update().get_or_create(
        physician=physician, channel=channel, defaults={"status": status, "recorded_on": recorded_on}
    )
    if not created:
        consent.status, consent.recorded_on = status, recorded_on
        consent.save()
    return consent


def _build_insight(*, physician, captured_by, data: dict[str, Any], interaction=None, captured_at=None) -> Insight:
    insight = Insight(
        interaction=interaction,
        physician=physician,
        product=data.get("product"),
        theme=data.get("theme") or "",
        sentiment=data.get("sentiment") or Insight._meta.get_field("sentiment").default,
        text=(data.get("text") or "").strip(),
        captured_by=captured_by,
        team_id=captured_by.team_id,
        captured_at=captured_at or timezone.now(),
        status=InsightStatus.NEW,
    )
    insight.full_clean()
    return insight


@transaction.atomic
def log_interaction(
    *,
    physician: Physician,
    msl,
    channel: str,
    occurred_at: dt.datetime | None = None,
    duration_minutes: int = 30,
    products: Iterable = (),
    topics: str = "",
    summary: str = "",
    unsolicited_request: bool = False,
    off_label_discussed: bool = False,
    trial_site: TrialSite | None = None,
    insights: Sequence[dict[str, Any]] = (),
    follow_up_days: int | None = None,
    follow_up_title: str = "",
) -> Interaction:
    """Record a visit or call, the insights heard during it and an optional follow-up, all or nothing."""
    _require_msl(msl)
    message = withdrawn_consent_message(physician, channel)
    if message:
        raise ValidationError({"channel": message})
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": "An interaction is logged after it happened: the date is in the future."})
    interaction = Interaction(
        physician=physician,
        msl=msl,
        team_id=msl.team_id,
        occurred_at=occurred_at,
        channel=channel,
        duration_minutes=duration_minutes,
        topics=topics,
        summary=summary,
        unsolicited_request=unsolicited_request,
        off_label_discussed=off_label_discussed,
        trial_site=trial_site,
    )
    interaction.full_clean()
    interaction.save()
    products = list(products)
    if products:
        interaction.products.set(products)
    for data in insights:
        _build_insight(
            physician=physician, captured_by=msl, data=data, interaction=interaction, captured_at=occurred_at
        ).save()
    _touch_last_interaction(physician.pk, interaction.team_id, occurred_at)
    if follow_up_days is not None:
        if follow_up_days < 0:
            raise ValidationError({"follow_up_days": "A follow-up is due today or later."})
        create_follow_up(
            owner=msl,
            title=follow_up_title or f"Follow up with {physician}",
            due_at=timezone.now() + dt.timedelta(days=follow_up_days),
            interaction=interaction,
            created_by=msl,
        )
    return interaction


@transaction.atomic
def update_interaction(*, interaction: Interaction, by, products: Iterable | None = None, **fields: Any) -> Interaction:
    """Edit a logged interaction (its author only); consent and last contact are re-checked."""
    if interaction.msl_id != by.pk:
        raise ValidationError("Only the MSL who logged this interaction may edit it.")
    before = (interaction.physician_id, interaction.team_id)
    for name, value in fields.items():
        setattr(interaction, name, value)
    if "channel" in fields:
        message = withdrawn_consent_message(interaction.physician, interaction.channel)
        if message:
            raise ValidationError({"channel": message})
    interaction.full_clean()
    interaction.save()
    if products is not None:
        interaction.products.set(list(products))
    refresh_last_contacts([before, (interaction.physician_id, interaction.team_id)])
    return interaction


@transaction.atomic
def delete_interaction(*, interaction: Interaction, by) -> None:
    """Delete a logged interaction (its author, or an administrator); the last contacts follow."""
    if interaction.msl_id != by.pk and not by.is_admin_role:
        raise ValidationError("Only the MSL who logged this interaction (or an administrator) may delete it.")
    pair = (interaction.physician_id, interaction.team_id)
    interaction.delete()
    refresh_last_contacts([pair])


@transaction.atomic
def capture_insight(
    *,
    physician: Physician,
    captured_by,
    theme: str,
    text: str,
    product=None,
    sentiment: str = "",
    interaction: Interaction | None = None,
) -> Insight:
    _require_msl(captured_by)
    if interaction is not None and interaction.physician_id != physician.pk:
        raise ValidationError("The interaction is with another physician.")
    insight = _build_insight(
        physician=physician,
        captured_by=captured_by,
        interaction=interaction,
        data={"theme": theme, "text": text, "product": product, "sentiment": sentiment},
    )
    insight.save()
    return insight


@transaction.atomic
def update_insight(*, insight: Insight, by, **fields: Any) -> Insight:
    if insight.captured_by_id != by.pk:
        raise ValidationError("Only the MSL who captured this insight may edit it.")
    if insight.status != InsightStatus.NEW:
        raise ValidationError("An insight under review can no longer be edited; add to the review note instead.")
    for name, value in fields.items():
        setattr(insight, name, value)
    insight.full_clean()
    insight.save()
    return insight


INSIGHT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    InsightStatus.NEW: (InsightStatus.UNDER_REVIEW,),
    InsightStatus.UNDER_REVIEW: (InsightStatus.ACTIONED, InsightStatus.CLOSED),
    InsightStatus.ACTIONED: (InsightStatus.CLOSED,),
    InsightStatus.CLOSED: (),
}


def can_review(user, insight: Insight) -> bool:
    return (user.is_manager or user.is_admin_role) and user.sees_team(insight.team_id)


@transaction.atomic
def transition_insight(*, insight: Insight, to: str, reviewer, note: str = "") -> Insight:
    """Move an insight along new → under review → actioned → closed; tells the capturing MSL."""
    insight = Insight.objects.select_for_update().select_related("physician").get(pk=insight.pk)
    if not can_review(reviewer, insight):
        raise ValidationError("Only a manager of the insight's team may review it.")
    if to not in INSIGHT_TRANSITIONS.get(insight.status, ()):
        raise ValidationError(
            f"An insight that is {insight.get_status_display().lower()} cannot be moved to "
            f"{InsightStatus(to).label.lower() if to in InsightStatus.values else to!r}."
        )
    if to in (InsightStatus.ACTIONED, InsightStatus.CLOSED) and not (note or insight.review_note).strip():
        raise ValidationError({"note": "Write a review note saying what was done (or why not)."})
    now = timezone.now()
    insight.status = to
    insight.reviewer = reviewer
    if note.strip():
        insight.review_note = note.strip()
    insight.status_changed_at = now
    if to == InsightStatus.UNDER_REVIEW:
        insight.review_started_at = now
    elif to == InsightStatus.ACTIONED:
        insight.actioned_at = now
    elif to == InsightStatus.CLOSED:
        insight.closed_at = now
    insight.full_clean()
    insight.save()
    if insight.captured_by_id != reviewer.pk:
        notify(
            user=insight.captured_by,
            title=f"Your insight from {insight.physician} is now {insight.get_status_display().lower()}",
            body=insight.review_note,
            url=reverse("physicians:insight_detail", args=[insight.pk]),
            kind="insight_status",
            # By email too (if the MSL takes it so) for the review's outcome, not for its start.
            email=to in (InsightStatus.ACTIONED, InsightStatus.CLOSED),
        )
    return insight


@transaction.atomic
def record_inquiry(
    *,
    physician: Physician,
    owner,
    question: str,
    priority: str,
    product=None,
    received_at: dt.datetime | None = None,
) -> MedicalInquiry:
    _require_msl(owner)
    received_at = received_at or timezone.now()
    inquiry = MedicalInquiry(
        physician=physician,
        product=product,
        question=question.strip(),
        priority=priority,
        received_at=received_at,
        due_at=received_at + dt.timedelta(days=conf.inquiry_sla_days(priority)),
        owner=owner,
        team_id=owner.team_id,
    )
    inquiry.full_clean()
    inquiry.save()
    return inquiry


@transaction.atomic
def update_inquiry(*, inquiry: MedicalInquiry, by, **fields: Any) -> MedicalInquiry:
    if inquiry.status != InquiryStatus.OPEN:
        raise ValidationError("Only an open inquiry can be edited.")
    # Compared with the stored row, not `inquiry`: the edit page's ModelForm (and the API's) has
    # already set the new values on it while validating.
    stored = MedicalInquiry.objects.filter(pk=inquiry.pk).values("priority", "received_at").first() or {}
    clock_moved = any(name in stored and stored[name] != value for name, value in fields.items())
    for name, value in fields.items():
        setattr(inquiry, name, value)
    # The service level follows the priority and the date received; any other edit keeps the due
    # date it was given, even after the service-level rule has changed since.
    if clock_moved:
        inquiry.due_at = inquiry.received_at + dt.timedelta(days=conf.inquiry_sla_days(inquiry.priority))
    inquiry.full_clean()
    inquiry.save()
    return inquiry


@transaction.atomic
def answer_inquiry(
    *, inquiry: MedicalInquiry, by, answer: str, delivery_method: str, delivered_at: dt.datetime | None = None
) -> MedicalInquiry:
    inquiry = MedicalInquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.status != InquiryStatus.OPEN:
        raise ValidationError(f"This inquiry is already {inquiry.get_status_display().lower()}.")
    if not answer.strip():
        raise ValidationError({"answer": "Write the answer that was given."})
    if not delivery_method:
        raise ValidationError({"delivery_method": "Say how the answer was delivered."})
    now = timezone.now()
    if delivered_at and delivered_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"delivered_at": "The delivery date is in the future."})
    if delivered_at and delivered_at < inquiry.received_at:
        raise ValidationError({"delivered_at": "The answer cannot be delivered before the question was received."})
    inquiry.answer = answer.strip()
    inquiry.delivery_method = delivery_method
    inquiry.answered_at = now
    inquiry.delivered_at = delivered_at or now
    inquiry.status = InquiryStatus.ANSWERED
    inquiry.full_clean()
    inquiry.save()
    return inquiry


@transaction.atomic
def close_inquiry(*, inquiry: MedicalInquiry, by) -> MedicalInquiry:
    inquiry = MedicalInquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.status != InquiryStatus.ANSWERED:
        raise ValidationError("Only an answered inquiry can be closed: record the answer first.")
    inquiry.status = InquiryStatus.CLOSED
    inquiry.closed_at = timezone.now()
    inquiry.save(update_fields=["status", "closed_at"])
    return inquiry


def inquiry_follow_up(*, inquiry: MedicalInquiry, owner, days: int, title: str = ""):
    if days < 0:
        raise ValidationError({"days": "A follow-up is due today or later."})
    return create_follow_up(
        owner=owner,
        title=title or f"Inquiry from {inquiry.physician}",
        due_at=timezone.now() + dt.timedelta(days=days),
        inquiry=inquiry,
        created_by=owner,
    )


# The columns of a training's attendee table, and the most rows it has (the page's formset's).
ATTENDEE_FIELDS = ("name", "email", "region", "attended", "score_before", "score_after")
ATTENDEES_MAX = 300


def may_record_training(user) -> bool:
    """The trainer records a session, and only an MSL trains the sales team."""
    return user.is_msl


def may_edit_training(user, training: TrainingSession) -> bool:
    """The trainer, or a manager (or administrator) of the session's team."""
    if training.trainer_id == user.pk:
        return True
    return (user.is_manager or user.is_admin_role) and user.sees_team(training.team_id)


def _save_attendees(
    training: TrainingSession, rows: Sequence[Mapping[str, Any]], remove: Iterable[int], existing: list
) -> None:
    """Add the rows without an `id`, change those with one, delete the `remove` ids: all of them
    attendees of `training` (`existing`). Attendees not named stay as they are."""
    by_pk = {attendee.pk: attendee for attendee in existing}
    remove = set(remove)
    strangers = sorted(pk for pk in remove | {row["id"] for row in rows if row.get("id")} if pk not in by_pk)
    if strangers:
        raise ValidationError({"attendees": f"Not attendees of this session: {', '.join(map(str, strangers))}."})
    added = sum(1 for row in rows if not row.get("id"))
    if len(by_pk) - len(remove) + added > ATTENDEES_MAX:
        raise ValidationError({"attendees": f"A session has at most {ATTENDEES_MAX} attendees."})
    new, changed = [], []
    for index, row in enumerate(rows, start=1):
        attendee = by_pk[row["id"]] if row.get("id") else TrainingAttendee(session=training)
        values = {name: row[name] for name in ATTENDEE_FIELDS if name in row}
        if attendee.pk and all(getattr(attendee, name) == value for name, value in values.items()):
            continue  # an unchanged row is not written again
        for name, value in values.items():
            setattr(attendee, name, value)
        try:
            attendee.full_clean(exclude=["session"])
        except ValidationError as exc:
            raise ValidationError({"attendees": [f"Attendee {index}: {m}" for m in exc.messages]}) from exc
        (changed if attendee.pk else new).append(attendee)
    if remove:
        TrainingAttendee.objects.filter(session=training, pk__in=remove).delete()
    for attendee in changed:
        attendee.save()
    TrainingAttendee.objects.bulk_create(new)


@transaction.atomic
def record_training(
    *,
    by,
    title: str,
    held_on: dt.date,
    products: Iterable = (),
    topics: str = "",
    materials_note: str = "",
    attendees: Sequence[Mapping[str, Any]] = (),
) -> TrainingSession:
    """A sales-team training held by `by` (an MSL, its trainer) for their team, with its attendee
    table (rows of ATTENDEE_FIELDS)."""
    if not may_record_training(by):
        raise PermissionDenied("Only an MSL (the trainer) records a training session.")
    if not by.team_id:
        raise ValidationError("You are not on a team yet: ask an administrator to add you to one.")
    training = TrainingSession(
        title=title, held_on=held_on, topics=topics, materials_note=materials_note, trainer=by, team_id=by.team_id
    )
    training.full_clean()
    training.save()
    products = list(products)
    if products:
        training.products.set(products)
    _save_attendees(training, attendees, (), [])
    return training


@transaction.atomic
def update_training(
    *,
    training: TrainingSession,
    by,
    title: str | None = None,
    held_on: dt.date | None = None,
    topics: str | None = None,
    materials_note: str | None = None,
    products: Iterable | None = None,
    attendees: Sequence[Mapping[str, Any]] = (),
    remove_attendees: Iterable[int] = (),
) -> TrainingSession:
    """Edit a session (None: unchanged). Its trainer and team stay: they are whoever recorded it.
    `attendees` adds rows (without `id`) or changes them (with the `id` of one of its attendees);
    `remove_attendees` deletes attendees by id."""
    if not may_edit_training(by, training):
        raise PermissionDenied("Only the trainer or a manager may edit this session.")
    fields = {"title": title, "held_on": held_on, "topics": topics, "materials_note": materials_note}
    for name, value in fields.items():
        if value is not None:
            setattr(training, name, value)
    training.full_clean()
    training.save()
    if products is not None:
        training.products.set(list(products))
    remove_attendees = list(remove_attendees)
    if attendees or remove_attendees:
        existing = list(TrainingAttendee.objects.filter(session=training))
        _save_attendees(training, attendees, remove_attendees, existing)
    return training


SITE_ORDER = [
    SiteStatus.IDENTIFIED,
    SiteStatus.SELECTED,
    SiteStatus.ACTIVATED,
    SiteStatus.ENROLLING,
    SiteStatus.CLOSED,
]


def next_site_status(status: str) -> str | None:
    index = SITE_ORDER.index(SiteStatus(status))
    return SITE_ORDER[index + 1] if index + 1 < len(SITE_ORDER) else None


@transaction.atomic
def advance_site_status(*, site: TrialSite, to: str, by, activated_on: dt.date | None = None) -> TrialSite:
    """identified → selected → activated → enrolling → closed, one step at a time."""
    site = TrialSite.objects.select_for_update().get(pk=site.pk)
    expected = next_site_status(site.status)
    if to != expected:
        label = SiteStatus(to).label.lower() if to in SiteStatus.values else repr(to)
        if expected is None:
            raise ValidationError("This site is closed: its status can no longer change.")
        raise ValidationError(
            f"A site that is {site.get_status_display().lower()} moves to "
            f"{SiteStatus(expected).label.lower()} next, not {label}."
        )
    if to == SiteStatus.ENROLLING and not site.principal_investigator_id:
        raise ValidationError("Name the principal investigator before the site starts enrolling.")
    site.status = to
    site.status_changed_at = timezone.now()
    if to == SiteStatus.ACTIVATED:
        site.activated_on = activated_on or timezone.localdate()
    site.full_clean()
    site.save()
    return site


# --- CSV import -------------------------------------------------------------------------------


def start_import(*, user, filename: str, raw: bytes):
    """Store an uploaded file and validate it (in a worker when it is large). Writes no physician."""
    from . import importer, tasks
    from .models import PhysicianImport

    if not user.sees_medical_affairs:
        raise ValidationError("Only medical affairs staff may import physicians.")
    content = importer.decode(raw)
    rows = importer.count_rows(content, filename)  # raises ImportFileError for an unreadable file
    job = PhysicianImport.objects.create(uploaded_by=user, filename=filename[:200], content=content, total_rows=rows)
    if rows > conf.import_async_threshold():
        transaction.on_commit(lambda: _hand_to_worker(tasks.validate_physician_import, job.pk))
        return job
    return importer.validate_import(job)


BROKER_DOWN = (
    "The background worker could not be reached (its task queue is unavailable), so nothing was "
    "imported. Upload the file again in a few minutes."
)


def _hand_to_worker(task, job_id: int) -> None:
    """Queue a large import for a worker. With the broker (Redis) down, the job is marked failed
    with a clear message instead of the page answering 500 and the job waiting forever."""
    from .models import ImportStatus, PhysicianImport

    try:
        task.delay(job_id)
    except Exception as exc:  # kombu.exceptions.OperationalError and socket errors
        logger.warning("Import %s not queued, the broker is unavailable: %s", job_id, exc)
        PhysicianImport.objects.filter(pk=job_id).update(status=ImportStatus.FAILED, failure=BROKER_DOWN)


def confirm_import(*, job, user):
    """The user confirmed: import the valid rows (in a worker when the file is large)."""
    from . import importer, tasks
    from .models import ImportStatus, PhysicianImport

    with transaction.atomic():
        claimed = PhysicianImport.objects.filter(
            pk=job.pk, uploaded_by=user, status=ImportStatus.VALIDATED, valid_rows__gt=0
        ).update(status=ImportStatus.IMPORTING, processed_rows=0)
    if not claimed:
        job.refresh_from_db()
        if job.status in (ImportStatus.IMPORTING, ImportStatus.DONE):
            raise ValidationError("This file is already being imported.")
        raise ValidationError("This file has no valid rows to import: fix it and upload it again.")
    job.refresh_from_db()
    if job.total_rows > conf.import_async_threshold():
        transaction.on_commit(lambda: _hand_to_worker(tasks.apply_physician_import, job.pk))
        return job
    return importer.apply_import(job)
