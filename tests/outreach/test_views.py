"""The follow-ups page, htmx actions, notifications and the bell, the calendar feed, events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from outreach import services
from outreach.models import CalendarFeed, FollowUp, Notification, OutreachEvent
from tests.factories import CaseFactory, FollowUpFactory, PatientFactory

pytestmark = pytest.mark.django_db

LIST = reverse("outreach:follow_ups")
# Every full page: session, user (with the team the navbar shows), and the idle-timeout activity
# stamp written to the session (savepoint, UPDATE django_session, release).
PAGE = 5


def make_follow_ups(owner, n: int) -> None:
    now = timezone.now()
    offsets = [dt.timedelta(days=-2), dt.timedelta(hours=1), dt.timedelta(days=3), dt.timedelta(days=20)]
    for i in range(n):
        FollowUpFactory(owner=owner, title=f"Task {i}", due_at=now + offsets[i % 4])


# --- Follow-ups list ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 20])
def test_follow_up_list_query_count_is_constant(client_for, msl, n, django_assert_num_queries):
    make_follow_ups(msl, n)
    client = client_for(msl)
    # PAGE; whether anyone else can take a follow-up (two assignable ids at most: the rows'
    # Reassign menus); the five sections (overdue, today, week, later, done). The quick add has
    # no owner for an MSL; the rows' snooze and reassign forms load when their menus open.
    with django_assert_num_queries(PAGE + 6):
        response = client.get(LIST)
    assert response.status_code == 200


@pytest.mark.parametrize("n", [2, 20])
def test_manager_follow_up_list_query_count_is_constant(client_for, manager, msl, nurse, n, django_assert_num_queries):
    make_follow_ups(msl, n)
    make_follow_ups(nurse, n)
    client = client_for(manager)
    # PAGE; the managed teams (scope); whether anyone else can take a follow-up; the five
    # sections; the team filter's choices. The person filter and the quick add's owner are
    # pickers with nothing chosen: no query.
    with django_assert_num_queries(PAGE + 8):
        response = client.get(LIST)
    assert response.status_code == 200


@pytest.mark.parametrize("n", [2, 20])
def test_manager_filtered_by_person_query_count_is_constant(
    client_for, manager, msl, nurse, n, django_assert_num_queries
):
    make_follow_ups(msl, n)
    make_follow_ups(nurse, n)
    client = client_for(manager)
    # PAGE; scope; the chosen person, checked against whom the manager may pick; whether anyone
    # else can take a follow-up; the five sections; the team filter's choices; the chosen
    # person's name for the picker.
    with django_assert_num_queries(PAGE + 10):
        response = client.get(LIST, {"owner": msl.pk})
    assert response.status_code == 200


@pytest.mark.parametrize("n", [2, 20])
def test_follow_up_state_page_query_count_is_constant(client_for, msl, n, django_assert_num_queries):
    make_follow_ups(msl, n)
    client = client_for(msl)
    # PAGE; whether anyone else can take a follow-up; one page of the section (PAGE_SIZE + 1
    # rows, no COUNT)
    with django_assert_num_queries(PAGE + 2):
        response = client.get(LIST, {"state": "overdue"})
    assert response.status_code == 200


def test_sections_sort_follow_ups_by_due_date(client_for, msl):
    now = timezone.now()
    FollowUpFactory(owner=msl, title="Late one", due_at=now - dt.timedelta(days=1))
    FollowUpFactory(owner=msl, title="Far one", due_at=now + dt.timedelta(days=30))
    done = FollowUpFactory(owner=msl, title="Finished one", due_at=now - dt.timedelta(days=3))
    services.complete_follow_up(follow_up=done, by=msl)
    sections = {s["key"]: [f.title for f in s["rows"]] for s in client_for(msl).get(LIST).context["sections"]}
    assert sections["overdue"] == ["Late one"]
    assert sections["later"] == ["Far one"]
    assert sections["done"] == ["Finished one"]
    assert sections["today"] == sections["week"] == []


def test_a_user_sees_only_their_own_follow_ups_and_a_manager_filters_by_person(
    client_for, msl, msl_teammate, other_msl, manager
):
    FollowUpFactory(owner=msl, title="Mine")
    FollowUpFactory(owner=msl_teammate, title="Teammate's")
    FollowUpFactory(owner=other_msl, title="Other team's")
    body = client_for(msl).get(LIST).content.decode()
    assert "Mine" in body and "Teammate&#x27;s" not in body and "Other team" not in body
    # A non-manager cannot widen the scope with ?owner=.
    assert "Teammate" not in client_for(msl).get(LIST, {"owner": msl_teammate.pk}).content.decode()

    body = client_for(manager).get(LIST).content.decode()
    assert "Mine" in body and "Teammate&#x27;s" in body and "Other team" not in body
    body = client_for(manager).get(LIST, {"owner": msl_teammate.pk}).content.decode()
    assert "Mine" not in body and "Teammate&#x27;s" in body


def test_an_msl_never_sees_a_case_follow_up(client_for, msl, nurse, manager):
    case = CaseFactory(assigned_liaison=nurse, patient=PatientFactory(last_name="Zimmer"))
    fu = services.create_follow_up(owner=nurse, title="Call Mrs Zimmer", due_at=timezone.now(), case=case)
    assert "Zimmer" not in client_for(msl).get(LIST).content.decode()
    assert client_for(msl).post(reverse("outreach:follow_up_complete", args=[fu.pk])).status_code == 404
    assert "Zimmer" in client_for(nurse).get(LIST).content.decode()


def test_quick_add_creates_a_follow_up_for_me(client_for, msl):
    due = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(msl).post(reverse("outreach:follow_up_create"), {"title": "Send slides", "due_at": due})
    assert response.status_code == 302
    fu = FollowUp.objects.get()
    assert (fu.owner, fu.team, fu.created_by, fu.title) == (msl, msl.team, msl, "Send slides")


def test_quick_add_with_bad_input_writes_nothing(client_for, msl):
    response = client_for(msl).post(reverse("outreach:follow_up_create"), {"title": "", "due_at": "tomorrowish"})
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    assert "Enter a valid date/time" in response.content.decode()
    assert not FollowUp.objects.exists()


def test_quick_add_owner_must_be_assignable(client_for, manager, other_msl):
    due = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(manager).post(
        reverse("outreach:follow_up_create"), {"title": "X", "due_at": due, "owner": other_msl.pk}
    )
    assert response.status_code == 422
    assert not FollowUp.objects.exists()


# --- htmx actions ---------------------------------------------------------------------------------


def test_complete_in_place_with_htmx(client_for, msl):
    fu = FollowUpFactory(owner=msl)
    response = client_for(msl).post(reverse("outreach:follow_up_complete", args=[fu.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="fu-{fu.pk}"' in response.content.decode() and "fu-done" in response.content.decode()
    fu.refresh_from_db()
    assert fu.status == "done" and fu.completed_by == msl and fu.completed_at


def test_snooze_one_day_one_week_or_a_date(client_for, msl):
    fu = FollowUpFactory(owner=msl, due_at=timezone.now() - dt.timedelta(hours=1), reminded_at=timezone.now())
    client = client_for(msl)
    url = reverse("outreach:follow_up_snooze", args=[fu.pk])
    before = timezone.now()
    assert client.post(url, {"days": "1"}, HTTP_HX_REQUEST="true").status_code == 200
    fu.refresh_from_db()
    assert before + dt.timedelta(days=1) <= fu.due_at <= timezone.now() + dt.timedelta(days=1)
    assert fu.reminded_at is None
    client.post(url, {"days": "7"}, HTTP_HX_REQUEST="true")
    fu.refresh_from_db()
    assert fu.due_at >= before + dt.timedelta(days=7)
    target = timezone.localdate() + dt.timedelta(days=30)
    client.post(url, {"until": target.isoformat()}, HTTP_HX_REQUEST="true")
    fu.refresh_from_db()
    assert timezone.localtime(fu.due_at).date() == target


def test_snooze_to_the_past_is_refused_in_place(client_for, msl):
    fu = FollowUpFactory(owner=msl)
    due = fu.due_at
    response = client_for(msl).post(
        reverse("outreach:follow_up_snooze", args=[fu.pk]), {"until": "2001-01-01"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Pick a date after today" in response.content.decode()
    fu.refresh_from_db()
    assert fu.due_at == due


def test_reassign_within_the_team_notifies_the_new_owner(client_for, msl, msl_teammate):
    fu = FollowUpFactory(owner=msl, title="Send slides")
    response = client_for(msl).post(
        reverse("outreach:follow_up_reassign", args=[fu.pk]), {"owner": msl_teammate.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    fu.refresh_from_db()
    assert fu.owner == msl_teammate and fu.team == msl_teammate.team
    assert Notification.objects.get(user=msl_teammate).kind == "assignment"


def test_reassign_outside_the_team_is_refused_and_writes_nothing(client_for, msl, other_msl, nurse):
    fu = FollowUpFactory(owner=msl)
    for target in (other_msl, nurse):
        response = client_for(msl).post(
            reverse("outreach:follow_up_reassign", args=[fu.pk]), {"owner": target.pk}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 422
        assert "You cannot assign" in response.content.decode()
    fu.refresh_from_db()
    assert fu.owner == msl and not Notification.objects.exists()


def test_a_manager_may_not_give_a_case_follow_up_to_an_msl(client_for, manager, nurse, msl):
    case = CaseFactory(assigned_liaison=nurse)
    fu = services.create_follow_up(owner=nurse, title="Call the family", due_at=timezone.now(), case=case)
    response = client_for(manager).post(
        reverse("outreach:follow_up_reassign", args=[fu.pk]), {"owner": msl.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "may not see patient information" in response.content.decode()
    fu.refresh_from_db()
    assert fu.owner == nurse


@pytest.mark.parametrize("action", ["follow_up_complete", "follow_up_snooze", "follow_up_reassign"])
def test_outsiders_get_404_on_follow_up_actions(client_for, msl, msl_teammate, other_manager, action):
    fu = FollowUpFactory(owner=msl)
    for outsider in (msl_teammate, other_manager):
        response = client_for(outsider).post(reverse(f"outreach:{action}", args=[fu.pk]), {"days": "1"})
        assert response.status_code == 404
    fu.refresh_from_db()
    assert fu.status == "open" and fu.owner == msl


def test_actions_are_post_only(client_for, msl):
    fu = FollowUpFactory(owner=msl)
    assert client_for(msl).get(reverse("outreach:follow_up_complete", args=[fu.pk])).status_code == 405


def test_anonymous_users_are_sent_to_login(client_for):
    response = client_for(None).get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Notifications and the bell -------------------------------------------------------------------


def test_bell_costs_one_query_and_does_not_keep_the_session_alive(client_for, msl, django_assert_num_queries):
    for i in range(3):
        services.notify(user=msl, title=f"N{i}")
    client = client_for(msl)
    client.get(LIST)  # a real request stamps activity
    last = client.session["_last_activity"]
    # session, user, and the one bounded COUNT on the partial unread index
    with django_assert_num_queries(3):
        response = client.get(reverse("outreach:bell"), HTTP_X_BACKGROUND_POLL="1", HTTP_HX_REQUEST="true")
    assert 'data-unread="3"' in response.content.decode()
    assert client.session["_last_activity"] == last


def test_the_navbar_polls_the_bell_as_background_work(client_for, msl):
    body = client_for(msl).get(LIST).content.decode()
    assert 'hx-get="/outreach/notifications/bell/"' in body
    assert "X-Background-Poll" in body


@pytest.mark.parametrize("n", [2, 20])
def test_notification_list_query_count_is_constant(client_for, msl, n, django_assert_num_queries):
    for i in range(n):
        services.notify(user=msl, title=f"N{i}", url="/outreach/follow-ups/")
    client = client_for(msl)
    # PAGE, one page of notifications (PAGE_SIZE + 1, no COUNT)
    with django_assert_num_queries(PAGE + 1):
        response = client.get(reverse("outreach:notifications"))
    assert response.status_code == 200


def test_mark_one_and_all_read_only_for_my_notifications(client_for, msl, msl_teammate):
    mine = [services.notify(user=msl, title=f"N{i}") for i in range(3)]
    theirs = services.notify(user=msl_teammate, title="Theirs")
    client = client_for(msl)
    assert client.post(reverse("outreach:notification_read", args=[theirs.pk])).status_code == 404
    client.post(reverse("outreach:notification_read", args=[mine[0].pk]))
    assert Notification.objects.filter(user=msl, read_at__isnull=True).count() == 2
    client.post(reverse("outreach:notifications_read_all"))
    assert not Notification.objects.filter(user=msl, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_follows_only_local_links(client_for, msl):
    good = services.notify(user=msl, title="Go", url="/outreach/follow-ups/")
    evil = services.notify(user=msl, title="Evil", url="https://evil.example/")
    client = client_for(msl)
    response = client.post(reverse("outreach:notification_read", args=[good.pk]), {"open": "1"})
    assert response["Location"] == "/outreach/follow-ups/"
    response = client.post(reverse("outreach:notification_read", args=[evil.pk]), {"open": "1"})
    assert response["Location"] == reverse("outreach:notifications")


# --- Calendar feed ---------------------------------------------------------------------------------


def test_calendar_feed_lists_my_open_follow_ups_without_patient_names(client_for, nurse, nurse_teammate):
    case = CaseFactory(assigned_liaison=nurse, patient=PatientFactory(last_name="Zimmer"))
    services.create_follow_up(owner=nurse, title="Call Mrs Zimmer", due_at=timezone.now(), case=case)
    FollowUpFactory(owner=nurse, title="Order brochures", notes="200 copies")
    FollowUpFactory(owner=nurse_teammate, title="Someone else's")
    client = client_for(nurse)
    client.post(reverse("outreach:calendar_regenerate"))
    feed = CalendarFeed.objects.get(user=nurse)
    response = client_for(None).get(reverse("outreach:calendar_feed", args=[feed.token]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    summaries = sorted(str(e["summary"]) for e in cal.walk("VEVENT"))
    assert summaries == sorted([f"Case #{case.pk}: follow-up", "Order brochures"])
    assert b"Zimmer" not in response.content


@pytest.mark.parametrize("n", [2, 20])
def test_calendar_feed_query_count_is_constant(client_for, msl, n, django_assert_num_queries):
    make_follow_ups(msl, n)
    feed = services.regenerate_calendar_token(user=msl)
    # feed + user, the follow-ups, the last_fetched_at stamp
    with django_assert_num_queries(3):
        response = client_for(None).get(reverse("outreach:calendar_feed", args=[feed.token]))
    assert response.status_code == 200


def test_a_regenerated_or_revoked_token_stops_working(client_for, msl):
    client = client_for(msl)
    client.post(reverse("outreach:calendar_regenerate"))
    old = CalendarFeed.objects.get(user=msl).token
    client.post(reverse("outreach:calendar_regenerate"))
    new = CalendarFeed.objects.get(user=msl).token
    anonymous = client_for(None)
    assert anonymous.get(reverse("outreach:calendar_feed", args=[old])).status_code == 404
    assert anonymous.get(reverse("outreach:calendar_feed", args=[new])).status_code == 200
    assert anonymous.get(reverse("outreach:calendar_feed", args=["guess"])).status_code == 404
    client.post(reverse("outreach:calendar_revoke"))
    assert anonymous.get(reverse("outreach:calendar_feed", args=[new])).status_code == 404


def test_calendar_page_shows_the_address(client_for, msl):
    client = client_for(msl)
    assert "Create my feed address" in client.get(reverse("outreach:calendar")).content.decode()
    client.post(reverse("outreach:calendar_regenerate"))
    token = CalendarFeed.objects.get(user=msl).token
    assert token in client.get(reverse("outreach:calendar")).content.decode()


# --- Outreach events --------------------------------------------------------------------------------


def make_event(organiser, **kw) -> OutreachEvent:
    defaults = {"title": "Health fair", "kind": "health_fair", "date": dt.date(2026, 4, 1), "place": "Town hall"}
    defaults.update(kw)
    return OutreachEvent.objects.create(organiser=organiser, team=organiser.team, **defaults)


@pytest.mark.parametrize("n", [2, 20])
def test_event_list_query_count_is_constant(client_for, nurse, n, django_assert_num_queries):
    for i in range(n):
        make_event(nurse, title=f"Fair {i}")
    client = client_for(nurse)
    # PAGE, one page of events with organiser and team joined (PAGE_SIZE + 1, no COUNT)
    with django_assert_num_queries(PAGE + 1):
        response = client.get(reverse("outreach:events"))
    assert response.status_code == 200


@pytest.mark.parametrize("n", [2, 20])
def test_event_detail_query_count_is_constant(client_for, nurse, n, django_assert_num_queries):
    event = make_event(nurse)
    event.referrals.set([CaseFactory(assigned_liaison=nurse) for _ in range(n)])
    client = client_for(nurse)
    # PAGE, the event with organiser and team, the referral case ids
    with django_assert_num_queries(PAGE + 2):
        response = client.get(reverse("outreach:event_detail", args=[event.pk]))
    assert response.status_code == 200


def test_event_filters_narrow_the_list(client_for, nurse):
    make_event(nurse, title="Spring fair", date=dt.date(2026, 4, 1), kind="health_fair")
    make_event(nurse, title="Autumn rounds", date=dt.date(2026, 10, 1), kind="grand_rounds", place="Ward 5")
    client = client_for(nurse)
    url = reverse("outreach:events")

    def titles(**params) -> list[str]:
        return [e.title for e in client.get(url, params).context["page_obj"].object_list]

    assert titles(kind="grand_rounds") == ["Autumn rounds"]
    assert titles(q="ward") == ["Autumn rounds"]
    assert titles(date_from="2026-03-01", date_to="2026-05-01") == ["Spring fair"]
    # Not a date: nothing is on it, and the field says why.
    response = client.get(url, {"date_from": "someday"})
    assert list(response.context["page_obj"].object_list) == []
    assert "Enter a valid date." in response.content.decode()


def test_event_filter_bar_is_a_crispy_form_that_keeps_its_values(client_for, nurse):
    html = client_for(nurse).get(reverse("outreach:events"), {"q": "fair <b>", "kind": "congress"}).content.decode()
    bar = html[html.index('aria-label="Filter events"') :].split("</form>")[0]
    assert '<label for="ev-q" class="form-label">' in " ".join(bar.split())
    assert 'value="fair &lt;b&gt;"' in bar
    assert '<option value="congress" selected>Congress</option>' in bar
    assert 'id="ev-date_from"' in bar and 'type="date"' in bar


def test_events_are_scoped_by_team(client_for, nurse, nurse_teammate, other_nurse, other_manager, manager):
    event = make_event(nurse)
    detail = reverse("outreach:event_detail", args=[event.pk])
    assert client_for(nurse_teammate).get(detail).status_code == 200
    assert client_for(manager).get(detail).status_code == 200
    assert client_for(other_nurse).get(detail).status_code == 404
    assert client_for(other_manager).get(detail).status_code == 404
    assert "Town hall" not in client_for(other_nurse).get(reverse("outreach:events")).content.decode()


def test_only_the_organiser_and_managers_edit_an_event(client_for, nurse, nurse_teammate, manager, other_nurse):
    event = make_event(nurse)
    edit = reverse("outreach:event_edit", args=[event.pk])
    assert client_for(nurse_teammate).get(edit).status_code == 403
    assert client_for(other_nurse).get(edit).status_code == 404
    assert client_for(manager).get(edit).status_code == 200


def test_a_nurse_creates_an_event_with_referrals(client_for, nurse, other_nurse):
    mine = CaseFactory(assigned_liaison=nurse)
    data = {
        "title": "Senior centre talk",
        "kind": "health_fair",
        "date": "2026-04-02",
        "place": "Oak St",
        "contacts_made": "12",
        "referral_cases": f"#{mine.pk}",
    }
    response = client_for(nurse).post(reverse("outreach:event_create"), data)
    assert response.status_code == 302
    event = OutreachEvent.objects.get()
    assert (event.organiser, event.team, list(event.referrals.all())) == (nurse, nurse.team, [mine])
    page = client_for(nurse).get(reverse("outreach:event_detail", args=[event.pk])).content.decode()
    assert f"Case #{mine.pk}" in page


def test_bad_event_input_writes_nothing(client_for, nurse, other_nurse):
    foreign = CaseFactory(assigned_liaison=other_nurse)
    data = {
        "title": "",
        "kind": "party",
        "date": "someday",
        "contacts_made": "-1",
        "referral_cases": f"{foreign.pk}, abc",
    }
    response = client_for(nurse).post(reverse("outreach:event_create"), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert "This field is required" in body and "Not a case number: abc" in body
    assert not OutreachEvent.objects.exists()
    data = {
        "title": "X",
        "kind": "health_fair",
        "date": "2026-04-02",
        "contacts_made": "1",
        "referral_cases": str(foreign.pk),
    }
    response = client_for(nurse).post(reverse("outreach:event_create"), data)
    assert response.status_code == 422 and "No case you may see" in response.content.decode()
    assert not OutreachEvent.objects.exists()


def test_msls_never_see_or_set_event_referrals(client_for, msl, manager, nurse):
    case = CaseFactory(assigned_liaison=nurse)
    event = OutreachEvent.objects.create(
        title="Advisory board", kind="advisory_board", date=dt.date(2026, 4, 1), organiser=msl, team=msl.team
    )
    event.referrals.add(case)
    client = client_for(msl)
    assert f"Case #{case.pk}" not in client.get(reverse("outreach:event_detail", args=[event.pk])).content.decode()
    form_page = client.get(reverse("outreach:event_edit", args=[event.pk])).content.decode()
    assert "referral_cases" not in form_page
    data = {
        "title": "Advisory board",
        "kind": "advisory_board",
        "date": "2026-04-01",
        "contacts_made": "3",
        "referral_cases": "",
    }
    assert client.post(reverse("outreach:event_edit", args=[event.pk]), data).status_code == 302
    assert list(event.referrals.all()) == [case]  # untouched by someone who may not see them
