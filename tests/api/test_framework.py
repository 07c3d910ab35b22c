"""What every API request shares: the schema and its documentation, session and token sign-in,
throttling in the cache, and refusals as JSON with a reason."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from liaison_crm.api.exceptions import exception_handler
from patients.services import StaleCaseError

ROOT = "/api/v1/"


def test_the_schema_is_openapi_3_as_json_and_valid(api_for, msl):
    response = api_for(msl).get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert schema["components"]["securitySchemes"]["personalToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token, made on /accounts/api-tokens/ (shown once).",
    }


def test_nothing_is_answered_without_credentials(db):
    for url in (ROOT, "/api/v1/schema/?format=json"):
        response = APIClient().get(url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Bearer"


def test_the_docs_page_is_swagger_ui_from_vendored_files_under_the_csp(client_for, msl):
    assert Client().get("/api/v1/docs/").status_code == 302  # signed out: to the login page
    client = client_for(msl)
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert f'"/static/vendor/swagger-ui/{name}"' in html
        assert finders.find(f"vendor/swagger-ui/{name}"), name
    assert "<script>" not in html  # the page's own script is a file too (the split view)
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_the_browser_session_works_with_its_csrf_token(msl):
    client = Client(enforce_csrf_checks=True)
    client.force_login(msl)
    assert client.get(ROOT).status_code == 200
    refused = client.post(ROOT, {}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    client.get("/accounts/api-tokens/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    allowed = client.post(ROOT, {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert allowed.status_code == 405  # past authentication and CSRF: the root takes no POST


def test_a_session_that_owes_its_second_factor_gets_json_not_a_redirect(settings, client_for, nurse):
    settings.MFA_REQUIRED_ROLES = ["clinical_liaison"]
    response = client_for(nurse).get(ROOT)
    assert response.status_code == 403
    body = response.json()
    assert body["detail"] == "This session has not passed the second factor yet."
    assert body["next"] == "/accounts/2fa/totp/activate/"


def test_requests_are_throttled_per_token_and_per_user_in_the_cache(settings, api_for, msl):
    settings.API_THROTTLE_RATES = {"token": "3/min", "user": "5/min"}
    first, second = api_for(msl), api_for(msl)
    assert [first.get(ROOT).status_code for _ in range(3)] == [200, 200, 200]
    # Another token of the same user has its own count, but shares the user's: 5 in all.
    assert [second.get(ROOT).status_code for _ in range(3)] == [200, 200, 429]
    assert first.get(ROOT).status_code == 429
    response = second.get(ROOT)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    if settings.REDIS_URL:
        import redis

        keys = redis.Redis.from_url(settings.REDIS_URL).keys("*throttle_*")
        assert {k.decode().rsplit(":", 1)[-1].rsplit("_", 1)[0] for k in keys} >= {"throttle_token", "throttle_user"}


class _Context:
    def __init__(self):
        self.context = {"view": None, "args": (), "kwargs": {}, "request": None}


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (ValidationError({"when": ["Not in the future."]}), 400, {"when": ["Not in the future."]}),
        (ValidationError("Closed follow-ups cannot be snoozed."), 400, {"non_field_errors": ["Closed follow-ups cannot be snoozed."]}),
        (ValidationError({"__all__": ["Not both."], "when": ["Too late."]}), 400, {"non_field_errors": ["Not both."], "when": ["Too late."]}),
        (StaleCaseError("The case changed since you opened it."), 409, {"detail": "The case changed since you opened it."}),
        (PermissionDenied("Only the assigned liaison."), 403, {"detail": "Only the assigned liaison."}),
    ],
)  # fmt: skip
def test_a_services_refusal_is_an_answer_with_its_reason(exc, status, body):
    response = exception_handler(exc, _Context().context)
    assert (response.status_code, response.data) == (status, body)


def test_an_unknown_route_or_an_id_that_is_no_number_is_a_json_404(api_for, msl):
    client = api_for(msl)
    for url in ("/api/v1/nothing/", "/api/v1/physicians/abc/", "/api/v1/physicians/%84/", "/api/v1/physicians/%0A/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "There is no such API route."}


def test_the_schema_generates_without_a_warning(tmp_path):
    """drf-spectacular warns where it has to guess (a field's type, a colliding enum name): each
    guess is a place where answers might not conform to the schema."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
