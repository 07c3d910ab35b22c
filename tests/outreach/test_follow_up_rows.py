"""What a follow-up row shows (templates/outreach/_follow_up_row.html), on the follow-ups page and
in the htmx answers of its actions, and the forms its Snooze and Reassign menus load."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach import services
from outreach.models import FollowUp
from tests.factories import CaseFactory, FollowUpFactory, MedicalInquiryFactory, PhysicianFactory
from tests.physicians.factories import InteractionFactory

pytestmark = pytest.mark.django_db

LIST = reverse("outreach:follow_ups")


def row_html(html: str, fu: FollowUp) -> str:
    """The <li> of one follow-up in a page or an htmx answer."""
    match = re.search(rf'<li class="[^"]*" id="fu-{fu.pk}".*?</li>', html, re.S)
    assert match, f"no row for follow-up {fu.pk}"
    return match.group(0)


def page_row(client, fu: FollowUp, **params) -> str:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return row_html(response.content.decode(), fu)


def test_an_overdue_follow_up_is_marked_and_a_later_one_is_not(client_for, msl):
    late = FollowUpFactory(owner=msl, due_at=timezone.now() - dt.timedelta(hours=3))
    later = FollowUpFactory(owner=msl, due_at=timezone.now() + dt.timedelta(days=3))
    client = client_for(msl)
    assert 'class="fu-overdue"' in page_row(client, late)
    assert "fu-overdue" not in page_row(client, later)


def test_due_and_done_dates_are_in_the_sites_time_zone(client_for, msl, settings):
    settings.TIME_ZONE = "America/New_York"
    due = dt.datetime(2031, 1, 2, 3, 30, tzinfo=dt.UTC)  # 22:30 on 1 January in New York
    fu = FollowUpFactory(owner=msl, due_at=due)
    row = page_row(client_for(msl), fu)
    assert 'title="2031-01-01 22:30"' in row
    assert "Wed 1 Jan, 22:30" in row


def test_a_done_follow_up_is_struck_through_and_has_no_actions(client_for, msl, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    fu = FollowUpFactory(owner=msl)
    services.complete_follow_up(follow_up=fu, by=msl)
    FollowUp.objects.filter(pk=fu.pk).update(completed_at=dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC))
    row = page_row(client_for(msl), fu)
    assert 'class="list-group-item fu-row fu-done"' in row
    assert "Done Mon 2 Mar, 01:30" in row  # 20:00 UTC is 01:30 the next day in Kolkata
    assert "<form" not in row and "Complete" not in row


@pytest.mark.parametrize("kind", ["physician", "inquiry", "interaction"])
def test_the_concern_links_to_its_record(client_for, msl, kind):
    physician = PhysicianFactory(first_name="Ada <b>", last_name="Lovelace")
    about = {
        "physician": {"physician": physician},
        "inquiry": {"inquiry": MedicalInquiryFactory(owner=msl, physician=physician)},
        "interaction": {"interaction": InteractionFactory(msl=msl, physician=physician)},
    }[kind]
    fu = FollowUpFactory(owner=msl, **about)
    row = page_row(client_for(msl), fu)
    url, label, icon = {
        "physician": lambda: (
            reverse("physicians:detail", args=[physician.pk]),
            "Dr. Ada &lt;b&gt; Lovelace",
            "person-badge",
        ),
        "inquiry": lambda: (
            reverse("physicians:inquiry_detail", args=[fu.inquiry_id]),
            f"Inquiry #{fu.inquiry_id}",
            "question-circle",
        ),
        "interaction": lambda: (
            reverse("physicians:interaction_detail", args=[fu.interaction_id]),
            f"Interaction #{fu.interaction_id}",
            "chat-dots",
        ),
    }[kind]()
    assert f'<a href="{url}">{label}' in row
    assert f"bi-{icon}" in row
    assert "<b>" not in row


def test_a_case_follow_up_shows_the_case_number_only(client_for, nurse):
    case = CaseFactory(assigned_liaison=nurse)
    fu = services.create_follow_up(owner=nurse, title="Call the family", due_at=timezone.now(), case=case)
    row = page_row(client_for(nurse), fu)
    assert f'<a href="{reverse("patients:case_detail", args=[case.pk])}">Case #{case.pk}</a>' in row
    assert case.patient.last_name not in row


def test_a_personal_task_has_no_concern(client_for, msl):
    fu = FollowUpFactory(owner=msl)
    assert "<a href" not in page_row(client_for(msl), fu)


def test_an_escalated_open_follow_up_has_a_badge_and_a_done_one_does_not(client_for, msl):
    now = timezone.now()
    open_one = FollowUpFactory(owner=msl, due_at=now - dt.timedelta(days=2), escalated_at=now)
    done_one = FollowUpFactory(owner=msl, due_at=now - dt.timedelta(days=2), escalated_at=now)
    services.complete_follow_up(follow_up=done_one, by=msl)
    client = client_for(msl)
    assert '<span class="badge text-bg-warning">Escalated</span>' in page_row(client, open_one)
    assert "Escalated" not in page_row(client, done_one)


def test_managers_see_whose_follow_up_it_is_and_owners_do_not(client_for, msl, manager):
    msl.first_name, msl.last_name = "Mara", "O'Neil <i>"
    msl.save()
    fu = FollowUpFactory(owner=msl)
    row = page_row(client_for(manager), fu)
    assert 'bi-person" aria-hidden="true"></i> Mara O&#x27;Neil &lt;i&gt;' in row
    assert 'bi-person"' not in page_row(client_for(msl), fu)


def test_titles_are_escaped_on_the_page_and_in_the_htmx_row(client_for, msl):
    fu = FollowUpFactory(owner=msl, title='<script>alert("x")</script>')
    client = client_for(msl)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page_row(client, fu)
    response = client.post(reverse("outreach:follow_up_complete", args=[fu.pk]), HTTP_HX_REQUEST="true")
    assert "<script>alert" not in response.content.decode()
    assert "&lt;script&gt;" in row_html(response.content.decode(), fu)


def test_an_open_row_posts_its_actions_with_a_csrf_token(client_for, msl, msl_teammate):
    fu = FollowUpFactory(owner=msl)
    row = page_row(client_for(msl), fu)
    for name in ("outreach:follow_up_complete", "outreach:follow_up_snooze"):
        url = reverse(name, args=[fu.pk])
        assert f'hx-post="{url}" hx-target="#fu-{fu.pk}"' in row
    assert row.count('name="csrfmiddlewaretoken"') == 2  # complete, and snooze by 1 day / 1 week
    # The date and the reassign picker are loaded when their menus open.
    assert f'hx-get="{reverse("outreach:follow_up_snooze", args=[fu.pk])}"' in row
    assert f'hx-get="{reverse("outreach:follow_up_reassign", args=[fu.pk])}"' in row


def test_reassign_is_offered_only_with_someone_to_hand_it_to(client_for, msl):
    fu = FollowUpFactory(owner=msl)
    assert "Reassign" not in page_row(client_for(msl), fu)  # msl is alone on the team


def test_the_htmx_answer_is_the_same_row_as_the_page(client_for, msl, msl_teammate):
    fu = FollowUpFactory(owner=msl, due_at=timezone.now() - dt.timedelta(hours=1))
    client = client_for(msl)
    on_page = page_row(client, fu)
    response = client.post(reverse("outreach:follow_up_snooze", args=[fu.pk]), {"days": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    swapped = response.content.decode().strip()
    assert swapped.startswith(f'<li class="list-group-item fu-row" id="fu-{fu.pk}"')
    fu.refresh_from_db()
    # The same markup, but no longer overdue and due tomorrow.
    assert "fu-overdue" in on_page and "fu-overdue" not in swapped
    assert timezone.localtime(fu.due_at).strftime("%H:%M") in swapped


def test_a_refused_action_shows_its_error_in_the_row(client_for, msl):
    fu = FollowUpFactory(owner=msl)
    response = client_for(msl).post(
        reverse("outreach:follow_up_snooze", args=[fu.pk]), {"until": "2001-01-01"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    row = row_html(response.content.decode(), fu)
    assert '<div class="text-danger small mt-1" role="alert">Pick a date after today.</div>' in row


def test_a_refused_reassignment_names_the_person_escaped(client_for, msl, other_msl):
    other_msl.first_name, other_msl.last_name = "Eve", "<Evil>"
    other_msl.save()
    fu = FollowUpFactory(owner=msl)
    response = client_for(msl).post(
        reverse("outreach:follow_up_reassign", args=[fu.pk]), {"owner": other_msl.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "You cannot assign follow-ups to Eve &lt;Evil&gt;." in row_html(response.content.decode(), fu)


# --- the forms the menus load ---------------------------------------------------------------------


def test_the_snooze_menu_loads_a_date_form_through_crispy(client_for, msl):
    fu = FollowUpFactory(owner=msl)
    response = client_for(msl).get(reverse("outreach:follow_up_snooze", args=[fu.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'hx-post="{reverse("outreach:follow_up_snooze", args=[fu.pk])}" hx-target="#fu-{fu.pk}"' in html
    assert f'<label for="snooze-until-{fu.pk}" class="form-label requiredField">' in " ".join(html.split())
    assert re.search(
        rf'<input type="date" name="until" class="[^"]*form-control[^"]*" required id="snooze-until-{fu.pk}"', html
    )
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_reassign_menu_loads_a_picker_holding_only_the_owner(client_for, manager, msl, msl_teammate):
    fu = FollowUpFactory(owner=msl)
    response = client_for(manager).get(reverse("outreach:follow_up_reassign", args=[fu.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-lookup-url="{reverse("outreach:lookup_assignees")}"' in html
    assert html.count("<option") == 2  # the empty choice and the owner
    assert f'<option value="{msl.pk}" selected>{msl.get_full_name()}</option>' in html
    assert msl_teammate.get_full_name() not in html
    assert f'<label for="reassign-owner-{fu.pk}" class="form-label requiredField">' in " ".join(html.split())


@pytest.mark.parametrize("action", ["follow_up_snooze", "follow_up_reassign"])
def test_outsiders_get_404_for_a_rows_forms(client_for, msl, msl_teammate, other_manager, action):
    fu = FollowUpFactory(owner=msl)
    for outsider in (msl_teammate, other_manager):
        assert client_for(outsider).get(reverse(f"outreach:{action}", args=[fu.pk])).status_code == 404


@pytest.mark.parametrize("action", ["follow_up_snooze", "follow_up_reassign"])
def test_a_rows_form_costs_the_same_few_queries(client_for, manager, msl, action, django_assert_num_queries):
    fu = FollowUpFactory(owner=msl)
    client = client_for(manager)
    client.get(LIST)  # the session's activity stamp
    # session, user, the manager's teams (scope), the follow-up with its owner and physician
    with django_assert_num_queries(4):
        assert client.get(reverse(f"outreach:{action}", args=[fu.pk])).status_code == 200
