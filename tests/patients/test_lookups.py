"""patients.lookups.AUDIT_PEOPLE: the picker of the audit log's "user" filter (scope, limit,
search, roles), and the filter that takes its answers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from liaison_crm.lookups import MAX_RESULTS
from patients.forms import AuditFilterForm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "patients:lookup_audit_people"


def _values(client, **params) -> set[int]:
    response = client.get(reverse(URL), params)
    assert response.status_code == 200, response.content
    return {int(row["value"]) for row in response.json()["results"]}


def test_a_manager_picks_among_the_liaisons_and_managers_of_their_teams(
    manager, nurse, nurse_teammate, other_nurse, other_manager, msl, client_for
):
    gone = UserFactory(username="gone", role=User.Role.CLINICAL_LIAISON, team=nurse.team, is_active=False)
    co_manager = UserFactory(username="co_manager", role=User.Role.MANAGER, team=None)
    co_manager.managed_teams.add(nurse.team)
    values = _values(client_for(manager))
    # The audit log outlives accounts: a deactivated liaison is still someone to look up.
    assert values == {manager.pk, co_manager.pk, nurse.pk, nurse_teammate.pk, gone.pk}
    assert msl.pk not in values  # MSLs never read PHI: nothing of theirs is in the log
    # The outsider sees nobody of the first teams (the form's choices are the same people).
    assert _values(client_for(other_manager)) == {other_manager.pk, other_nurse.pk}
    assert set(AuditFilterForm(user=other_manager).fields["user"].queryset) == {other_manager, other_nurse}


def test_an_administrator_picks_among_everyone_who_reads_phi(admin_user, manager, nurse, other_nurse, msl, client_for):
    assert _values(client_for(admin_user)) == {admin_user.pk, manager.pk, nurse.pk, other_nurse.pk}


def test_it_searches_names_and_answers_at_most_twenty_in_constant_queries(manager, nurse, client_for):
    for i in range(MAX_RESULTS + 5):
        UserFactory(username=f"lee{i}", last_name="Lee", role=User.Role.CLINICAL_LIAISON, team=nurse.team)
    client = client_for(manager)
    client.get(reverse(URL))  # the session's first request records its activity
    with CaptureQueriesContext(connection) as ctx:
        rows = client.get(reverse(URL), {"q": "lee"}).json()["results"]
    assert len(rows) == MAX_RESULTS and all("Lee" in row["text"] for row in rows)
    # session, user, managed teams (scope), the matches
    assert len(ctx.captured_queries) == 4
    assert _values(client, q=nurse.last_name[:3]) >= {nurse.pk}


@pytest.mark.parametrize("who", ["nurse", "msl"])
def test_only_those_who_read_the_audit_log_may_ask(who, request, client_for):
    assert client_for(request.getfixturevalue(who)).get(reverse(URL)).status_code == 403


def test_the_audit_page_user_filter_is_the_picker(manager, nurse, client_for):
    client = client_for(manager)
    html = client.get(reverse("patients:audit")).content.decode()
    select = html[html.index('<select name="user"') : html.index("</select>", html.index('<select name="user"'))]
    assert f'data-lookup-url="{reverse(URL)}"' in select and select.count("<option") == 1
    assert 'for="id_user"' in html
    html = client.get(reverse("patients:audit"), {"user": nurse.pk}).content.decode()
    assert f'<option value="{nurse.pk}" selected>{nurse}</option>' in html


def test_the_audit_filter_refuses_someone_outside_the_teams(manager, other_nurse, client_for):
    response = client_for(manager).get(reverse("patients:audit"), {"user": other_nurse.pk})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode() and str(other_nurse) not in response.content.decode()
