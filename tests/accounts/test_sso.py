"""Single sign-on against a real OpenID Connect provider on loopback (django-oauth-toolkit under
gunicorn, tests/oidc_provider): discovery, the authorization code flow with PKCE, the ID token's
signature and audience, verified email, users created or not, role from a claim, the second
factor the provider asserts, and sign-out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from accounts.models import SecurityEvent, Team, User
from liaison_crm.settings import oidc_providers
from tests.factories import TeamFactory, UserFactory
from tests.oidc_provider import harness

IDP_PASSWORD = "idp-password-1"
CALLBACK = "http://testserver/accounts/oidc/sso/login/callback/"


def idp_user(email: str, *, verified: bool = True, amr: list[str] | None = None, **claims) -> dict:
    return {
        "password": IDP_PASSWORD,
        "claims": {"email": email, "email_verified": verified, "amr": amr or ["pwd"], **claims},
    }


USERS = {
    "rosa": idp_user("rosa@hospital.example"),
    "unverified": idp_user("sam@hospital.example", verified=False),
    "stranger": idp_user("new.hire@hospital.example", crm_role="crm-msl-east", preferred_username="new.hire"),
    "unmapped": idp_user("another.hire@hospital.example", crm_role="something-else"),
    "nurse_pwd": idp_user("kim@hospital.example"),
    "nurse_mfa": idp_user("kim@hospital.example", amr=["pwd", "mfa"]),
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    running = harness.start(
        tmp_path_factory.mktemp("idp"),
        redirect_uris=[CALLBACK],
        users=USERS,
        after_logout=["http://testserver/accounts/login/"],
    )
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _configured(provider, settings):
    provider.set_mode("")
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        provider.issuer, harness.CLIENT_ID, harness.CLIENT_SECRET, "Hospital SSO"
    )
    settings.OIDC_CREATE_USERS = False
    settings.OIDC_ROLE_CLAIM = "crm_role"
    settings.OIDC_ROLE_MAP = {"crm-msl-east": {"role": "msl", "team": "MA East"}}


def sso(client: Client, provider, idp_username: str, idp=None):
    """Click "Sign in with …", sign in at the provider, come back: the app's last response."""
    response = client.post(reverse("openid_connect_login", args=[django_settings.OIDC_PROVIDER_ID]))
    assert response.status_code == 302, response.content[:500]
    authorize_url = response["Location"]
    idp = idp or harness.provider_session(provider, idp_username, IDP_PASSWORD)
    return client.get(harness.authorize(idp, authorize_url)), authorize_url


@pytest.fixture
def rosa(db) -> User:
    return UserFactory(username="rosa.local", email="Rosa@Hospital.example", team=TeamFactory())


def test_the_login_page_offers_the_provider(client, db):
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Hospital SSO" in page


def test_a_user_is_matched_by_verified_email_through_the_code_flow_with_pkce(client, provider, rosa):
    response, authorize_url = sso(client, provider, "rosa")
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(f"{provider.issuer}/authorize/")  # found by discovery
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["response_type"] == ["code"] and "openid" in query["scope"][0]
    assert response.status_code == 302
    assert client.get(reverse("physicians:list")).status_code == 200
    assert int(client.session["_auth_user_id"]) == rosa.pk
    assert SecurityEvent.objects.filter(user=rosa, kind=SecurityEvent.Kind.SSO_SIGNED_IN).exists()
    rosa.refresh_from_db()
    assert rosa.has_usable_password()  # matching by email takes nothing away


def test_sign_out_ends_the_session_here_and_at_the_provider(client, provider, rosa):
    idp = harness.provider_session(provider, "rosa", IDP_PASSWORD)
    sso(client, provider, "rosa", idp)
    response = client.post(reverse("logout"))
    assert client.get(reverse("physicians:list")).status_code == 302
    end_session = urlsplit(response["Location"])
    assert f"{end_session.scheme}://{end_session.netloc}{end_session.path}" == f"{provider.issuer}/logout/"
    query = parse_qs(end_session.query)
    assert query["client_id"] == [harness.CLIENT_ID]
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    # The provider accepts it (a client and a return address it knows) and ends its own session.
    at_provider = idp.get(response["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code in (200, 302), at_provider.text[:300]
    if at_provider.status_code == 200:  # it asks first: confirm
        form = {"allow": "Yes", "csrfmiddlewaretoken": idp.cookies["csrftoken"], **{k: v[0] for k, v in query.items()}}
        at_provider = idp.post(response["Location"], data=form, allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302 and at_provider.headers["Location"] == "http://testserver/accounts/login/"
    again = idp.get(f"{provider.issuer}/authorize/", params={"client_id": harness.CLIENT_ID}, allow_redirects=False)
    assert again.status_code == 302 and "/login/" in again.headers["Location"]  # signed out there too


def test_a_password_sign_out_stays_here(client, rosa):
    client.force_login(rosa)
    assert client.post(reverse("logout"))["Location"] == reverse("login")


def _refused(response, text: str) -> None:
    page = response.content.decode()
    assert response.status_code in (400, 403), response.status_code
    assert "Single sign-on refused" in page and text in page and "Nobody was signed in" in page


def test_an_id_token_with_a_bad_signature_is_refused(client, provider, rosa):
    provider.set_mode("bad_signature")
    response, _ = sso(client, provider, "rosa")
    _refused(response, "could not be verified")
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_REFUSED).exists()


def test_an_id_token_for_another_audience_is_refused(client, provider, rosa):
    provider.set_mode("wrong_audience")
    response, _ = sso(client, provider, "rosa")
    _refused(response, "could not be verified")
    assert "_auth_user_id" not in client.session


def test_an_unverified_email_is_refused(client, provider, db):
    UserFactory(email="sam@hospital.example", team=TeamFactory())
    response, _ = sso(client, provider, "unverified")
    _refused(response, "did not confirm your email address")
    assert "_auth_user_id" not in client.session


def test_nobody_is_created_unless_oidc_create_users_is_on(client, provider, db):
    response, _ = sso(client, provider, "stranger")
    _refused(response, "There is no Liaison CRM account for new.hire@hospital.example")
    assert not User.objects.filter(email="new.hire@hospital.example").exists()


def test_a_new_user_takes_role_and_team_from_the_claim(client, provider, settings, db):
    settings.OIDC_CREATE_USERS = True
    east = TeamFactory(name="MA East", kind=Team.Kind.MEDICAL_AFFAIRS)
    response, _ = sso(client, provider, "stranger")
    assert response.status_code == 302
    user = User.objects.get(email="new.hire@hospital.example")
    assert (user.role, user.team, user.username) == (User.Role.MSL, east, "new.hire")
    assert client.get(reverse("physicians:list")).status_code == 200


def test_a_new_user_without_a_mapped_claim_waits_for_access(client, provider, settings, db):
    settings.OIDC_CREATE_USERS = True
    sso(client, provider, "unmapped")
    user = User.objects.get(email="another.hire@hospital.example")
    assert user.team is None
    response = client.get(reverse("physicians:list"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert "Waiting for access" in client.get(reverse("home")).content.decode()


def test_a_deactivated_user_is_refused(client, provider, rosa):
    rosa.is_active = False
    rosa.save()
    response, _ = sso(client, provider, "rosa")
    _refused(response, "deactivated")


@pytest.fixture
def kim(db) -> User:
    return UserFactory(
        username="kim", role=User.Role.CLINICAL_LIAISON, email="kim@hospital.example", team=TeamFactory()
    )


def test_a_required_role_still_enrols_a_second_factor_after_sso(client, provider, kim, settings):
    settings.MFA_REQUIRED_ROLES = ["clinical_liaison"]
    sso(client, provider, "nurse_pwd")
    response = client.get(reverse("patients:worklist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_second_factor_the_provider_asserts_is_enough(client, provider, kim, settings):
    settings.MFA_REQUIRED_ROLES = ["clinical_liaison"]
    sso(client, provider, "nurse_mfa")
    assert client.get(reverse("patients:worklist")).status_code == 200


def test_an_existing_users_role_and_team_follow_the_claim_at_each_sign_in(client, provider, db):
    east = TeamFactory(name="MA East", kind=Team.Kind.MEDICAL_AFFAIRS)
    hire = UserFactory(email="new.hire@hospital.example", role=User.Role.CLINICAL_LIAISON, team=TeamFactory())
    sso(client, provider, "stranger")
    hire.refresh_from_db()
    assert (hire.role, hire.team) == (User.Role.MSL, east)
    event = SecurityEvent.objects.get(user=hire, kind=SecurityEvent.Kind.USER_CHANGED)
    assert (
        "from the identity provider's crm_role" in event.detail and "Medical Science Liaison, MA East" in event.detail
    )
