"""Follow-ups and notifications on the REST API: scope, filters, the actions through the services,
and constant query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from outreach import services
from outreach.models import FollowUp, Notification
from tests.factories import CaseFactory, FollowUpFactory, PhysicianFactory

pytestmark = pytest.mark.django_db

FOLLOW_UPS = "/api/v1/follow-ups/"
NOTIFICATIONS = "/api/v1/notifications/"


def detail(pk: int, action: str = "") -> str:
    return f"{FOLLOW_UPS}{pk}/{action + '/' if action else ''}"


def make_follow_ups(owner, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        physician = PhysicianFactory() if i % 2 else None
        FollowUpFactory(
            owner=owner, title=f"Task {i}", due_at=now + dt.timedelta(hours=i - n // 2), physician=physician
        )


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Follow-ups: reading --------------------------------------------------------------------------


def test_list_shows_the_own_follow_ups_with_their_fields(api_for, msl, msl_teammate):
    physician = PhysicianFactory(first_name="Ann", last_name="Lee", credentials="MD")
    due = timezone.now() + dt.timedelta(days=2)
    mine = FollowUpFactory(owner=msl, title="Send the trial data", due_at=due, physician=physician, notes="Slides")
    FollowUpFactory(owner=msl_teammate, title="A teammate's own")
    response = api_for(msl).get(FOLLOW_UPS)
    assert ids(response) == {mine.pk}
    row = response.json()["results"][0]
    assert row["title"] == "Send the trial data"
    assert row["notes"] == "Slides"
    assert row["status"] == "open" and row["is_overdue"] is False
    assert dt.datetime.fromisoformat(row["due_at"]) == due
    assert row["owner"] == {"id": msl.pk, "name": msl.get_full_name()}
    assert row["team"] == msl.team_id
    assert row["concern"] == {
        "kind": "physician",
        "id": physician.pk,
        "label": "Dr. Ann Lee, MD",
        "url": f"/physicians/{physician.pk}/",
    }
    assert row["completed_at"] is None and row["completed_by"] is None


def test_detail_and_list_are_ordered_by_due_time(api_for, msl):
    now = timezone.now()
    soon = FollowUpFactory(owner=msl, title="Soon", due_at=now - dt.timedelta(days=1))
    FollowUpFactory(owner=msl, title="Later", due_at=now + dt.timedelta(days=5))
    FollowUpFactory(owner=msl, title="Soonest", due_at=now - dt.timedelta(days=2))
    client = api_for(msl)
    titles = [r["title"] for r in client.get(FOLLOW_UPS).json()["results"]]
    assert titles == ["Soonest", "Soon", "Later"]
    response = client.get(detail(soon.pk))
    assert response.status_code == 200
    assert response.json()["title"] == "Soon" and response.json()["is_overdue"] is True


def test_outsiders_get_404_and_do_not_see_the_row(api_for, msl, msl_teammate, other_manager, manager):
    fu = FollowUpFactory(owner=msl)
    for outsider in (msl_teammate, other_manager):
        client = api_for(outsider)
        assert client.get(detail(fu.pk)).status_code == 404
        assert fu.pk not in ids(client.get(FOLLOW_UPS))
    # The manager of the owner's team sees it.
    assert api_for(manager).get(detail(fu.pk)).status_code == 200


def test_a_case_follow_up_is_hidden_from_anyone_without_phi_access(api_for, msl, nurse, manager):
    case = CaseFactory(assigned_liaison=nurse)
    fu = services.create_follow_up(owner=nurse, title="Call Mrs Smith about her MRI", due_at=timezone.now(), case=case)
    # Even one wrongly owned by an MSL (the services refuse that) stays out of the MSL's sight.
    stray = FollowUpFactory(owner=msl, title="Mr Jones's discharge", case=case)
    client = api_for(msl)
    assert client.get(detail(stray.pk)).status_code == 404
    assert ids(client.get(FOLLOW_UPS)) == set()
    assert ids(client.get(FOLLOW_UPS, {"q": "Jones"})) == set()
    row = api_for(manager).get(detail(fu.pk)).json()
    assert row["title"] == "Call Mrs Smith about her MRI"
    assert row["concern"]["kind"] == "case" and row["concern"]["label"] == f"Case #{case.pk}"


def test_search_and_state_filter_as_on_the_page(api_for, msl):
    now = timezone.now()
    overdue = FollowUpFactory(owner=msl, title="Call Dr. Rossi", due_at=now - dt.timedelta(hours=2))
    later = FollowUpFactory(owner=msl, title="Email Dr. Rossi", due_at=now + dt.timedelta(days=30))
    FollowUpFactory(owner=msl, title="Book the room", due_at=now + dt.timedelta(days=30))
    done = FollowUpFactory(owner=msl, title="Rossi slides", due_at=now - dt.timedelta(days=3))
    services.complete_follow_up(follow_up=done, by=msl)
    client = api_for(msl)
    assert ids(client.get(FOLLOW_UPS, {"q": "rossi"})) == {overdue.pk, later.pk, done.pk}
    assert ids(client.get(FOLLOW_UPS, {"q": "rossi", "state": "overdue"})) == {overdue.pk}
    assert ids(client.get(FOLLOW_UPS, {"state": "done"})) == {done.pk}
    response = client.get(FOLLOW_UPS, {"state": "someday"})
    assert response.status_code == 400 and "state" in response.json()


def test_managers_filter_by_person_and_team_within_their_scope(api_for, manager, msl, nurse, other_msl):
    mine, theirs = FollowUpFactory(owner=msl), FollowUpFactory(owner=nurse)
    client = api_for(manager)
    assert ids(client.get(FOLLOW_UPS)) == {mine.pk, theirs.pk}
    assert ids(client.get(FOLLOW_UPS, {"owner": msl.pk})) == {mine.pk}
    assert ids(client.get(FOLLOW_UPS, {"team": nurse.team_id})) == {theirs.pk}
    for params in ({"owner": other_msl.pk}, {"team": other_msl.team_id}, {"owner": 2**70}, {"owner": "x"}):
        response = client.get(FOLLOW_UPS, params)
        assert response.status_code == 400, params
        assert set(response.json()) == set(params)


def test_an_msl_has_no_person_filter(api_for, msl, msl_teammate):
    mine = FollowUpFactory(owner=msl)
    # As on the page: the person and team filters are not the MSL's, so they change nothing.
    assert ids(api_for(msl).get(FOLLOW_UPS, {"owner": msl_teammate.pk})) == {mine.pk}


@pytest.mark.parametrize("n", [2, 12])
def test_follow_up_list_query_count_is_constant(api_for, msl, n, django_assert_num_queries):
    make_follow_ups(msl, n)
    client = api_for(msl)
    client.get(FOLLOW_UPS)  # the token's first use stamps last_used_at
    # The token with its user and team; one page of follow-ups with owners and physicians.
    with django_assert_num_queries(2):
        response = client.get(FOLLOW_UPS)
    assert len(response.json()["results"]) == n


@pytest.mark.parametrize("n", [2, 12])
def test_manager_filtered_list_query_count_is_constant(api_for, manager, msl, nurse, n, django_assert_num_queries):
    make_follow_ups(msl, n)
    make_follow_ups(nurse, n)
    client = api_for(manager)
    client.get(FOLLOW_UPS)
    # The token with its user; the managed teams (scope); the chosen person, checked against whom
    # the manager may pick; one page of follow-ups.
    with django_assert_num_queries(4):
        response = client.get(FOLLOW_UPS, {"owner": msl.pk, "q": "Task"})
    assert len(response.json()["results"]) == n


# --- Follow-ups: actions --------------------------------------------------------------------------


def test_complete_marks_done_through_the_service(api_for, msl):
    fu = FollowUpFactory(owner=msl)
    response = api_for(msl).post(detail(fu.pk, "complete"))
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["completed_by"] == msl.pk
    fu.refresh_from_db()
    assert fu.status == "done" and fu.completed_by == msl and fu.completed_at is not None


def test_a_cancelled_follow_up_cannot_be_completed(api_for, msl):
    fu = FollowUpFactory(owner=msl, status="cancelled")
    response = api_for(msl).post(detail(fu.pk, "complete"))
    assert response.status_code == 400
    assert "Only an open follow-up" in response.json()["non_field_errors"][0]
    fu.refresh_from_db()
    assert fu.status == "cancelled"


def test_a_read_only_token_cannot_act(api_for, msl, msl_teammate):
    fu = FollowUpFactory(owner=msl)
    due = fu.due_at
    client = api_for(msl, scope="read")
    assert client.get(detail(fu.pk)).status_code == 200
    for action, body in (("complete", {}), ("snooze", {"days": 1}), ("reassign", {"owner": msl_teammate.pk})):
        assert client.post(detail(fu.pk, action), body, format="json").status_code == 403, action
    notification = Notification.objects.create(user=msl, title="Hello")
    assert client.post(f"{NOTIFICATIONS}{notification.pk}/read/").status_code == 403
    assert client.post(f"{NOTIFICATIONS}read-all/").status_code == 403
    fu.refresh_from_db()
    notification.refresh_from_db()
    assert fu.status == "open" and fu.due_at == due and fu.owner == msl
    assert notification.read_at is None


@pytest.mark.parametrize("action", ["complete", "snooze", "reassign"])
def test_outsiders_get_404_on_actions(api_for, msl, msl_teammate, other_manager, action):
    fu = FollowUpFactory(owner=msl)
    for outsider in (msl_teammate, other_manager):
        response = api_for(outsider).post(detail(fu.pk, action), {"days": 1, "owner": outsider.pk}, format="json")
        assert response.status_code == 404
    fu.refresh_from_db()
    assert fu.status == "open" and fu.owner == msl


def test_snooze_by_days_or_to_a_date(api_for, msl):
    fu = FollowUpFactory(owner=msl, due_at=timezone.now() - dt.timedelta(hours=1), reminded_at=timezone.now())
    client = api_for(msl)
    before = timezone.now()
    response = client.post(detail(fu.pk, "snooze"), {"days": 7}, format="json")
    assert response.status_code == 200
    fu.refresh_from_db()
    assert before + dt.timedelta(days=7) <= fu.due_at <= timezone.now() + dt.timedelta(days=7)
    assert fu.reminded_at is None
    assert dt.datetime.fromisoformat(response.json()["due_at"]) == fu.due_at
    target = timezone.localdate() + dt.timedelta(days=30)
    assert client.post(detail(fu.pk, "snooze"), {"until": target.isoformat()}, format="json").status_code == 200
    fu.refresh_from_db()
    assert timezone.localtime(fu.due_at) == timezone.make_aware(dt.datetime.combine(target, dt.time(9, 0)))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "2001-01-01"}, "until"),
        ({"until": "not a date"}, "until"),
        ({"days": 3}, "days"),
        ({"days": "x\x00"}, "days"),
        ({}, "non_field_errors"),
    ],
)
def test_a_bad_snooze_is_a_400_and_changes_nothing(api_for, msl, body, field):
    fu = FollowUpFactory(owner=msl)
    response = api_for(msl).post(detail(fu.pk, "snooze"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert FollowUp.objects.get(pk=fu.pk).due_at == fu.due_at


def test_reassign_within_the_team_notifies_the_new_owner(api_for, msl, msl_teammate):
    fu = FollowUpFactory(owner=msl, title="Send slides")
    response = api_for(msl).post(detail(fu.pk, "reassign"), {"owner": msl_teammate.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == msl_teammate.pk
    fu.refresh_from_db()
    assert fu.owner == msl_teammate and fu.team == msl_teammate.team
    assert Notification.objects.get(user=msl_teammate).kind == "assignment"


def test_reassign_to_someone_one_may_not_assign_is_a_403(api_for, msl, other_msl, nurse):
    fu = FollowUpFactory(owner=msl)
    client = api_for(msl)
    for target in (other_msl, nurse):
        response = client.post(detail(fu.pk, "reassign"), {"owner": target.pk}, format="json")
        assert response.status_code == 403
    fu.refresh_from_db()
    assert fu.owner == msl and not Notification.objects.exists()


@pytest.mark.parametrize("owner", [0, 999_999, 2**63, "me", None])
def test_reassign_to_nobody_is_a_400(api_for, msl, owner):
    fu = FollowUpFactory(owner=msl)
    response = api_for(msl).post(detail(fu.pk, "reassign"), {"owner": owner}, format="json")
    assert response.status_code == 400 and "owner" in response.json()
    assert FollowUp.objects.get(pk=fu.pk).owner == msl


def test_a_manager_may_not_give_a_case_follow_up_to_an_msl(api_for, manager, nurse, msl):
    case = CaseFactory(assigned_liaison=nurse)
    fu = services.create_follow_up(owner=nurse, title="Call the family", due_at=timezone.now(), case=case)
    response = api_for(manager).post(detail(fu.pk, "reassign"), {"owner": msl.pk}, format="json")
    assert response.status_code == 400
    assert "may not see patient information" in response.json()["non_field_errors"][0]
    assert FollowUp.objects.get(pk=fu.pk).owner == nurse


# --- Notifications ----------------------------------------------------------------------------------


def test_notifications_are_the_users_own(api_for, msl, msl_teammate):
    now = timezone.now()
    newer = Notification.objects.create(user=msl, title="Assigned", body="By Jo", url="/outreach/follow-ups/")
    # Created after, but dated before: the list is by date, not by id.
    older = Notification.objects.create(
        user=msl, title="Due: slides", kind="reminder", created_at=now - dt.timedelta(hours=1)
    )
    other = Notification.objects.create(user=msl_teammate, title="Not yours")
    client = api_for(msl)
    response = client.get(NOTIFICATIONS)
    assert [r["id"] for r in response.json()["results"]] == [newer.pk, older.pk]
    row = response.json()["results"][0]
    assert row["title"] == "Assigned" and row["body"] == "By Jo" and row["url"] == "/outreach/follow-ups/"
    assert row["kind"] == "info" and row["read_at"] is None and row["follow_up"] is None
    assert client.get(f"{NOTIFICATIONS}{older.pk}/").json()["kind"] == "reminder"
    assert client.get(f"{NOTIFICATIONS}{other.pk}/").status_code == 404
    assert client.post(f"{NOTIFICATIONS}{other.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_unread_filter(api_for, msl):
    read = Notification.objects.create(user=msl, title="Old", read_at=timezone.now())
    unread = Notification.objects.create(user=msl, title="New")
    client = api_for(msl)
    assert ids(client.get(NOTIFICATIONS, {"unread": "1"})) == {unread.pk}
    assert ids(client.get(NOTIFICATIONS, {"unread": "true"})) == {unread.pk}
    assert ids(client.get(NOTIFICATIONS)) == {read.pk, unread.pk}


def test_read_and_read_all(api_for, msl, msl_teammate):
    first, second, third = (Notification.objects.create(user=msl, title=f"N{i}") for i in range(3))
    theirs = Notification.objects.create(user=msl_teammate, title="Theirs")
    client = api_for(msl)
    response = client.post(f"{NOTIFICATIONS}{first.pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"] is not None
    first.refresh_from_db()
    assert first.read_at is not None
    response = client.post(f"{NOTIFICATIONS}read-all/")
    assert response.status_code == 200 and response.json() == {"marked": 2}
    assert not Notification.objects.filter(user=msl, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert {second.pk, third.pk} <= set(Notification.objects.filter(read_at__isnull=False).values_list("pk", flat=True))


@pytest.mark.parametrize("n", [2, 12])
def test_notification_list_query_count_is_constant(api_for, msl, n, django_assert_num_queries):
    for i in range(n):
        Notification.objects.create(user=msl, title=f"N{i}", follow_up=FollowUpFactory(owner=msl))
    client = api_for(msl)
    client.get(NOTIFICATIONS)
    # The token with its user; one page of notifications.
    with django_assert_num_queries(2):
        response = client.get(NOTIFICATIONS)
    assert len(response.json()["results"]) == n
