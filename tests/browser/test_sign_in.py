"""Sign-in flows in Chromium: enrolment and a TOTP code computed with pyotp, a recovery code, a
password reset by email (locmem backend), an invitation, and single sign-on against the local
OpenID Connect provider (tests/oidc_provider)."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.core import mail
from playwright.sync_api import expect

from liaison_crm.settings import allow_form_action, oidc_providers
from tests.oidc_provider import harness

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def sign_out(page) -> None:
    page.locator("nav .dropdown-toggle").last.click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def test_enrolment_then_a_totp_code_then_a_recovery_code(page, nurse, settings):
    settings.MFA_REQUIRED_ROLES = ["clinical_liaison", "manager", "admin"]
    login(page, "nurse")
    assert "/accounts/2fa/totp/activate/" in page.url
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    # Nothing else opens before enrolment.
    page.goto("/patients/")
    assert "/accounts/2fa/totp/activate/" in page.url
    secret = page.get_by_label("Secret key, for manual entry").input_value()  # a new one each visit

    page.get_by_label("The 6-digit code your app shows now").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_url("**/recovery-codes/")
    codes = page.get_by_role("list", name="Unused recovery codes").locator("li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have saved them: continue").click()
    page.wait_for_url("**/patients/")
    sign_out(page)

    login(page, "nurse")
    assert "/accounts/2fa/authenticate/" in page.url
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/patients/")
    sign_out(page)

    login(page, "nurse")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/patients/")
    sign_out(page)

    login(page, "nurse")  # the same recovery code again
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Incorrect code.")).to_be_visible()
    assert "/accounts/2fa/authenticate/" in page.url


def test_a_forgotten_password_is_reset_by_email(page, msl):
    msl.email = "msl@example.org"
    msl.save()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill("msl@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[-1].body).group(0)

    page.goto(link)
    page.locator("#id_new_password1").fill("A-new-password-42")
    page.locator("#id_new_password2").fill("A-new-password-42")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    login(page, "msl", "A-new-password-42")
    assert page.url.endswith("/physicians/")


def test_an_admin_invites_a_user_who_sets_a_password_and_signs_in(page, admin_user, msl_team):
    login(page, admin_user.username)
    page.goto("/accounts/users/")
    page.get_by_role("link", name="Invite a user").click()
    page.get_by_label("First name").fill("Ana")
    page.get_by_label("Last name").fill("Lima")
    page.get_by_label("Email address").fill("ana@example.org")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Role").select_option("msl")
    page.get_by_label("Team").select_option(label=msl_team.name)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text("Invited, no password yet")).to_be_visible()
    link = re.search(r"https?://\S+/accounts/invitation/\S+/", mail.outbox[-1].body).group(0)
    sign_out(page)

    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome, Ana Lima")).to_be_visible()
    page.locator("#id_new_password1").fill("Ana-chooses-this-1")
    page.locator("#id_new_password2").fill("Ana-chooses-this-1")
    page.get_by_role("button", name="Set my password").click()
    page.wait_for_url("**/accounts/login/")
    login(page, "ana", "Ana-chooses-this-1")
    assert page.url.endswith("/physicians/")


@pytest.fixture(scope="module")
def provider(live_server, tmp_path_factory):
    users = {
        "rosa": {"password": "idp-password-1", "claims": {"email": "rosa@hospital.example", "email_verified": True}}
    }
    running = harness.start(
        tmp_path_factory.mktemp("idp"),
        redirect_uris=[f"{live_server.url}/accounts/oidc/sso/login/callback/"],
        users=users,
        after_logout=[f"{live_server.url}/accounts/login/"],
    )
    yield running
    running.stop()


def test_single_sign_on_against_the_local_provider(page, provider, settings, msl):
    settings.SOCIALACCOUNT_PROVIDERS = oidc_providers(
        provider.issuer, harness.CLIENT_ID, harness.CLIENT_SECRET, "Hospital SSO"
    )
    settings.CONTENT_SECURITY_POLICY = allow_form_action(settings.CONTENT_SECURITY_POLICY, provider.issuer)
    msl.email = "rosa@hospital.example"
    msl.save()
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in with Hospital SSO").click()
    page.wait_for_url(f"{provider.url}/login/**")
    page.get_by_label("IdP username").fill("rosa")
    page.get_by_label("IdP password").fill("idp-password-1")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/physicians/")
    expect(page.get_by_text(msl.get_full_name()).first).to_be_visible()

    # Sign out here, and at the provider: it asks, then sends the browser back to the login page.
    page.locator("nav .dropdown-toggle").last.click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{provider.issuer}/logout/**")
    page.get_by_role("button", name="Logout").click()
    page.wait_for_url("**/accounts/login/")
    page.goto("/physicians/")
    assert "/accounts/login/" in page.url


def test_a_passkey_confirms_the_sign_in(page, msl):
    """Chromium's virtual authenticator (DevTools' WebAuthn domain) stands in for the device."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
               "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}  # fmt: skip
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})

    login(page, "msl")
    page.goto("/accounts/2fa/totp/activate/")
    secret = page.get_by_label("Secret key, for manual entry").input_value()
    page.get_by_label("The 6-digit code your app shows now").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_url("**/recovery-codes/")
    page.goto("/accounts/2fa/")
    page.get_by_role("link", name="Add").click()
    page.wait_for_url("**/webauthn/add/")
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_role("button", name="Add").click()
    # The add page is under /accounts/2fa/ too: wait for allauth's redirect to the index itself,
    # or the next navigation can cancel the form the page posts once the key has answered.
    page.wait_for_url(re.compile(r"/accounts/2fa/$"))
    page.goto("/accounts/2fa/webauthn/")
    expect(page.get_by_role("cell", name="Work laptop")).to_be_visible()
    sign_out(page)

    login(page, "msl")
    assert "/accounts/2fa/authenticate/" in page.url
    page.get_by_role("button", name="Use a security key or passkey").click()
    page.wait_for_url("**/physicians/")
