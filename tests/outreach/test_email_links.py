"""Reminder and escalation emails link to the follow-up itself and to what it is about (issue 15).

Each item of an email links to the follow-up's own page (`/outreach/follow-ups/<id>/`, its
actions in place) and to its case, physician, inquiry or interaction, as absolute URLs on
SITE_URL. A case is linked by its number: the email never names the patient.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from outreach import services
from tests.factories import CaseFactory, FollowUpFactory, MedicalInquiryFactory, PatientFactory, PhysicianFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)
SITE = "https://crm.example.org"
PAGE = 5  # session, user (+team), savepoint, session update, release (test_views.py)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE + "/"  # a trailing slash is not doubled


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def links(message) -> tuple[list[str], list[str]]:
    """The links of the HTML part and the URLs of the text part."""
    html = message.alternatives[0][0]
    return re.findall(r'href="([^"]+)"', html), re.findall(r"https?://\S+", message.body)


def follow_up_link(fu) -> str:
    return SITE + reverse("outreach:follow_up_detail", args=[fu.pk])


def test_a_reminder_links_the_follow_up_and_its_physician(clock, msl):
    physician = PhysicianFactory(first_name="Ada", last_name="Byron")
    fu = services.create_follow_up(
        owner=msl, title="Send Dr. Byron the poster", due_at=NOW - dt.timedelta(minutes=5), physician=physician
    )
    assert services.dispatch_due_reminders() == 1
    (message,) = mail.outbox
    html_links, text_links = links(message)
    profile = SITE + reverse("physicians:detail", args=[physician.pk])
    for found in (html_links, text_links):
        assert follow_up_link(fu) in found and profile in found
    assert f'<a href="{profile}">Dr. Ada Byron, MD</a>' in message.alternatives[0][0]
    # The list stays linked too, but no longer alone.
    assert SITE + reverse("outreach:follow_ups") in html_links


def test_a_reminder_about_a_case_links_the_case_by_its_number_and_never_names_the_patient(clock, nurse):
    case = CaseFactory(assigned_liaison=nurse, patient=PatientFactory(first_name="Agatha", last_name="Zimmer"))
    fu = services.create_follow_up(
        owner=nurse, title="Call Agatha Zimmer's daughter", due_at=NOW - dt.timedelta(minutes=1), case=case
    )
    assert services.dispatch_due_reminders() == 1
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    case_link = SITE + reverse("patients:case_detail", args=[case.pk])
    assert f'<a href="{case_link}">Case #{case.pk}</a>' in html
    assert f"Case #{case.pk}: {case_link}" in message.body
    assert follow_up_link(fu) in links(message)[0]
    everything = message.subject + message.body + html
    assert "Zimmer" not in everything and "Agatha" not in everything and case.patient.mrn not in everything


def test_a_personal_task_links_its_own_page(clock, msl):
    fu = FollowUpFactory(owner=msl, title="Book the congress hotel", due_at=NOW - dt.timedelta(minutes=5))
    services.dispatch_due_reminders()
    (message,) = mail.outbox
    assert f'<a href="{follow_up_link(fu)}"><strong>Book the congress hotel</strong></a>' in message.alternatives[0][0]
    assert f"- Book the congress hotel (due Tue 10 Mar 2026, 09:25)\n  {follow_up_link(fu)}\n" in message.body


def test_one_email_for_several_follow_ups_links_each_to_its_own_page(clock, msl):
    due = [FollowUpFactory(owner=msl, title=f"Task {i}", due_at=NOW - dt.timedelta(minutes=i + 1)) for i in range(3)]
    services.dispatch_due_reminders()
    (message,) = mail.outbox
    html_links, text_links = links(message)
    for fu in due:
        assert html_links.count(follow_up_link(fu)) == 1 and text_links.count(follow_up_link(fu)) == 1


def test_an_escalation_links_each_overdue_follow_up_and_what_it_is_about(clock, msl, manager):
    inquiry = MedicalInquiryFactory(owner=msl)
    fu = services.create_follow_up(
        owner=msl, title="Answer the dosing question", due_at=NOW - dt.timedelta(days=3), inquiry=inquiry
    )
    assert services.escalate_overdue() == 1
    (message,) = mail.outbox
    assert message.to == [manager.email]
    html_links, text_links = links(message)
    inquiry_link = SITE + reverse("physicians:inquiry_detail", args=[inquiry.pk])
    for found in (html_links, text_links):
        assert follow_up_link(fu) in found and inquiry_link in found
    assert f'<a href="{follow_up_link(fu)}">Answer the dosing question</a>' in message.alternatives[0][0]


def test_the_links_lead_the_recipient_to_the_follow_up_and_nobody_else(
    clock, msl, msl_teammate, manager, other_manager, nurse, client_for
):
    physician = PhysicianFactory()
    fu = services.create_follow_up(owner=msl, title="Send the reprint", due_at=NOW, physician=physician)
    path = reverse("outreach:follow_up_detail", args=[fu.pk])
    for user in (msl, manager):  # the owner, and the manager the escalation goes to
        response = client_for(user).get(path)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Send the reprint" in html and reverse("outreach:follow_up_complete", args=[fu.pk]) in html
        assert f'<a href="{reverse("physicians:detail", args=[physician.pk])}">{physician}</a>' in html
    for outsider in (msl_teammate, other_manager, nurse):
        assert client_for(outsider).get(path).status_code == 404
    assert client_for(msl).post(path).status_code == 405


def test_an_msl_never_opens_a_case_follow_ups_page(clock, nurse, msl, manager, client_for):
    case = CaseFactory(assigned_liaison=nurse)
    fu = services.create_follow_up(owner=nurse, title="Call the daughter", due_at=NOW, case=case)
    path = reverse("outreach:follow_up_detail", args=[fu.pk])
    assert client_for(msl).get(path).status_code == 404
    assert "Call the daughter" in client_for(manager).get(path).content.decode()


@pytest.mark.parametrize("about", ["none", "physician", "case", "inquiry"])
def test_the_follow_up_page_query_count(clock, about, nurse, msl, client_for, django_assert_num_queries):
    owner = nurse if about == "case" else msl
    concern = {
        "none": {},
        "physician": {"physician": PhysicianFactory()},
        "case": {"case": CaseFactory(assigned_liaison=nurse)},
        "inquiry": {"inquiry": MedicalInquiryFactory(owner=msl)},
    }[about]
    fu = services.create_follow_up(owner=owner, title="Check in", due_at=NOW, created_by=owner, **concern)
    client = client_for(owner)
    # PAGE; the follow-up (+owner, physician, creator); whether anyone else can take it (Reassign)
    with django_assert_num_queries(PAGE + 2):
        response = client.get(reverse("outreach:follow_up_detail", args=[fu.pk]))
    assert response.status_code == 200
