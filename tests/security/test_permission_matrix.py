"""The permission matrix: every URL pattern × every role × its methods, against an explicit table.

The URL patterns are walked from the resolver, so a new page cannot escape this test: a pattern
missing from EXPECTED fails `test_every_url_pattern_is_in_the_table`.

Roles: anonymous; msl / msl_other (two medical-affairs teams); nurse / nurse_other (two
clinical-liaison teams); manager (leads the teams of msl and nurse) / manager_other (leads the
others'); admin. Every record in the world belongs to the teams of msl, nurse and manager, so
for a detail page the "other" users are the outsiders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .world import World, build_world

ROLES = ["anonymous", "msl", "msl_other", "nurse", "nurse_other", "manager", "manager_other", "admin"]

LOGIN = "login"  # 302 to the login page
OK = 200
FORBIDDEN = 403
HIDDEN = 404
NOT_ALLOWED = 405
# A write endpoint that the role may use, hit with an empty body: the form re-renders with
# errors (200/422), or a service refuses it (400/409), or the action succeeds and redirects.
WRITE = "write"
WRITE_STATUSES = {200, 302, 400, 409, 422}


def every(status, **overrides) -> dict[str, object]:
    table = dict.fromkeys(ROLES, status)
    table["anonymous"] = LOGIN
    table.update(overrides)
    return table


@dataclass
class Row:
    """Expected statuses for one URL name; kwargs build the URL from the world."""

    get: dict[str, object] | None = None
    post: dict[str, object] | None = None
    kwargs: Callable[[World], dict] = field(default=lambda w: {})


MEDICAL_SIDE = every(OK, nurse=FORBIDDEN, nurse_other=FORBIDDEN)
PHI_SIDE = every(OK, msl=FORBIDDEN, msl_other=FORBIDDEN)
SIGNED_IN = every(OK)
# A page about one record of the first teams: outsiders (other team) get 404, MSLs 403.
CASE_PAGE = every(OK, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse_other=HIDDEN, manager_other=HIDDEN)
CASE_WRITE = every(WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse_other=HIDDEN, manager_other=HIDDEN)
MANAGERS_ONLY = every(OK, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN)


def case(w: World) -> dict:
    return {"pk": w.case.pk}


EXPECTED: dict[str, Row] = {
    "home": Row(get=every(302)),
    "healthz": Row(get=every(OK, anonymous=OK)),
    "login": Row(get=every(302, anonymous=OK), post=every(302, anonymous=OK)),
    "logout": Row(get=every(NOT_ALLOWED), post=every(302, anonymous=302)),
    "password_change": Row(get=SIGNED_IN, post=every(OK)),
    "physicians:list": Row(get=MEDICAL_SIDE),
    "patients:worklist": Row(get=PHI_SIDE, post=every(NOT_ALLOWED, msl=FORBIDDEN, msl_other=FORBIDDEN)),
    "patients:referral_new": Row(get=PHI_SIDE, post=every(WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN)),
    "patients:referral_sources": Row(get=PHI_SIDE),
    "patients:audit": Row(get=MANAGERS_ONLY),
    "patients:patient_detail": Row(get=CASE_PAGE, kwargs=lambda w: {"pk": w.patient.pk}),
    "patients:case_detail": Row(get=CASE_PAGE, kwargs=case),
    "patients:case_print": Row(get=CASE_PAGE, kwargs=case),
    "patients:stage_bar": Row(get=CASE_PAGE, kwargs=case),
    "patients:case_edit": Row(get=CASE_PAGE, post=CASE_WRITE, kwargs=case),
    "patients:case_assign": Row(
        post=every(
            WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN
        ),
        kwargs=case,
    ),
    "patients:patient_edit": Row(get=CASE_PAGE, post=CASE_WRITE, kwargs=case),
    "patients:case_transition": Row(post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "action": "decline"}),
    "patients:eligibility": Row(post=CASE_WRITE, kwargs=case),
    "patients:checklist_item": Row(post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item": "records_reviewed"}),
    "patients:medication_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:medication_edit": Row(
        get=CASE_PAGE, post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item_pk": w.medication.pk}
    ),
    "patients:coverage_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:coverage_edit": Row(
        get=CASE_PAGE, post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item_pk": w.coverage.pk}
    ),
    "patients:consent_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:consent_edit": Row(
        get=CASE_PAGE, post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item_pk": w.consent.pk}
    ),
    "patients:communication_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:follow_up_add": Row(post=CASE_WRITE, kwargs=case),
    "outreach:follow_ups": Row(get=SIGNED_IN),
    # MSLs and liaisons are sent to the personal dashboard of their own side.
    "reporting:dashboard": Row(get=every(OK, msl=302, msl_other=302, nurse=302, nurse_other=302)),
    "reporting:msl": Row(get=MEDICAL_SIDE),
    "reporting:clinical": Row(get=PHI_SIDE),
    "reporting:export": Row(get=PHI_SIDE, kwargs=lambda w: {"key": "referral_funnel"}),
}


def walk(patterns, prefix: str = "", namespace: str | None = None) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(filter(None, [namespace, pattern.namespace])) or None
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name


def project_patterns() -> list[tuple[str, str]]:
    """Every URL pattern of the project except the Django admin (tested in test_admin_access)."""
    return [(route, name) for route, name in walk(get_resolver().url_patterns) if not route.startswith("admin/")]


def test_every_url_pattern_is_in_the_table():
    routes = project_patterns()
    unnamed = [route for route, name in routes if not name]
    assert not unnamed, f"URL patterns without a name cannot be checked: {unnamed}"
    missing = sorted({name for _, name in routes} - set(EXPECTED))
    assert not missing, f"URL patterns missing from the permission matrix: {missing}"
    stale = sorted(set(EXPECTED) - {name for _, name in routes})
    assert not stale, f"The permission matrix names URLs that no longer exist: {stale}"


def _status_matches(expected, response) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(reverse("login"))
    if expected == WRITE:
        return response.status_code in WRITE_STATUSES
    return response.status_code == expected


@pytest.mark.django_db
def test_permission_matrix():
    world = build_world()
    clients: dict[str, Client] = {}
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        clients[role] = client

    failures: list[str] = []
    for name, row in EXPECTED.items():
        url = reverse(name, kwargs=row.kwargs(world))
        for method, table in (("GET", row.get), ("POST", row.post)):
            if table is None:
                continue
            for role in ROLES:
                client = clients[role]
                response = client.get(url) if method == "GET" else client.post(url, {})
                if not _status_matches(table[role], response):
                    failures.append(f"{method} {url} as {role}: expected {table[role]}, got {response.status_code}")
                if name == "logout" and method == "POST" and role != "anonymous":
                    client.force_login(world.users[role])  # logging out must not end the matrix
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_admin_is_reachable_only_by_admins():
    world = build_world()
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        response = client.get("/admin/")
        if role == "admin":
            assert response.status_code == 200
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"], role


@pytest.mark.django_db
def test_every_state_change_requires_a_csrf_token():
    world = build_world()
    failures = []
    for name, row in EXPECTED.items():
        if row.post is None:
            continue
        url = reverse(name, kwargs=row.kwargs(world))
        # The most privileged role that may post here, so a 403 can only come from CSRF.
        role = next(
            r for r in ("admin", "manager", "nurse", "msl", "anonymous") if row.post[r] not in (FORBIDDEN, HIDDEN)
        )
        client = Client(enforce_csrf_checks=True)
        if role != "anonymous":
            client.force_login(world.users[role])
        response = client.post(url, {})
        if response.status_code != 403 or b"CSRF" not in response.content:
            failures.append(f"POST {url} as {role} without a CSRF token: {response.status_code}")
    assert not failures, "\n".join(failures)
