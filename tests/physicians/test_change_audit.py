"""Changes on the MSL side are change-audited by django-auditlog (issue 15): interactions (the
off-label and unsolicited flags included), insights, medical inquiries and contact consent per
channel, each with the acting user. Contact consent keeps its history, shown on the physician's
profile to everyone who may see the physician."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from physicians.choices import Channel, ConsentChannel, ConsentStatus
from physicians.models import ContactConsent, Insight, Interaction, MedicalInquiry
from tests.factories import MedicalInquiryFactory, PhysicianFactory, ProductFactory
from tests.physicians.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def entries_for(obj, action=None):
    qs = LogEntry.objects.get_for_object(obj).order_by("id")
    return qs.filter(action=action) if action is not None else qs


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


# --- interactions ------------------------------------------------------------------------------


def test_logging_an_interaction_is_audited_with_its_flags_and_products(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    product = ProductFactory(name="Cardiolex")
    data = {
        "occurred_at": _local(timezone.now() - dt.timedelta(hours=1)),
        "channel": Channel.IN_PERSON,
        "duration_minutes": 30,
        "products": [product.pk],
        "topics": "Label update",
        "summary": "",
        "unsolicited_request": "on",
        "off_label_discussed": "on",
        "insights-TOTAL_FORMS": "0",
        "insights-INITIAL_FORMS": "0",
        "insights-MIN_NUM_FORMS": "0",
        "insights-MAX_NUM_FORMS": "10",
    }
    response = client_for(msl).post(reverse("physicians:interaction_log", args=[physician.pk]), data)
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    created = entries_for(interaction, LogEntry.Action.CREATE).get()
    assert created.actor == msl
    assert created.changes_dict["off_label_discussed"] == ["None", "True"]
    assert created.changes_dict["unsolicited_request"] == ["None", "True"]
    assert created.additional_data == {"physician_id": physician.pk, "team_id": msl.team_id}
    products = entries_for(interaction, LogEntry.Action.UPDATE).get()
    assert products.actor == msl and products.changes_dict["products"]["objects"] == ["Cardiolex"]


def test_editing_the_off_label_and_unsolicited_flags_is_audited_from_what_to_what(msl, client_for):
    # On a whole minute, as the form sends it back.
    interaction = InteractionFactory(msl=msl, occurred_at=timezone.now().replace(second=0, microsecond=0))
    before = entries_for(interaction).count()
    data = {
        "occurred_at": _local(interaction.occurred_at),
        "channel": Channel.IN_PERSON,
        "duration_minutes": 30,
        "topics": interaction.topics,
        "summary": interaction.summary,
        "unsolicited_request": "on",
        "off_label_discussed": "on",
    }
    response = client_for(msl).post(reverse("physicians:interaction_edit", args=[interaction.pk]), data)
    assert response.status_code == 302
    (update,) = entries_for(interaction)[before:]
    assert update.action == LogEntry.Action.UPDATE and update.actor == msl
    assert update.changes_dict == {
        "unsolicited_request": ["False", "True"],
        "off_label_discussed": ["False", "True"],
    }


def test_a_refused_edit_writes_no_audit_entry(msl, client_for):
    """Off-label without an unsolicited request is refused: nothing is saved, nothing audited."""
    interaction = InteractionFactory(msl=msl)
    before = LogEntry.objects.count()
    data = {
        "occurred_at": _local(interaction.occurred_at),
        "channel": Channel.IN_PERSON,
        "duration_minutes": 30,
        "topics": interaction.topics,
        "off_label_discussed": "on",
    }
    response = client_for(msl).post(reverse("physicians:interaction_edit", args=[interaction.pk]), data)
    assert response.status_code == 422
    assert LogEntry.objects.count() == before
    interaction.refresh_from_db()
    assert interaction.off_label_discussed is False


# --- insights and inquiries --------------------------------------------------------------------


def test_insight_capture_edit_and_review_are_audited_with_who_did_them(msl, manager, client_for):
    physician = PhysicianFactory(owner=msl)
    response = client_for(msl).post(
        reverse("physicians:insight_capture", args=[physician.pk]),
        {"theme": "access", "sentiment": "negative", "text": "PA slow"},
    )
    assert response.status_code == 302
    insight = Insight.objects.get()
    assert entries_for(insight, LogEntry.Action.CREATE).get().actor == msl
    client_for(msl).post(
        reverse("physicians:insight_edit", args=[insight.pk]),
        {"theme": "access", "sentiment": "negative", "text": "Prior authorisation takes weeks"},
    )
    edit = entries_for(insight, LogEntry.Action.UPDATE).get()
    assert edit.actor == msl and edit.changes_dict["text"] == ["PA slow", "Prior authorisation takes weeks"]
    client_for(manager).post(reverse("physicians:insight_transition", args=[insight.pk]), {"to": "under_review"})
    review = entries_for(insight, LogEntry.Action.UPDATE).last()
    assert review.actor == manager and review.changes_dict["status"] == ["new", "under_review"]
    assert review.additional_data["team_id"] == msl.team_id


def test_inquiry_record_and_answer_are_audited(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    client = client_for(msl)
    client.post(
        reverse("physicians:inquiry_create", args=[physician.pk]),
        {"question": "Dose in CKD?", "priority": "urgent", "received_at": _local(timezone.now())},
    )
    inquiry = MedicalInquiry.objects.get()
    assert entries_for(inquiry, LogEntry.Action.CREATE).get().actor == msl
    client.post(
        reverse("physicians:inquiry_answer", args=[inquiry.pk]), {"answer": "Label 8.6", "delivery_method": "email"}
    )
    answer = entries_for(inquiry, LogEntry.Action.UPDATE).get()
    assert answer.actor == msl
    assert answer.changes_dict["status"] == ["open", "answered"]
    assert answer.changes_dict["answer"] == ["", "Label 8.6"]


def test_a_change_outside_a_request_is_audited_without_an_actor(msl):
    inquiry = MedicalInquiryFactory(owner=msl)  # a task, a shell, a data fix
    created = entries_for(inquiry, LogEntry.Action.CREATE).get()
    assert created.actor is None and created.additional_data["team_id"] == msl.team_id


# --- contact consent ---------------------------------------------------------------------------


def _set_consent(client, physician, channel, status, on=None):
    return client.post(
        reverse("physicians:consent", args=[physician.pk]),
        {"channel": channel, "status": status, "recorded_on": (on or timezone.localdate()).isoformat()},
        HTTP_HX_REQUEST="true",
    )


def test_consent_per_channel_keeps_who_changed_which_channel_when_from_what_to_what(msl, msl_teammate, client_for):
    physician = PhysicianFactory(owner=msl)
    last_week = timezone.localdate() - dt.timedelta(days=7)
    assert (
        _set_consent(client_for(msl), physician, ConsentChannel.EMAIL, ConsentStatus.GRANTED, last_week).status_code
        == 200
    )
    response = _set_consent(client_for(msl_teammate), physician, ConsentChannel.EMAIL, ConsentStatus.WITHDRAWN)
    assert response.status_code == 200
    consent = ContactConsent.objects.get(physician=physician, channel=ConsentChannel.EMAIL)
    created, changed = entries_for(consent)
    # A new channel's consent starts with what was recorded (not the default, then a change).
    assert (created.action, created.actor) == (LogEntry.Action.CREATE, msl)
    assert created.changes_dict["status"] == ["None", "granted"]
    assert created.changes_dict["channel"] == ["None", "email"]
    assert (changed.action, changed.actor) == (LogEntry.Action.UPDATE, msl_teammate)
    assert changed.changes_dict == {
        "status": ["granted", "withdrawn"],
        "recorded_on": [str(last_week), str(timezone.localdate())],
    }
    assert changed.additional_data == {"physician_id": physician.pk, "channel": "email"}
    # The refreshed consent section (htmx) shows the history already.
    html = response.content.decode()
    assert "Consent history" in html and "Granted → Withdrawn" in html


def test_a_new_channel_withdrawn_at_once_is_one_entry(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    _set_consent(client_for(msl), physician, ConsentChannel.PHONE, ConsentStatus.WITHDRAWN)
    consent = ContactConsent.objects.get()
    (entry,) = entries_for(consent)
    assert entry.action == LogEntry.Action.CREATE and entry.changes_dict["status"] == ["None", "withdrawn"]


@pytest.mark.parametrize("who", ["msl", "other_msl", "nurse", "manager"])
def test_the_consent_history_is_on_the_profile_for_whoever_may_see_the_physician(who, msl, request, client_for):
    physician = PhysicianFactory(owner=msl)
    client = client_for(msl)
    _set_consent(client, physician, ConsentChannel.EMAIL, ConsentStatus.GRANTED)
    _set_consent(client, physician, ConsentChannel.EMAIL, ConsentStatus.WITHDRAWN)
    _set_consent(client, physician, ConsentChannel.PHONE, ConsentStatus.GRANTED)
    response = client_for(request.getfixturevalue(who)).get(reverse("physicians:detail", args=[physician.pk]))
    assert response.status_code == 200
    history = response.context["consent_history"]
    # Newest first: the phone grant, the e-mail withdrawal, the e-mail grant.
    assert [(h["channel"], h["by"]) for h in history] == [("Phone", msl), ("Email", msl), ("Email", msl)]
    assert ("Status", "Granted", "Withdrawn") in [
        (label.capitalize(), old, new) for label, old, new in history[1]["changes"]
    ]
    html = response.content.decode()
    assert "Consent history" in html and "Status: Granted → Withdrawn" in html and escape(str(msl)) in html
    assert "Status: not recorded → Granted" in html


def test_anonymous_visitors_see_no_profile_and_no_history(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    response = client_for(None).get(reverse("physicians:detail", args=[physician.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_refused_consent_change_writes_nothing(msl, nurse, client_for):
    physician = PhysicianFactory(owner=msl)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    before = LogEntry.objects.count()
    response = _set_consent(client_for(msl), physician, ConsentChannel.EMAIL, ConsentStatus.WITHDRAWN, tomorrow)
    assert response.status_code == 422 and "cannot be in the future" in response.content.decode()
    assert (
        client_for(nurse)
        .post(reverse("physicians:consent", args=[physician.pk]), {"channel": "email", "status": "withdrawn"})
        .status_code
        == 403
    )
    assert not ContactConsent.objects.exists()
    assert LogEntry.objects.count() == before


def test_a_profile_without_consents_reads_no_history(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    response = client_for(msl).get(reverse("physicians:detail", args=[physician.pk]))
    assert response.context["consent_history"] == [] and "Consent history" not in response.content.decode()


@pytest.mark.parametrize("changes", [2, 20])
def test_profile_query_count_with_consent_history(changes, msl, nurse, client_for, django_assert_num_queries):
    physician = PhysicianFactory(owner=msl)
    client = client_for(msl)
    for i in range(changes):  # each one a change: withdrawn, granted, withdrawn, ...
        _set_consent(
            client, physician, ConsentChannel.EMAIL, ConsentStatus.GRANTED if i % 2 else ConsentStatus.WITHDRAWN
        )
    url = reverse("physicians:detail", args=[physician.pk])
    reader = client_for(nurse)
    reader.get(url)
    # session, user; a liaison's profile: physician (no counts), consents, areas, next follow-up;
    # and one query for the history (+actor, content type), whatever its length.
    with django_assert_num_queries(2 + 4 + 1):
        response = reader.get(url)
    assert len(response.context["consent_history"]) == changes


def test_only_the_twenty_newest_changes_are_shown(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    client = client_for(msl)
    for i in range(22):
        _set_consent(
            client, physician, ConsentChannel.EMAIL, ConsentStatus.GRANTED if i % 2 else ConsentStatus.WITHDRAWN
        )
    history = client.get(reverse("physicians:detail", args=[physician.pk])).context["consent_history"]
    assert len(history) == 20
    assert history[0]["changes"][0][1:] == ("Withdrawn", "Granted")  # the 22nd change, newest first
