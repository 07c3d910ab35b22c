"""Two people edit the same case at once, through real HTTP: no lost update.

Both open the edit form; the first to submit wins; the second gets a clear conflict (409 with a
message) and nothing of theirs is written. Then both submit at the same instant: exactly one wins.
"""

from __future__ import annotations

import re
import secrets
import threading

from .conftest import db_value, record, server_problems
from .http import Session, form_fields

CONFLICT = "changed by someone else"


def _changeable_case(nurse: Session) -> str:
    for case_id in dict.fromkeys(re.findall(r"/patients/cases/(\d+)/", nurse.get("/patients/").body)):
        if nurse.get(f"/patients/cases/{case_id}/edit/").status == 200:
            return case_id
    raise AssertionError("the nurse can change none of the cases on her worklist")


def _both_open(a: Session, b: Session, path: str) -> tuple[dict, dict]:
    return form_fields(a.get(path).body, path), form_fields(b.get(path).body, path)


def test_two_users_editing_one_case_lose_no_update(server):
    run = secrets.token_hex(3)
    nurse, manager = Session(server.url), Session(server.url)
    nurse.login("nurse")
    manager.login("manager")
    case_id = _changeable_case(nurse)
    version = lambda: db_value("SELECT version FROM patients_case WHERE id = %s", (case_id,))  # noqa: E731
    outcomes = []

    # 1. Referral details (case_edit): one after the other from the same stale version.
    path = f"/patients/cases/{case_id}/edit/"
    mine, theirs = _both_open(nurse, manager, path)
    before = version()
    first = nurse.post(path, {**mine, "reason": f"Nurse {run}"})
    second = manager.post(path, {**theirs, "reason": f"Manager {run}"})
    assert first.status == 302, first.body[:2000]
    assert second.status == 409 and CONFLICT in second.body, (second.status, second.body[:2000])
    assert db_value("SELECT reason FROM patients_case WHERE id = %s", (case_id,)) == f"Nurse {run}"
    assert version() == before + 1
    page = manager.get(f"/patients/cases/{case_id}/").body
    assert f"Nurse {run}" in page and f"Manager {run}" not in page
    outcomes.append(("case details", first.status, second.status))

    # 2. Patient demographics (patient_edit) are a case-level write too.
    path = f"/patients/cases/{case_id}/patient/"
    mine, theirs = _both_open(nurse, manager, path)
    first = nurse.post(path, {**mine, "pat-phone": f"555-{run}"})
    second = manager.post(path, {**theirs, "pat-phone": f"555-x{run}"})
    assert first.status == 302, first.body[:2000]
    assert second.status == 409 and CONFLICT in second.body, (second.status, second.body[:2000])
    phone = db_value(
        "SELECT p.phone FROM patients_patient p JOIN patients_case c ON c.patient_id = p.id WHERE c.id = %s",
        (case_id,),
    )
    assert phone == f"555-{run}"
    outcomes.append(("patient details", first.status, second.status))

    # 3. Both submit at the same instant, 10 times: exactly one wins each time.
    path = f"/patients/cases/{case_id}/edit/"
    races = []
    for attempt in range(10):
        forms = _both_open(nurse, manager, path)
        before = version()
        barrier = threading.Barrier(2)
        results: dict[str, int] = {}

        def submit(who: str, session: Session, fields: dict, attempt=attempt, barrier=barrier, results=results):
            barrier.wait()
            results[who] = session.post(path, {**fields, "reason": f"{who} {run} {attempt}"}).status

        threads = [
            threading.Thread(target=submit, args=("Nurse", nurse, forms[0])),
            threading.Thread(target=submit, args=("Manager", manager, forms[1])),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results.values()) == [302, 409], results
        winner = next(who for who, status in results.items() if status == 302)
        assert db_value("SELECT reason FROM patients_case WHERE id = %s", (case_id,)) == f"{winner} {run} {attempt}"
        assert version() == before + 1
        races.append(winner)
    assert not server_problems(server), server_problems(server)
    record(
        "Two users editing the same case",
        sequential_edits=", ".join(f"{what}: first {a}, second {b} (conflict message)" for what, a, b in outcomes),
        simultaneous_submissions=f"{len(races)} races, each exactly one 302 and one 409 "
        f"(winners: {races.count('Nurse')} nurse, {races.count('Manager')} manager)",
        lost_updates=0,
    )
