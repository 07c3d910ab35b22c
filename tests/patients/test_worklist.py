"""The worklist's rows (a loop in templates/patients/worklist.html) and its filter bar: what a
nurse sees in each cell, read from the page as a browser would."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.lookups import people_in_scope
from accounts.models import User
from patients import services
from patients.filters import CaseFilter
from patients.models import Case
from tests.factories import CaseFactory, InstitutionFactory, PhysicianFactory, UserFactory

pytestmark = pytest.mark.django_db

XSS = "<script>alert(1)</script>"


class _Rows(HTMLParser):
    """The <tr>s of the worklist tables' bodies: the row's class and, per cell, its text, its
    links (href, text) and its badges (text)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[dict] = []
        self.in_body = False
        self.stack: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append({"class": a.get("class") or "", "cells": []})
        elif self.in_body and tag == "td":
            self.rows[-1]["cells"].append({"text": "", "links": [], "badges": []})
        self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not (self.in_body and self.rows and self.rows[-1]["cells"]):
            return
        cell = self.rows[-1]["cells"][-1]
        cell["text"] = " ".join(f"{cell['text']} {data}".split())  # text of sibling elements, spaced
        tag, attrs = self.stack[-1] if self.stack else ("", {})
        if tag == "a" and data.strip():
            cell["links"].append((attrs.get("href"), data.strip()))
        if tag == "span" and "badge" in (attrs.get("class") or "") and data.strip():
            cell["badges"].append(data.strip())


def _rows(response) -> dict[str, dict]:
    """Rows by the text of their first cell's link (the patient's name)."""
    parser = _Rows()
    parser.feed(response.content.decode())
    return {row["cells"][0]["links"][0][1]: row for row in parser.rows}


COLUMNS = ["patient", "program", "priority", "in_stage", "next_step", "liaison", "source"]


def _cells(row: dict) -> dict[str, dict]:
    return dict(zip(COLUMNS, row["cells"], strict=True))


def test_a_row_links_the_patient_to_the_case_and_shows_the_mrn(nurse, client_for):
    case = CaseFactory(
        assigned_liaison=nurse, patient__first_name="Ada", patient__last_name="Lovelace", patient__mrn="MRN-77"
    )
    cells = _cells(_rows(client_for(nurse).get(reverse("patients:worklist")))["Lovelace, Ada"])
    assert cells["patient"]["links"] == [(reverse("patients:case_detail", args=[case.pk]), "Lovelace, Ada")]
    assert cells["patient"]["text"] == "Lovelace, Ada MRN MRN-77"
    assert cells["program"]["text"] == "Cardiac rehabilitation"


def test_priority_and_overdue_badges(nurse, client_for):
    CaseFactory(assigned_liaison=nurse, patient__last_name="Urgentson", patient__first_name="U", priority="urgent")
    late = CaseFactory(assigned_liaison=nurse, patient__last_name="Lateby", patient__first_name="L")
    Case.objects.filter(pk=late.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=5, hours=1))
    rows = _rows(client_for(nurse).get(reverse("patients:worklist")))
    urgent, overdue = _cells(rows["Urgentson, U"]), _cells(rows["Lateby, L"])
    assert urgent["priority"]["badges"] == ["Urgent"] and overdue["priority"]["badges"] == ["Standard"]
    # A referral waits a day at most (PATIENTS_STAGE_SLA_DAYS): five days is overdue.
    assert overdue["in_stage"]["text"] == "5 d Overdue" and overdue["in_stage"]["badges"] == ["Overdue"]
    assert rows["Lateby, L"]["class"] == "table-warning"
    assert urgent["in_stage"]["text"] == "0 d" and urgent["in_stage"]["badges"] == []
    assert rows["Urgentson, U"]["class"] == ""


def test_next_step_and_liaison_or_a_dash(nurse, manager, client_for):
    evaluating = CaseFactory(assigned_liaison=nurse, patient__last_name="Evalson", patient__first_name="E")
    services.start_evaluation(case=evaluating, by=nurse)
    CaseFactory(assigned_liaison=None, team=nurse.team, patient__last_name="Nobody", patient__first_name="N")
    rows = _rows(client_for(manager).get(reverse("patients:worklist")))
    assert _cells(rows["Evalson, E"])["next_step"]["text"] == "medical records not reviewed"
    assert _cells(rows["Evalson, E"])["liaison"]["text"] == str(nurse)
    assert _cells(rows["Nobody, N"])["next_step"]["text"] == "start the evaluation"
    assert _cells(rows["Nobody, N"])["liaison"]["text"] == "—"


def test_referral_source_is_the_physician_the_institution_or_the_other_source(nurse, client_for):
    physician = PhysicianFactory(first_name="Jo", last_name="Hart", credentials="MD")
    CaseFactory(
        assigned_liaison=nurse, patient__last_name="Phys", patient__first_name="P", referral_physician=physician
    )
    CaseFactory(
        assigned_liaison=nurse,
        patient__last_name="Inst",
        patient__first_name="I",
        referral_institution=InstitutionFactory(name="Mercy General"),
        referral_source_other="Walk-in",
    )
    CaseFactory(assigned_liaison=nurse, patient__last_name="None", patient__first_name="N")
    rows = _rows(client_for(nurse).get(reverse("patients:worklist")))
    assert _cells(rows["Phys, P"])["source"]["text"] == str(physician)
    assert _cells(rows["Inst, I"])["source"]["text"] == "Mercy General (Boston) · Walk-in"
    assert _cells(rows["None, N"])["source"]["text"] == "—"


def test_rows_escape_what_was_typed(nurse, client_for):
    CaseFactory(
        assigned_liaison=nurse,
        patient__first_name=XSS,
        patient__last_name="O'Hara & Co",
        program=f"Rehab {XSS}",
        referral_source_other=f'Walk-in "desk" {XSS}',
        referral_institution=InstitutionFactory(name="St <Mary>"),
    )
    response = client_for(nurse).get(reverse("patients:worklist"))
    html = response.content.decode()
    assert XSS not in html
    assert "O&#x27;Hara &amp; Co, &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Rehab &lt;script&gt;" in html and "St &lt;Mary&gt;" in html and "Walk-in &quot;desk&quot;" in html
    cells = _cells(_rows(response)[f"O'Hara & Co, {XSS}"])
    assert cells["program"]["text"] == f"Rehab {XSS}"


def test_the_rows_are_grouped_by_stage_in_the_worklists_order(nurse, client_for):
    CaseFactory(assigned_liaison=nurse, patient__last_name="Ref", patient__first_name="R")
    evaluating = CaseFactory(assigned_liaison=nurse, patient__last_name="Eva", patient__first_name="E")
    services.start_evaluation(case=evaluating, by=nurse)
    html = client_for(nurse).get(reverse("patients:worklist")).content.decode()
    assert html.index('id="stage-referred"') < html.index("Ref, R") < html.index('id="stage-evaluating"')
    assert html.index('id="stage-evaluating"') < html.index("Eva, E")


# --- the filter bar ----------------------------------------------------------------------------


def test_the_filter_bar_has_a_label_for_every_control_and_the_liaison_picker(nurse, client_for):
    html = client_for(nurse).get(reverse("patients:worklist")).content.decode()
    bar = html[html.index('aria-label="Filter cases"') : html.index("</form>", html.index('aria-label="Filter cases"'))]
    for name in ("q", "scope", "stage", "priority", "liaison", "program", "date_from", "date_to"):
        assert f'for="id_{name}"' in bar and f'id="id_{name}"' in bar, name
    assert 'for="id_team"' not in bar  # a liaison works in one team
    assert f'data-lookup-url="{reverse("lookup_liaisons")}"' in bar
    # No liaison chosen: the picker holds only its empty choice.
    liaison = bar[bar.index('name="liaison"') : bar.index("</select>", bar.index('name="liaison"'))]
    assert liaison.count("<option") == 1


def test_the_liaison_filter_shows_the_chosen_liaison_and_refuses_one_of_another_team(
    nurse, nurse_teammate, other_nurse, client_for
):
    CaseFactory(assigned_liaison=nurse_teammate, patient__last_name="Mateson")
    client = client_for(nurse)
    response = client.get(reverse("patients:worklist"), {"scope": "team", "liaison": nurse_teammate.pk})
    assert f'<option value="{nurse_teammate.pk}" selected>{nurse_teammate}</option>' in response.content.decode()
    assert [c.patient.last_name for g in response.context["groups"] for c in g["cases"]] == ["Mateson"]
    # Another team's liaison is not a choice: the filter is invalid, nothing is listed or named.
    response = client.get(reverse("patients:worklist"), {"scope": "team", "liaison": other_nurse.pk})
    assert response.context["groups"] == []
    assert str(other_nurse) not in response.content.decode()
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("who", ["nurse", "manager", "admin_user"])
def test_the_liaison_filter_offers_what_the_liaison_picker_offers(who, request, nurse, nurse_teammate, other_nurse):
    """people_in_scope(user, liaison) is the former rule: active liaisons of the user's teams,
    every team for an administrator."""
    UserFactory(username="gone", role=User.Role.CLINICAL_LIAISON, team=nurse.team, is_active=False)
    user = request.getfixturevalue(who)
    offered = set(CaseFilter({}, queryset=Case.objects.all(), user=user).filters["liaison"].queryset)
    expected = {nurse, nurse_teammate} | ({other_nurse} if who == "admin_user" else set())
    assert offered == expected == set(people_in_scope(user, User.Role.CLINICAL_LIAISON))
