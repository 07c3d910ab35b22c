"""Notifications reach the person by email as well as in the app, per kind as they choose (issue 15).

Insight review outcomes (to the insight's author), case and follow-up reassignments (to the new
owner), reminders and escalations: each is an in-app notification and, unless the user chose
"In-app only" for that kind at /accounts/notifications/, an email queued in the EmailOutbox in
the same transaction. The default is "Email too".
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import NotificationPreferences
from outreach import services as outreach_services
from outreach.models import EmailOutbox, Notification
from patients import services as patient_services
from physicians import services as physician_services
from physicians.choices import InsightStatus
from tests.factories import CaseFactory, FollowUpFactory, PatientFactory
from tests.physicians.factories import InsightFactory

pytestmark = pytest.mark.django_db

SITE = "https://crm.example.org"
URL = reverse("notification_settings")
BASE = 5  # session, user (+team), savepoint, session update, release savepoint


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


def in_app_only(user, *kinds):
    account_services.set_notification_preferences(user=user, choices=dict.fromkeys(kinds, False))


def sent_to(user) -> list:
    """The emails the outbox sent to `user` (flushing it as the beat's tasks do)."""
    outreach_services.flush_outbox()
    return [m for m in mail.outbox if m.to == [user.email]]


# --- each kind reaches the person by email too, by default --------------------------------------


def test_an_insight_review_outcome_reaches_its_author_by_email_too(msl, manager):
    insight = InsightFactory(captured_by=msl)
    physician_services.transition_insight(insight=insight, to=InsightStatus.UNDER_REVIEW, reviewer=manager)
    assert sent_to(msl) == []  # the review starting is no outcome: in the app only
    physician_services.transition_insight(
        insight=insight, to=InsightStatus.ACTIONED, reviewer=manager, note="Shared with the brand team."
    )
    assert [n.kind for n in Notification.objects.filter(user=msl)] == ["insight_status", "insight_status"]
    (message,) = sent_to(msl)
    assert message.subject == f"Your insight from {insight.physician} is now actioned"
    link = SITE + reverse("physicians:insight_detail", args=[insight.pk])
    assert "Shared with the brand team." in message.body and link in message.body
    assert f'<a href="{link}">' in message.alternatives[0][0]


def test_a_closed_insight_reaches_its_author_by_email_too(msl, manager):
    insight = InsightFactory(captured_by=msl, status=InsightStatus.UNDER_REVIEW)
    physician_services.transition_insight(insight=insight, to=InsightStatus.CLOSED, reviewer=manager, note="Known.")
    (message,) = sent_to(msl)
    assert message.subject.endswith("is now closed") and "Known." in message.body


def test_a_reassigned_case_reaches_the_new_liaison_by_email_without_the_patients_name(nurse, nurse_teammate, manager):
    case = CaseFactory(assigned_liaison=nurse, patient=PatientFactory(first_name="Agatha", last_name="Zimmer"))
    patient_services.assign_case(case=case, liaison=nurse_teammate, by=manager, version=None)
    notice = Notification.objects.get(user=nurse_teammate)
    assert (notice.kind, notice.url) == ("case_assignment", reverse("patients:case_detail", args=[case.pk]))
    (message,) = sent_to(nurse_teammate)
    assert message.subject == f"{manager} assigned you case #{case.pk}"
    assert SITE + reverse("patients:case_detail", args=[case.pk]) in message.body
    everything = message.subject + message.body + message.alternatives[0][0]
    assert "Zimmer" not in everything and "Agatha" not in everything and case.patient.mrn not in everything
    # Assigned to the liaison who already has it: nothing to tell.
    patient_services.assign_case(case=case, liaison=nurse_teammate, by=manager, version=None)
    assert Notification.objects.filter(user=nurse_teammate).count() == 1 and len(sent_to(nurse_teammate)) == 1


def test_a_reassigned_follow_up_reaches_the_new_owner_by_email_linking_it(msl, msl_teammate):
    fu = FollowUpFactory(owner=msl, title="Send the slides")
    outreach_services.reassign_follow_up(follow_up=fu, to=msl_teammate, by=msl)
    notice = Notification.objects.get(user=msl_teammate)
    assert (notice.kind, notice.url) == ("assignment", reverse("outreach:follow_up_detail", args=[fu.pk]))
    (message,) = sent_to(msl_teammate)
    assert message.subject == f"{msl} assigned you: Send the slides"
    assert SITE + reverse("outreach:follow_up_detail", args=[fu.pk]) in message.body


def test_a_reassigned_case_follow_up_email_names_the_case_number_only(nurse, nurse_teammate, manager):
    case = CaseFactory(assigned_liaison=nurse, patient=PatientFactory(last_name="Zimmer"))
    fu = outreach_services.create_follow_up(
        owner=nurse, title="Call Mrs Zimmer's daughter", due_at=timezone.now(), case=case
    )
    outreach_services.reassign_follow_up(follow_up=fu, to=nurse_teammate, by=manager)
    assert "Zimmer" in Notification.objects.get(user=nurse_teammate).title  # in the app she may see it
    (message,) = sent_to(nurse_teammate)
    assert message.subject == f"{manager} assigned you: Case #{case.pk}: follow-up"
    assert "Zimmer" not in message.subject + message.body + message.alternatives[0][0]


def test_the_email_is_written_in_the_same_transaction_as_the_notification(msl, msl_teammate):
    fu = FollowUpFactory(owner=msl)
    with pytest.raises(RuntimeError), transaction.atomic():
        outreach_services.reassign_follow_up(follow_up=fu, to=msl_teammate, by=msl)
        assert EmailOutbox.objects.count() == 1 and Notification.objects.count() == 1
        raise RuntimeError("the rest of the change failed")
    assert EmailOutbox.objects.count() == 0 and Notification.objects.count() == 0


def test_someone_without_an_email_address_is_told_in_the_app_only(msl, msl_teammate):
    msl_teammate.email = ""
    msl_teammate.save()
    outreach_services.reassign_follow_up(follow_up=FollowUpFactory(owner=msl), to=msl_teammate, by=msl)
    assert Notification.objects.filter(user=msl_teammate).count() == 1 and EmailOutbox.objects.count() == 0


# --- "In-app only" keeps each kind out of the mailbox -------------------------------------------


def test_in_app_only_for_insight_outcomes(msl, manager):
    in_app_only(msl, "insight_review")
    insight = InsightFactory(captured_by=msl, status=InsightStatus.UNDER_REVIEW)
    physician_services.transition_insight(insight=insight, to=InsightStatus.ACTIONED, reviewer=manager, note="Done.")
    assert Notification.objects.filter(user=msl, kind="insight_status").count() == 1
    assert EmailOutbox.objects.count() == 0


def test_in_app_only_for_case_and_follow_up_assignments(nurse, nurse_teammate, manager):
    in_app_only(nurse_teammate, "case_assigned", "follow_up_assigned")
    case = CaseFactory(assigned_liaison=nurse)
    patient_services.assign_case(case=case, liaison=nurse_teammate, by=manager, version=None)
    fu = FollowUpFactory(owner=nurse)
    outreach_services.reassign_follow_up(follow_up=fu, to=nurse_teammate, by=manager)
    assert Notification.objects.filter(user=nurse_teammate).count() == 2
    assert EmailOutbox.objects.count() == 0
    # One kind in the app only leaves the others by email.
    account_services.set_notification_preferences(user=nurse_teammate, choices={"follow_up_assigned": True})
    outreach_services.reassign_follow_up(follow_up=FollowUpFactory(owner=nurse), to=nurse_teammate, by=manager)
    assert len(sent_to(nurse_teammate)) == 1


def test_in_app_only_for_reminders_and_escalations(msl, msl_teammate, manager):
    in_app_only(msl, "reminder")
    in_app_only(manager, "escalation")
    overdue = timezone.now() - timezone.timedelta(days=3)
    FollowUpFactory(owner=msl, title="Mine, quietly", due_at=overdue)
    FollowUpFactory(owner=msl_teammate, title="Theirs, by email", due_at=overdue)
    assert outreach_services.dispatch_due_reminders() == 2
    assert outreach_services.escalate_overdue() == 2
    assert Notification.objects.filter(user=msl, kind="reminder").count() == 1
    assert Notification.objects.filter(user=manager, kind="escalation").count() == 2
    assert sent_to(msl) == [] and sent_to(manager) == []
    (message,) = sent_to(msl_teammate)
    assert "Theirs, by email" in message.subject


# --- the settings page ----------------------------------------------------------------------------


def test_the_page_offers_the_kinds_a_role_receives_with_email_too_checked(msl, nurse, manager, client_for):
    expected = {
        msl: {"reminder", "follow_up_assigned", "insight_review"},
        nurse: {"reminder", "follow_up_assigned", "case_assigned"},
        manager: {"reminder", "follow_up_assigned", "escalation"},
    }
    for user, kinds in expected.items():
        response = client_for(user).get(URL)
        assert response.status_code == 200
        assert set(response.context["form"].fields) == kinds
        html = response.content.decode()
        for kind in kinds:
            assert f'name="{kind}" value="True"' in html and f'name="{kind}" value="False"' in html
            checked = html[html.index(f'name="{kind}" value="True"') :].split(">", 1)[0]
            assert "checked" in checked  # the default: email too
        assert "In-app only" in html and "Email too" in html


def test_the_user_menu_links_the_page(msl, client_for):
    html = client_for(msl).get(reverse("outreach:follow_ups")).content.decode()
    assert f'<a class="dropdown-item" href="{URL}">Notification settings</a>' in html


def test_saving_stores_the_choice_per_kind_and_keeps_the_others(msl, client_for):
    client = client_for(msl)
    data = {"reminder": "False", "follow_up_assigned": "True", "insight_review": "False"}
    response = client.post(URL, data)
    assert response.status_code == 302 and response["Location"] == URL
    prefs = NotificationPreferences.objects.get(user=msl)
    assert (prefs.reminder, prefs.follow_up_assigned, prefs.insight_review) == (False, True, False)
    assert prefs.case_assigned and prefs.escalation  # not offered to an MSL: unchanged
    page = client.get(URL).content.decode()
    assert "checked" in page[page.index('name="reminder" value="False"') :].split(">", 1)[0]


@pytest.mark.parametrize(
    "data",
    [
        {"reminder": "maybe", "follow_up_assigned": "True", "insight_review": "True"},
        {"follow_up_assigned": "True", "insight_review": "True"},  # a kind left unanswered
    ],
)
def test_bad_input_is_refused_with_a_field_error_and_writes_nothing(data, msl, client_for):
    in_app_only(msl, "insight_review")
    before = list(NotificationPreferences.objects.values())
    response = client_for(msl).post(URL, data)
    assert response.status_code == 422
    assert response.context["form"].errors["reminder"]
    assert list(NotificationPreferences.objects.values()) == before


def test_nobody_can_change_another_users_settings(msl, msl_teammate, client_for):
    """The page has no user in its URL or form: a forged `user` field changes only one's own."""
    in_app_only(msl_teammate, "reminder")
    response = client_for(msl).post(
        URL, {"user": msl_teammate.pk, "reminder": "True", "follow_up_assigned": "False", "insight_review": "True"}
    )
    assert response.status_code == 302
    theirs = NotificationPreferences.objects.get(user=msl_teammate)
    assert (theirs.reminder, theirs.follow_up_assigned) == (False, True)  # as msl_teammate left them
    assert NotificationPreferences.objects.get(user=msl).follow_up_assigned is False
    assert client_for(None).get(URL).status_code == 302  # and anonymously there is no page at all


@pytest.mark.parametrize("chosen", [False, True])
def test_the_page_query_count(chosen, msl, client_for, django_assert_num_queries):
    if chosen:
        in_app_only(msl, "reminder")
    client = client_for(msl)
    with django_assert_num_queries(BASE + 1):  # BASE; the user's preferences
        response = client.get(URL)
    assert response.status_code == 200
