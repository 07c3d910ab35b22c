"""Personal API tokens: made and revoked on /accounts/api-tokens/, stored hashed and shown once,
with an expiry and a scope; a deactivated user's tokens stop at once; roles that sign in with a
second factor may use them only while API_TOKENS_FOR_MFA_ROLES is on."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken, SecurityEvent, User
from tests.factories import UserFactory

ROOT = "/api/v1/"


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def make(user: User, scope: str = "write", days: int = 30) -> str:
    expires = timezone.localdate() + dt.timedelta(days=days)
    return services.create_api_token(request=None, user=user, name="script", scope=scope, expires_on=expires)[1]


def test_the_page_shows_a_new_secret_once_and_stores_only_its_digest(client_for, msl):
    client = client_for(msl)
    expires = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    response = client.post(reverse("api_tokens"), {"name": "Warehouse", "scope": "read", "expires_on": expires})
    assert response.status_code == 201
    secret = re.search(r'value="(lcrm_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(user=msl)
    assert (token.name, token.scope, token.last_day.isoformat()) == ("Warehouse", "read", expires)
    assert secret not in {token.digest, token.prefix} and token.digest == ApiToken.digest_of(secret)
    assert secret.startswith(token.prefix)
    # Listed afterwards by name and prefix, never the secret again.
    page = client.get(reverse("api_tokens")).content.decode()
    assert "Warehouse" in page and token.prefix in page and secret not in page
    assert bearer(secret).get(ROOT).status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.API_TOKEN_CREATED, user=msl).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scope": "read", "expires_on": "2099-01-01"}, "name"),
        ({"name": "x", "scope": "admin", "expires_on": "2099-01-01"}, "scope"),
        ({"name": "x", "scope": "read", "expires_on": "2000-01-01"}, "expires_on"),
        ({"name": "x", "scope": "read", "expires_on": "2099-01-01"}, "expires_on"),  # past the maximum
    ],
)
def test_bad_input_on_the_page_is_a_field_error_and_makes_no_token(client_for, msl, data, field):
    response = client_for(msl).post(reverse("api_tokens"), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_an_expired_token_stops(msl):
    secret = make(msl, days=1)
    client = bearer(secret)
    assert client.get(ROOT).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(days=2, hours=1)):
        response = client.get(ROOT)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_stops_and_only_its_owner_may_revoke_it(client_for, msl, msl_teammate):
    secret = make(msl)
    token = ApiToken.objects.get()
    assert client_for(msl_teammate).post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    assert bearer(secret).get(ROOT).status_code == 200
    assert client_for(msl).post(reverse("api_token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get(ROOT).status_code == 401
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.API_TOKEN_REVOKED, user=msl).count() == 1


def test_a_deactivated_users_tokens_stop_at_once(msl):
    secret = make(msl)
    client = bearer(secret)
    assert client.get(ROOT).status_code == 200
    User.objects.filter(pk=msl.pk).update(is_active=False)  # even without the service
    assert client.get(ROOT).status_code == 401


def test_deactivating_through_user_administration_revokes_the_tokens(rf, manager, msl):
    secret = make(msl)
    request = rf.post("/")
    request.session = {}
    services.set_active(request=request, by=manager, user=msl, active=False)
    services.set_active(request=request, by=manager, user=msl, active=True)
    assert bearer(secret).get(ROOT).status_code == 401  # reactivation brings no old secret back


def test_a_read_only_token_reads_and_cannot_write(msl):
    client = bearer(make(msl, scope="read"))
    assert client.get(ROOT).status_code == 200
    response = client.post(ROOT, {}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "This token is read-only."


@pytest.mark.parametrize("header", ["Bearer", "Bearer lcrm_nope", "Bearer a b", "Bearer not-even-ours", "Token x"])
def test_anything_but_a_live_token_is_refused(db, header):
    response = APIClient().get(ROOT, HTTP_AUTHORIZATION=header)
    assert response.status_code in {401, 403}
    assert "detail" in response.json()


def test_roles_with_a_second_factor_use_tokens_only_while_allowed(settings, client_for, nurse):
    settings.MFA_REQUIRED_ROLES = ["clinical_liaison"]
    secret = make(nurse)
    assert bearer(secret).get(ROOT).status_code == 200
    settings.API_TOKENS_FOR_MFA_ROLES = False
    assert bearer(secret).get(ROOT).status_code == 401
    with pytest.raises(services.PermissionDenied):
        make(nurse)
    # The page says so (the session, having passed no second factor here, is let through by hand).
    client = client_for(nurse)
    session = client.session
    session["_second_factor"] = [nurse.pk, 0]
    session.save()
    page = client.get(reverse("api_tokens"))
    assert "API tokens are turned off" in page.content.decode()
    assert (
        client.post(reverse("api_tokens"), {"name": "x", "scope": "read", "expires_on": "2099-01-01"}).status_code
        == 403
    )
    # A role outside the list keeps its tokens.
    msl = UserFactory(role=User.Role.MSL)
    assert bearer(make(msl)).get(ROOT).status_code == 200


def test_last_use_is_recorded_without_a_write_per_request(msl, django_assert_num_queries):
    client = bearer(make(msl))
    client.get(ROOT)
    token = ApiToken.objects.get()
    assert token.last_used_at is not None
    with django_assert_num_queries(1):  # the token and its user, in one query; no UPDATE
        assert client.get(ROOT).status_code == 200
