"""Every page issues the same number of queries at 2 rows and at 20 rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from patients import services
from patients.choices import ConsentStatus
from patients.models import Case
from tests.factories import CaseFactory, InstitutionFactory, PatientFactory, PhysicianFactory

from .conftest import complete_evaluation, make_admittable

pytestmark = pytest.mark.django_db

# Every signed-in request: session, user (with the team the navbar shows). (The idle-timeout
# stamp on the session is written at most once a minute: not on these warmed-up requests.)
PER_REQUEST = 2


def _worklist_rows(nurse, consent_form, n: int) -> None:
    """Referred, being evaluated, evaluated and ready to accept (its next step asks every tick's
    evidence again, the medical-record document among it), and accepted; each referred by a
    physician of an institution, as most referrals are."""
    for i in range(n):
        case = CaseFactory(
            assigned_liaison=nurse, referral_physician=PhysicianFactory(), referral_institution=InstitutionFactory()
        )
        if i % 4 >= 1:
            services.start_evaluation(case=case, by=nurse)
        if i % 4 >= 2:
            complete_evaluation(case, nurse)
        if i % 4 == 3:
            services.accept(case=case, by=nurse)
            make_admittable(case, nurse, consent_form)


@pytest.mark.parametrize("rows", [2, 20])
def test_worklist_query_count(rows, nurse, consent_form, client_for, django_assert_num_queries):
    _worklist_rows(nurse, consent_form, rows)
    client = client_for(nurse)
    client.get(reverse("patients:worklist"))  # warm caches (content types)
    # + the cases of the page (patient, liaison, evaluation, treatment plan joined; the length of
    #   stay computed), their referring physicians, their referring institutions, their consents
    #   (+form), their coverages, their medications (the evidence accept_blockers re-checks), the
    #   audit ACCESS insert (one for the page, whatever its rows). The liaison picker renders no options until one is chosen (it
    #   used to list every liaison of the team: one query).
    with django_assert_num_queries(PER_REQUEST + 7):
        response = client.get(reverse("patients:worklist"), {"scope": "team"})
    assert sum(len(g["cases"]) for g in response.context["groups"]) == rows
    # A chosen liaison: + that liaison, looked up by the filter (validation) and again by the
    #   picker (its label).
    with django_assert_num_queries(PER_REQUEST + 9):
        response = client.get(reverse("patients:worklist"), {"scope": "team", "liaison": nurse.pk})
    assert sum(len(g["cases"]) for g in response.context["groups"]) == rows


@pytest.mark.parametrize("rows", [2, 20])
def test_worklist_query_count_for_manager(rows, nurse, manager, consent_form, client_for, django_assert_num_queries):
    _worklist_rows(nurse, consent_form, rows)
    client = client_for(manager)
    client.get(reverse("patients:worklist"))
    # + managed teams (scope), the cases of the page, referring physicians, referring
    #   institutions, consents (+form), coverages, medications, the team filter's choices (a
    #   handful of teams: a plain select), the audit ACCESS insert
    with django_assert_num_queries(PER_REQUEST + 9):
        response = client.get(reverse("patients:worklist"))
    assert sum(len(g["cases"]) for g in response.context["groups"]) == rows


def _case_with_children(nurse, consent_form, n: int) -> Case:
    case = CaseFactory(assigned_liaison=nurse)
    services.start_evaluation(case=case, by=nurse)
    for i in range(n):
        services.save_medication(case=case, by=nurse, name=f"Drug {i}", dose="1 mg")
        services.save_coverage(
            case=case, by=nurse, payer=f"Payer {i}", member_id=str(i), is_primary=False, verified=True
        )
        consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure=f"Procedure {i}")
        services.update_consent(
            consent=consent, case=case, by=nurse, explained=True, teach_back_confirmed=True,
            interpreter_used=False, status=ConsentStatus.SIGNED, signed_by="patient",
        )  # fmt: skip
        services.log_communication(
            case=case, by=nurse, channel="phone", parties="liaison_patient", summary=f"Call {i}",
            occurred_at=timezone.now() - dt.timedelta(hours=i + 1),
        )  # fmt: skip
        services.add_case_follow_up(
            case=case, by=nurse, title=f"Task {i}", due_at=timezone.now() + dt.timedelta(days=1)
        )
    # Last, so the ticks' evidence is all there (the medications reconciled): the stage bar
    # names no medication.
    complete_evaluation(case, nurse)
    return case


@pytest.mark.parametrize("rows", [2, 20])
@pytest.mark.parametrize("page", ["patients:case_detail", "patients:case_print"])
def test_case_page_query_count(rows, page, nurse, consent_form, client_for, django_assert_num_queries):
    case = _case_with_children(nurse, consent_form, rows)
    client = client_for(nurse)
    client.get(reverse(page, args=[case.pk]))
    # + case (patient, liaison, creator, team, referral sources, treatment plan joined; the
    #   length of stay computed), evaluation (+reviewers),
    #   medications, coverages (+verifier), consents (+form, explainer), communications (+by),
    #   transitions (+by), the audit ACCESS insert, follow-ups, documents (+uploader, consent,
    #   coverage; documents.selectors.case_documents), the trial steps (+participation, trial,
    #   site; research.selectors.case_trials). The add forms load when opened
    #   (patients:case_form), so the case page no longer lists the consent forms for "add a
    #   consent" (one query less than before); the print page renders no forms at all.
    with django_assert_num_queries(PER_REQUEST + 10 + (page == "patients:case_detail")):
        response = client.get(reverse(page, args=[case.pk]))
    assert response.content.decode().count("Drug ") == rows


@pytest.mark.parametrize("rows", [2, 20])
def test_case_page_query_count_for_manager(rows, nurse, manager, consent_form, client_for, django_assert_num_queries):
    case = _case_with_children(nurse, consent_form, rows)
    client = client_for(manager)
    url = reverse("patients:case_detail", args=[case.pk])
    client.get(url)
    # + managed teams (scope), the same eleven as the liaison's page, and the assignment picker's
    #   chosen liaison (labelled; the picker lists no other option)
    with django_assert_num_queries(PER_REQUEST + 13):
        response = client.get(url)
    assert response.content.decode().count("Drug ") == rows


@pytest.mark.parametrize("kind", ["medication", "consent", "decline"])
def test_a_lazy_form_costs_a_few_queries(kind, case, nurse, consent_form, client_for, django_assert_num_queries):
    client = client_for(nurse)
    url = reverse("patients:case_form", args=[case.pk, kind])
    client.get(url, HTTP_HX_REQUEST="true")
    # + the case (with its patient, for the permission check); the consent form lists the
    #   consent forms
    with django_assert_num_queries(PER_REQUEST + 1 + (kind == "consent")):
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [2, 20])
def test_patient_page_query_count(rows, nurse, client_for, django_assert_num_queries):
    patient = PatientFactory()
    for _ in range(rows):
        CaseFactory(patient=patient, assigned_liaison=nurse)
    client = client_for(nurse)
    client.get(reverse("patients:patient_detail", args=[patient.pk]))
    # + patient (scoped), its cases (+liaison, team), the audit ACCESS insert
    with django_assert_num_queries(PER_REQUEST + 3):
        response = client.get(reverse("patients:patient_detail", args=[patient.pk]))
    assert len(response.context["cases"]) == rows


@pytest.mark.parametrize("rows", [2, 20])
def test_audit_page_query_count(rows, nurse, manager, client_for, django_assert_num_queries):
    case = CaseFactory(assigned_liaison=nurse)
    viewer = client_for(nurse)
    for _ in range(rows):
        viewer.get(reverse("patients:case_detail", args=[case.pk]))
    client = client_for(manager)
    client.get(reverse("patients:audit"))
    # + managed teams (scope), entries page (+actor, content type), the audit-page ACCESS insert.
    #   The user picker lists nobody until one is chosen (it used to list them all: one query).
    with django_assert_num_queries(PER_REQUEST + 3):
        response = client.get(reverse("patients:audit"), {"action": 3, "patient": case.patient_id})
    assert len(response.context["page_obj"].object_list) == min(rows, 25)
    # A chosen user: + that user, looked up by the form (validation) and again by the picker
    #   (its label).
    with django_assert_num_queries(PER_REQUEST + 5):
        response = client.get(reverse("patients:audit"), {"user": nurse.pk})
    assert len(response.context["page_obj"].object_list) == min(rows, 25)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="expression indexes on auditlog are PostgreSQL-only")
def test_the_audit_page_filters_have_their_indexes():
    from auditlog.models import LogEntry

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'auditlog_logentry'")
        names = {row[0] for row in cursor.fetchall()}
        assert {"patients_audit_team_ts_idx", "patients_audit_patient_ts_idx"} <= names
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = (
            LogEntry.objects.filter(additional_data__patient_id=5).order_by("-timestamp").query.sql_with_params()
        )
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "patients_audit_patient_ts_idx" in plan


def test_the_case_pages_read_names_not_password_hashes_or_unshown_phi(nurse, consent_form, client_for):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    case = _case_with_children(nurse, consent_form, 2)
    client = client_for(nurse)
    client.get("/")  # the session's own queries come first
    pages = [reverse("patients:case_detail", args=[case.pk]), reverse("patients:worklist")]
    for url in pages:
        with CaptureQueriesContext(conn) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        page_queries = [q["sql"] for q in ctx.captured_queries if "django_session" not in q["sql"]]
        # The signed-in user's own row is loaded by authentication; the people shown are not.
        shown = [q for q in page_queries if "patients_" in q]
        assert shown and not any('"password"' in q for q in shown), url
        assert nurse.get_full_name() in response.content.decode()
    worklist_sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert '"address"' not in worklist_sql and '"emergency_contact_phone"' not in worklist_sql
    assert case.patient.mrn in response.content.decode()
