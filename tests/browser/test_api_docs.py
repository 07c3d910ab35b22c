"""The API's documentation (Swagger UI, vendored) works in a real browser under the CSP: its
scripts are files of our own origin, and "Try it out" sends the session's CSRF token."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import login


def test_swagger_ui_lists_the_operations_and_runs_one_with_the_session(page, msl):
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    login(page, "msl")
    page.goto("/api/v1/docs/")
    operation = page.locator(".opblock-summary", has_text="/api/v1/physicians/").first
    expect(operation).to_be_visible()
    operation.click()
    page.get_by_role("button", name="Try it out").first.click()
    with page.expect_response(lambda r: "/api/v1/physicians/" in r.url and r.request.method == "GET") as answer:
        page.get_by_role("button", name="Execute").first.click()
    assert answer.value.status == 200
    assert "results" in answer.value.json()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused to" in p], problems
