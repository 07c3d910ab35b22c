"""Length of stay in whole days (issue 15): admission to discharge on a discharged case, days so
far on an admitted one; on the case page, the worklist's admitted and discharged groups, the
print view and the CSV export of cases, from the one annotation."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from patients.choices import Stage
from patients.models import Case
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

ADMITTED = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


def _discharged(nurse, days: dt.timedelta, **fields) -> Case:
    return CaseFactory(
        assigned_liaison=nurse,
        stage=Stage.DISCHARGED,
        admitted_at=ADMITTED,
        discharged_at=ADMITTED + days,
        discharge_disposition="home",
        **fields,
    )


def _admitted(nurse, ago: dt.timedelta, **fields) -> Case:
    return CaseFactory(assigned_liaison=nurse, stage=Stage.ADMITTED, admitted_at=timezone.now() - ago, **fields)


def _stay(case: Case, now: dt.datetime | None = None) -> int | None:
    return Case.objects.with_length_of_stay(now).get(pk=case.pk).length_of_stay_days


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (dt.timedelta(days=7), 7),
        (dt.timedelta(days=6, hours=23, minutes=59), 6),  # whole days: a part day is not counted
        (dt.timedelta(hours=5), 0),
        (dt.timedelta(days=30, seconds=1), 30),
    ],
)
def test_a_discharged_case_s_length_of_stay_is_whole_days_from_admission_to_discharge(nurse, days, expected):
    case = _discharged(nurse, days)
    assert _stay(case) == expected
    assert _stay(case, now=timezone.now() + dt.timedelta(days=400)) == expected  # now does not matter


def test_an_admitted_case_counts_its_days_so_far_and_an_unadmitted_one_has_none(nurse):
    admitted = _admitted(nurse, dt.timedelta(days=3, hours=2))
    assert _stay(admitted) == 3
    assert _stay(admitted, now=timezone.now() + dt.timedelta(days=2)) == 5
    assert _stay(CaseFactory(assigned_liaison=nurse)) is None


def test_the_case_page_and_the_print_view_show_the_length_of_stay(nurse, client_for):
    client = client_for(nurse)
    discharged = _discharged(nurse, dt.timedelta(days=12, hours=3))
    admitted = _admitted(nurse, dt.timedelta(days=1, hours=1))
    referred = CaseFactory(assigned_liaison=nurse)
    for page in ("patients:case_detail", "patients:case_print"):
        assert "Length of stay: 12 days" in client.get(reverse(page, args=[discharged.pk])).content.decode()
        assert "Admitted 1 day so far" in client.get(reverse(page, args=[admitted.pk])).content.decode()
        html = client.get(reverse(page, args=[referred.pk])).content.decode()
        assert "Length of stay" not in html and "so far" not in html


def _group(response, stage: str) -> dict:
    return next(g for g in response.context["groups"] if g["stage"] == stage)


def test_the_worklist_shows_the_stay_in_its_admitted_and_discharged_groups(nurse, client_for):
    _discharged(nurse, dt.timedelta(days=9, hours=4))
    _admitted(nurse, dt.timedelta(days=4, hours=1))
    CaseFactory(assigned_liaison=nurse)
    response = client_for(nurse).get(reverse("patients:worklist"), {"stage": "all"})
    assert [c.length_of_stay_days for c in _group(response, Stage.DISCHARGED)["cases"]] == [9]
    assert [c.length_of_stay_days for c in _group(response, Stage.ADMITTED)["cases"]] == [4]
    html = response.content.decode()
    sections = {
        s.split('"', 1)[0]: s for s in html.split('<section class="worklist-group mb-4" aria-labelledby="stage-')[1:]
    }
    assert '<th scope="col">Days so far</th>' in sections["admitted"] and "<td>4 d</td>" in sections["admitted"]
    assert '<th scope="col">Length of stay</th>' in sections["discharged"] and "<td>9 d</td>" in sections["discharged"]
    assert "Days so far" not in sections["referred"] and "Length of stay" not in sections["referred"]


@pytest.mark.parametrize("rows", [2, 20])
def test_the_worklist_reads_the_stay_with_its_cases(rows, nurse, client_for, django_assert_max_num_queries):
    for i in range(rows):
        _discharged(nurse, dt.timedelta(days=i + 1))
    client = client_for(nurse)
    client.get(reverse("patients:worklist"), {"stage": "discharged"})
    # session, user; the cases of the page (the stay computed in their query), consents,
    # coverages, medications
    with django_assert_max_num_queries(2 + 5):
        response = client.get(reverse("patients:worklist"), {"stage": "discharged"})
    assert sorted(c.length_of_stay_days for c in _group(response, Stage.DISCHARGED)["cases"]) == list(
        range(1, rows + 1)
    )


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_the_export_of_cases_has_the_length_of_stay(nurse, other_nurse, client_for):
    discharged = _discharged(nurse, dt.timedelta(days=5, hours=20), program="Wound care")
    admitted = _admitted(nurse, dt.timedelta(days=2, hours=3))
    referred = CaseFactory(assigned_liaison=nurse)
    _discharged(other_nurse, dt.timedelta(days=3))  # another team's
    rows = _csv(client_for(nurse).get(reverse("patients:worklist_export"), {"stage": "all"}))
    header = rows[0]
    stay = header.index("Length of stay (days, so far while admitted)")
    by_case = {int(r[0]): r for r in rows[1:]}
    assert set(by_case) == {discharged.pk, admitted.pk, referred.pk}
    assert by_case[discharged.pk][stay] == "5"
    assert by_case[admitted.pk][stay] == "2"
    assert by_case[referred.pk][stay] == ""
    assert by_case[discharged.pk][header.index("MRN")] == discharged.patient.mrn
    assert by_case[discharged.pk][header.index("Program")] == "Wound care"
    assert by_case[discharged.pk][header.index("Discharge disposition")] == "Home"


def test_the_export_follows_the_worklist_filters(nurse, client_for):
    discharged = _discharged(nurse, dt.timedelta(days=5))
    _admitted(nurse, dt.timedelta(days=2))
    rows = _csv(client_for(nurse).get(reverse("patients:worklist_export"), {"stage": "discharged"}))
    assert [int(r[0]) for r in rows[1:]] == [discharged.pk]


def test_each_exported_case_is_an_audited_access(nurse, client_for):
    cases = [_discharged(nurse, dt.timedelta(days=3)), _admitted(nurse, dt.timedelta(days=1))]
    _csv(client_for(nurse).get(reverse("patients:worklist_export"), {"stage": "all"}))
    # One entry for the file, naming every case and patient in it (patients/audit.py).
    (entry,) = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert entry.actor == nurse
    assert entry.additional_data["kind"] == "export"
    assert entry.additional_data["patients"] == {str(c.patient_id): [c.pk] for c in cases}


@pytest.mark.parametrize("rows", [2, 20])
def test_the_export_costs_the_same_queries_for_any_number_of_cases(
    rows, nurse, client_for, django_assert_max_num_queries
):
    for i in range(rows):
        _discharged(nurse, dt.timedelta(days=i + 1))
    client = client_for(nurse)
    _csv(client.get(reverse("patients:worklist_export"), {"stage": "all"}))
    # session, user; the cases for the audit entries, their insert; the rows of the file
    with django_assert_max_num_queries(2 + 3):
        assert len(_csv(client.get(reverse("patients:worklist_export"), {"stage": "all"}))) == rows + 1


def test_outsiders_and_msls_do_not_export_cases(nurse, other_nurse, msl, client_for):
    _discharged(nurse, dt.timedelta(days=3))
    assert client_for(msl).get(reverse("patients:worklist_export")).status_code == 403
    rows = _csv(client_for(other_nurse).get(reverse("patients:worklist_export"), {"stage": "all"}))
    assert rows[1:] == []
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()
