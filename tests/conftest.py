"""Shared fixtures: the cast of users every access test needs.

For each side there is an owner, a teammate and an outsider (another team), plus managers who
lead those teams or others. Fixtures are named by role; `client_for(user)` logs a client in.
"""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Team, User
from liaison_crm.celery import app as celery_app

from .factories import TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_and_eager(settings):
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:
        # The development file cache is shared by every process on the machine, so parallel
        # test workers would clear each other's entries: tests get a private one instead.
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # As for outside checks: no second factor unless a test asks for it (tests/accounts/test_second_factor.py).
    settings.MFA_REQUIRED_ROLES = []
    # Unit tests run tasks in-process; integration tests start a real worker instead.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploaded documents (the default storage, under MEDIA_ROOT) go to the test's own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _clear_cache(_fast_and_eager):
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def msl_team(db) -> Team:
    return TeamFactory(name="MA East", kind=Team.Kind.MEDICAL_AFFAIRS)


@pytest.fixture
def other_msl_team(db) -> Team:
    return TeamFactory(name="MA West", kind=Team.Kind.MEDICAL_AFFAIRS)


@pytest.fixture
def cl_team(db) -> Team:
    return TeamFactory(name="CL North", kind=Team.Kind.CLINICAL_LIAISON)


@pytest.fixture
def other_cl_team(db) -> Team:
    return TeamFactory(name="CL South", kind=Team.Kind.CLINICAL_LIAISON)


@pytest.fixture
def msl(msl_team) -> User:
    return UserFactory(username="msl", role=User.Role.MSL, team=msl_team)


@pytest.fixture
def msl_teammate(msl_team) -> User:
    return UserFactory(username="msl_mate", role=User.Role.MSL, team=msl_team)


@pytest.fixture
def other_msl(other_msl_team) -> User:
    return UserFactory(username="msl_other", role=User.Role.MSL, team=other_msl_team)


@pytest.fixture
def nurse(cl_team) -> User:
    return UserFactory(username="nurse", role=User.Role.CLINICAL_LIAISON, team=cl_team, credentials="RN")


@pytest.fixture
def nurse_teammate(cl_team) -> User:
    return UserFactory(username="nurse_mate", role=User.Role.CLINICAL_LIAISON, team=cl_team, credentials="LPN")


@pytest.fixture
def other_nurse(other_cl_team) -> User:
    return UserFactory(username="nurse_other", role=User.Role.CLINICAL_LIAISON, team=other_cl_team)


@pytest.fixture
def manager(msl_team, cl_team) -> User:
    """Leads the MSL team and the clinical-liaison team of the owners above."""
    user = UserFactory(username="manager", role=User.Role.MANAGER, team=None)
    user.managed_teams.add(msl_team, cl_team)
    return user


@pytest.fixture
def other_manager(other_msl_team, other_cl_team) -> User:
    """Leads only the outsiders' teams."""
    user = UserFactory(username="manager_other", role=User.Role.MANAGER, team=None)
    user.managed_teams.add(other_msl_team, other_cl_team)
    return user


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="admin", role=User.Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def client_for():
    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def api_for(db):
    """`api_for(user)`: a REST API client that sends a new personal token of `user`'s
    (read-and-write unless `scope="read"`), made by the same service as the tokens page."""
    import datetime as dt

    from django.utils import timezone
    from rest_framework.test import APIClient

    from accounts.services import create_api_token

    def make(user: User, scope: str = "write") -> APIClient:
        _, secret = create_api_token(
            request=None, user=user, name="test", scope=scope, expires_on=timezone.localdate() + dt.timedelta(days=30)
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        client.token = secret
        return client

    return make
