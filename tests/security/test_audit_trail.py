"""The audit trail cannot be edited or deleted through the application, not even by an admin."""

from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.test import Client

from .test_permission_matrix import EXPECTED, LOGIN, NOT_ALLOWED
from .world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world_with_entries():
    world = build_world()
    nurse = Client()
    nurse.force_login(world.users["nurse"])
    assert nurse.get(f"/patients/cases/{world.case.pk}/").status_code == 200  # an access entry
    assert LogEntry.objects.exists()
    return world


def test_admin_lists_the_audit_log_but_cannot_add_change_or_delete(world_with_entries):
    world = world_with_entries
    admin = Client()
    admin.force_login(world.users["admin"])
    entry = LogEntry.objects.order_by("pk").last()
    snapshot = list(LogEntry.objects.order_by("pk").values())
    assert admin.get("/admin/auditlog/logentry/").status_code == 200
    assert admin.get("/admin/auditlog/logentry/add/").status_code == 403
    assert admin.post("/admin/auditlog/logentry/add/", {"action": 0}).status_code == 403
    # The change page is read-only: a POST changes nothing.
    admin.post(f"/admin/auditlog/logentry/{entry.pk}/change/", {"changes": "{}", "object_repr": "forged"})
    assert admin.get(f"/admin/auditlog/logentry/{entry.pk}/delete/").status_code == 403
    assert admin.post(f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    changelist = admin.get("/admin/auditlog/logentry/").content.decode()
    assert not re.search(r'<option value="delete_selected"', changelist)
    admin.post(
        "/admin/auditlog/logentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert list(LogEntry.objects.order_by("pk").values()) == snapshot


def test_no_application_url_edits_the_audit_trail(world_with_entries):
    """Every URL of the matrix is named; none of them is about log entries except the managers' read-only
    page (and the picker of its "user" filter, which lists people and takes no POST)."""
    audit_urls = [name for name in EXPECTED if "audit" in name]
    assert audit_urls == ["patients:audit", "patients:lookup_audit_people"]
    assert EXPECTED["patients:audit"].post is None
    assert set(EXPECTED["patients:lookup_audit_people"].post.values()) == {LOGIN, NOT_ALLOWED}
    manager = Client()
    manager.force_login(world_with_entries.users["manager"])
    before = LogEntry.objects.count()
    assert manager.post("/patients/audit/", {"delete": "all"}).status_code == 405
    assert LogEntry.objects.count() >= before
