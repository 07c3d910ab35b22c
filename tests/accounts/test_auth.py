"""Login, logout, lockout, idle expiry, role homes, and the login wall."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders_a_crispy_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body
    assert "form-control" in body  # rendered through crispy-bootstrap5


def test_login_with_the_form_then_logout_by_post(client, msl):
    response = client.post("/accounts/login/", {"username": "msl", "password": "demo-password-1"})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.get("/").url == reverse("physicians:list")

    assert client.get("/accounts/logout/").status_code == 405  # never by GET
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/physicians/").status_code == 302  # back behind the login wall


def test_wrong_password_shows_an_error_and_does_not_log_in(client, msl):
    response = client.post("/accounts/login/", {"username": "msl", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_account_with_a_clear_message(client, msl):
    for _ in range(4):
        response = client.post("/accounts/login/", {"username": "msl", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "msl", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    # Even the right password is refused while locked...
    response = client.post("/accounts/login/", {"username": "msl", "password": "demo-password-1"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # ...and accepted again after 15 minutes.
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16)):
        response = client.post("/accounts/login/", {"username": "msl", "password": "demo-password-1"})
        assert response.status_code == 302


def test_lockout_also_covers_the_address_for_other_accounts(client, msl, msl_teammate):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "msl", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "msl_mate", "password": "demo-password-1"})
    assert response.status_code == 429


def test_idle_session_expires_after_thirty_minutes(client, msl):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(msl)
        assert client.get("/").status_code == 302
    with time_machine.travel(start + timezone.timedelta(minutes=29), tick=False):
        assert client.get("/physicians/").status_code == 200  # activity resets the clock
    with time_machine.travel(start + timezone.timedelta(minutes=58), tick=False):
        assert client.get("/physicians/").status_code == 200
    with time_machine.travel(start + timezone.timedelta(minutes=89), tick=False):
        response = client.get("/physicians/")
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
        assert "_auth_user_id" not in client.session


def test_background_polls_do_not_keep_an_idle_session_alive(client, msl):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(msl)
        client.get("/")
    with time_machine.travel(start + timezone.timedelta(minutes=20), tick=False):
        client.get("/", HTTP_X_BACKGROUND_POLL="1")
    with time_machine.travel(start + timezone.timedelta(minutes=31), tick=False):
        assert client.get("/physicians/").status_code == 302


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (User.Role.MSL, "/physicians/"),
        (User.Role.CLINICAL_LIAISON, "/patients/"),
        (User.Role.MANAGER, "/reporting/"),
        (User.Role.ADMIN, "/reporting/"),
    ],
)
def test_each_role_lands_on_its_home(client, role, home):
    client.force_login(UserFactory(role=role, team=TeamFactory()))
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == home
    assert client.get(home).status_code == 200


@pytest.mark.parametrize("role", [User.Role.MSL, User.Role.CLINICAL_LIAISON, User.Role.MANAGER])
def test_a_user_with_no_team_yet_waits_for_access(client, role):
    client.force_login(UserFactory(role=role, team=None))
    response = client.get("/")
    assert response.status_code == 200
    assert "Waiting for access" in response.content.decode()


def test_a_manager_who_leads_teams_but_sits_on_none_gets_the_dashboard(client):
    manager = UserFactory(role=User.Role.MANAGER, team=None)
    manager.managed_teams.add(TeamFactory())
    client.force_login(manager)
    assert client.get("/").url == "/reporting/"


@pytest.mark.parametrize(
    "url", ["/", "/physicians/", "/patients/", "/outreach/follow-ups/", "/reporting/", "/accounts/password/"]
)
def test_anonymous_requests_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_admin_is_for_admins_only(client_for, msl, admin_user):
    assert client_for(msl).get("/admin/").status_code == 302  # to the admin login
    assert client_for(admin_user).get("/admin/").status_code == 200
    assert client_for(admin_user).get("/admin/accounts/user/").status_code == 200
    assert client_for(admin_user).get("/admin/accounts/team/").status_code == 200


def test_password_change(client_for, msl):
    client = client_for(msl)
    response = client.post(
        "/accounts/password/",
        {"old_password": "demo-password-1", "new_password1": "a-Better-passw0rd", "new_password2": "a-Better-passw0rd"},
    )
    assert response.status_code == 302
    msl.refresh_from_db()
    assert msl.check_password("a-Better-passw0rd")


def test_the_top_bar_shows_the_roles_sections_and_a_logout_form(client_for, nurse, msl):
    body = client_for(nurse).get("/patients/").content.decode()
    assert 'href="/patients/"' in body and 'href="/physicians/"' in body  # referral sources
    assert 'href="/patients/"' not in client_for(msl).get("/physicians/").content.decode()
    assert 'action="/accounts/logout/"' in body and 'method="post"' in body
    assert nurse.get_full_name() in body


def test_activity_is_written_to_the_session_at_most_once_a_minute(client, msl):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def session_writes() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/physicians/").status_code == 200
        return sum(1 for q in ctx.captured_queries if "django_session" in q["sql"] and "UPDATE" in q["sql"])

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(msl)
        assert session_writes() == 1  # the first activity
        assert session_writes() == 0  # a second page in the same minute writes nothing
    with time_machine.travel(start + timezone.timedelta(seconds=61), tick=False):
        assert session_writes() == 1
        assert client.session["_last_activity"] == pytest.approx((start + timezone.timedelta(seconds=61)).timestamp())


def test_the_signed_in_user_comes_with_their_team_in_one_query(client, msl, django_assert_num_queries):
    from django.contrib.auth import get_user

    client.force_login(msl)
    request = client.get("/physicians/").wsgi_request
    request.session = client.session
    request.user = None
    with django_assert_num_queries(2):  # the session, then the user joined to the team
        user = get_user(request)
        assert user.team.name == msl.team.name
    assert user.pk == msl.pk


def test_an_inactive_user_s_session_signs_nobody_in(client, msl):
    client.force_login(msl)
    User.objects.filter(pk=msl.pk).update(is_active=False)
    assert client.get("/physicians/").status_code == 302  # to the login page


def test_an_msl_with_no_team_reaches_only_the_waiting_page(client):
    client.force_login(UserFactory(role=User.Role.MSL, team=None))
    response = client.get("/physicians/")
    assert response.status_code == 302 and response["Location"] == "/"
    htmx = client.get("/physicians/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 403 and htmx["HX-Redirect"] == "/"
    assert client.post(reverse("logout")).status_code == 302
