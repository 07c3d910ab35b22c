"""One service-level engine: the ServiceLevelRule rows a manager edits in the admin drive the
follow-ups the rules open, the due dates of new inquiries, the worklist's gap filter and the
dashboards' figures and labels alike; no module keeps a copy of the numbers."""

from __future__ import annotations

import datetime as dt
import json
import pathlib

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outreach import rules
from outreach.models import FollowUp, ServiceLevelRule
from outreach.rules import ensure_rule_rows, parameters, run_rules
from patients.choices import Priority, Stage
from patients.models import Consent
from physicians import services as physician_services
from physicians.choices import InquiryPriority
from physicians.forms import InquiryForm
from reporting import selectors
from reporting.filters import resolve_scope
from tests.factories import CaseFactory, ConsentFormFactory, PhysicianFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def hours_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=n)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def edit_rule(key: str, *, enabled: bool = True, **params) -> ServiceLevelRule:
    """What the admin's change form does: validate the row, then save it."""
    ensure_rule_rows()
    rule = ServiceLevelRule.objects.get(key=key)
    rule.parameters = {**rule.parameters, **params}
    rule.enabled = enabled
    rule.full_clean()
    rule.save()
    return rule


def widget(response, key: str) -> dict:
    return next(w for w in response.context["widgets"] if w["widget"].key == key)


def stat(response, key: str, label_start: str):
    return next(s for s in widget(response, key)["stats"] if s.label.startswith(label_start))


def worklist_ids(client, **params) -> set[int]:
    response = client.get("/patients/", {"scope": "team", "stage": "all", **params})
    assert response.status_code == 200
    return {c.pk for group in response.context["groups"] for c in group["cases"]}


# --- the API ------------------------------------------------------------------------------------


def test_parameters_are_the_registered_defaults_until_the_admin_edits_them():
    assert parameters("kol_cadence") == {"tier1_days": 45, "tier2_days": 90, "tier3_days": 180}
    assert parameters("inquiry_due_soon") == {"urgent_days": 2, "standard_days": 10, "hours_before_due": 24}
    assert parameters("referral_not_evaluated") == {"urgent_hours": 2, "standard_hours": 48}
    assert parameters("consent_superseded") == {"due_hours": 0}
    assert parameters("admitted_no_communication") == {"days": 3}
    edit_rule("kol_cadence", tier1_days=30)
    assert parameters("kol_cadence") == {"tier1_days": 30, "tier2_days": 90, "tier3_days": 180}
    with pytest.raises(LookupError, match="no_such_rule"):
        parameters("no_such_rule")


def test_parameters_come_from_the_cache_and_a_save_or_delete_clears_it(django_assert_num_queries):
    ensure_rule_rows()
    with django_assert_num_queries(1):  # the rules, into the cache
        parameters("kol_cadence")
    with django_assert_num_queries(0):
        for _ in range(20):
            parameters("kol_cadence")
            parameters("admitted_no_communication")
            rules.fingerprint()
    before = rules.fingerprint()
    edit_rule("admitted_no_communication", days=5)
    assert parameters("admitted_no_communication") == {"days": 5}
    assert rules.fingerprint() != before
    ServiceLevelRule.objects.get(key="admitted_no_communication").delete()
    assert parameters("admitted_no_communication") == {"days": 3}  # the defaults again
    assert rules.fingerprint() == before


def test_an_edit_in_the_admin_changes_the_parameters_at_once(client_for, admin_user):
    ensure_rule_rows()
    parameters("admitted_no_communication")  # cached
    rule = ServiceLevelRule.objects.get(key="admitted_no_communication")
    url = reverse("admin:outreach_servicelevelrule_change", args=[rule.pk])
    client = client_for(admin_user)
    page = client.get(url)
    assert page.status_code == 200
    assert "still apply everywhere else" in page.content.decode()  # a disabled rule's parameters
    response = client.post(
        url, {"key": rule.key, "label": rule.label, "enabled": "", "parameters": json.dumps({"days": 6})}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert parameters("admitted_no_communication") == {"days": 6}
    # Bad input: a clear error, nothing written.
    response = client.post(url, {"key": rule.key, "label": rule.label, "parameters": json.dumps({"days": "soon"})})
    assert response.status_code == 200
    assert "days must be a number" in response.content.decode()
    rule.refresh_from_db()
    assert rule.parameters == {"days": 6} and not rule.enabled


def test_a_disabled_rule_opens_nothing_but_still_supplies_its_parameters(physician_and_msl):
    physician, msl = physician_and_msl
    edit_rule("inquiry_due_soon", enabled=False, urgent_days=1)
    inquiry = physician_services.record_inquiry(physician=physician, owner=msl, question="Dose?", priority="urgent")
    assert inquiry.due_at == NOW + dt.timedelta(days=1)
    assert "inquiry_due_soon" not in run_rules()
    assert not FollowUp.objects.filter(rule="inquiry_due_soon").exists()


@pytest.fixture
def physician_and_msl(msl):
    return PhysicianFactory(owner=msl), msl


# --- 1. KOL cadence per tier --------------------------------------------------------------------


def test_editing_kol_cadence_changes_its_follow_ups_and_the_dashboard(client_for, manager, msl):
    physician = PhysicianFactory(kol_tier=1, owner=msl, last_interaction_at=days_ago(30))
    client = client_for(manager)
    page = client.get("/reporting/msl/", {"range": "30d"})  # the widget cache, filled with 45 days
    assert widget(page, "kol_coverage")["data"][0] == {
        "tier": 1, "cadence_days": 45, "total": 1, "reached": 1, "not_reached": 0, "share": 100.0,
    }  # fmt: skip
    assert widget(page, "kols_not_reached")["data"] == []
    assert run_rules(only=["kol_cadence"]) == {"kol_cadence": 0}

    edit_rule("kol_cadence", tier1_days=20)

    page = client.get("/reporting/msl/", {"range": "30d"})
    coverage = widget(page, "kol_coverage")["data"][0]
    assert (coverage["cadence_days"], coverage["reached"], coverage["share"]) == (20, 0, 0.0)
    not_reached = widget(page, "kols_not_reached")
    assert [r["physician_id"] for r in not_reached["data"]] == [physician.pk]
    assert not_reached["rows"][0][2].value == 20  # its "Cadence (days)" column
    table = client.get(reverse("reporting:widget_table", args=["kol_coverage"]), {"range": "30d"})
    assert table.context["w"]["rows"][0][1].value == 20  # the coverage table's cadence
    assert run_rules(only=["kol_cadence"]) == {"kol_cadence": 1}
    follow_up = FollowUp.objects.get(rule="kol_cadence")
    assert follow_up.physician == physician and "tier 1 cadence is 20 days" in follow_up.title


# --- 2. Inquiry service level, urgent and standard ----------------------------------------------


def test_editing_the_inquiry_service_level_changes_new_inquiries_due_dates(physician_and_msl):
    physician, msl = physician_and_msl
    old = physician_services.record_inquiry(physician=physician, owner=msl, question="Dose?", priority="urgent")
    assert old.due_at == NOW + dt.timedelta(days=2)
    assert InquiryForm().fields["priority"].help_text == "Due in 2 days when urgent, 10 days otherwise."

    edit_rule("inquiry_due_soon", urgent_days=1, standard_days=5)

    urgent = physician_services.record_inquiry(physician=physician, owner=msl, question="Dose?", priority="urgent")
    standard = physician_services.record_inquiry(
        physician=physician, owner=msl, question="Dose?", priority=InquiryPriority.STANDARD
    )
    assert urgent.due_at == NOW + dt.timedelta(days=1)
    assert standard.due_at == NOW + dt.timedelta(days=5)
    assert InquiryForm().fields["priority"].help_text == "Due in 1 days when urgent, 5 days otherwise."
    # An inquiry recorded before keeps its due date when edited, unless its clock moves.
    physician_services.update_inquiry(inquiry=old, by=msl, question="Dose in renal impairment?")
    old.refresh_from_db()
    assert old.due_at == NOW + dt.timedelta(days=2)
    physician_services.update_inquiry(inquiry=old, by=msl, priority=InquiryPriority.STANDARD)
    old.refresh_from_db()
    assert old.due_at == NOW + dt.timedelta(days=5)


def test_a_setting_no_longer_sets_the_inquiry_service_level(physician_and_msl, settings):
    physician, msl = physician_and_msl
    settings.INQUIRY_SLA_DAYS = {"urgent": 7}
    inquiry = physician_services.record_inquiry(physician=physician, owner=msl, question="Dose?", priority="urgent")
    assert inquiry.due_at == NOW + dt.timedelta(days=2)  # the rule's default


# --- 3. Evaluation window, urgent 2 h and standard 48 h -----------------------------------------


def test_evaluated_within_window_counts_each_case_by_its_own_window_once_it_has_closed(manager, nurse):
    def case(priority, received_hours_ago, evaluated_after_hours=None):
        received = hours_ago(received_hours_ago)
        evaluated = None if evaluated_after_hours is None else received + dt.timedelta(hours=evaluated_after_hours)
        stage = Stage.REFERRED if evaluated is None else Stage.EVALUATING
        return CaseFactory(
            assigned_liaison=nurse,
            priority=priority,
            referral_received_at=received,
            evaluated_at=evaluated,
            stage=stage,
        )

    case(Priority.URGENT, 3, 1)  # in: evaluated within its 2 h
    case(Priority.URGENT, 3, 2.5)  # out: 2.5 h is late for an urgent case (within 48 h, though)
    case(Priority.URGENT, 1)  # window open: neither in nor out
    case(Priority.URGENT, 1, 0.5)  # window still open: not counted yet
    case(Priority.STANDARD, 50, 47)  # in
    case(Priority.STANDARD, 50)  # out: never evaluated, its 48 h have passed
    case(Priority.STANDARD, 1)  # window open
    case(Priority.STANDARD, 47, 10)  # window still open: not counted yet
    scope = resolve_scope(manager, QueryDict("range=30d"))[0]
    data = selectors.referral_funnel(scope)
    assert data["referred"] == 8
    assert (data["window_closed"], data["evaluated_in_window"], data["evaluated_in_window_share"]) == (4, 2, 50.0)
    assert (data["urgent_window_hours"], data["standard_window_hours"]) == (2, 48)


def test_editing_the_evaluation_window_changes_follow_ups_and_the_dashboard(client_for, manager, nurse):
    urgent = CaseFactory(assigned_liaison=nurse, priority=Priority.URGENT, referral_received_at=hours_ago(3))
    standard = CaseFactory(
        assigned_liaison=nurse,
        priority=Priority.STANDARD,
        referral_received_at=hours_ago(30),
        evaluated_at=hours_ago(10),
        stage=Stage.EVALUATING,
    )  # evaluated 20 h after receipt
    client = client_for(manager)
    page = client.get("/reporting/clinical/", {"range": "30d"})  # the widget cache, with 2 h / 48 h
    label = stat(page, "referral_funnel", "Evaluated within")
    assert label.label == "Evaluated within window (2 h urgent, 48 h standard)"
    assert label.value == 0.0  # the urgent case is late; the standard one's 48 h are still open
    assert "Evaluated within window (2 h urgent, 48 h standard)" in page.content.decode()

    edit_rule("referral_not_evaluated", urgent_hours=4, standard_hours=24)

    page = client.get("/reporting/clinical/", {"range": "30d"})
    label = stat(page, "referral_funnel", "Evaluated within")
    assert label.label == "Evaluated within window (4 h urgent, 24 h standard)"
    assert label.value == 100.0  # only the standard case's window has closed, and 20 h is within 24 h
    funnel = widget(page, "referral_funnel")["data"]
    assert (funnel["window_closed"], funnel["evaluated_in_window"]) == (1, 1)
    assert "Evaluated within window (4 h urgent, 24 h standard)" in page.content.decode()
    # The urgent case is 3 h old: within its new 4 h, so no follow-up (2 h would have opened one).
    assert run_rules(only=["referral_not_evaluated"]) == {"referral_not_evaluated": 0}
    # Two hours on, the urgent case has passed its 4 h: its follow-up names the new window.
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        assert run_rules(only=["referral_not_evaluated"]) == {"referral_not_evaluated": 1}
    follow_up = FollowUp.objects.get(rule="referral_not_evaluated")
    assert follow_up.case == urgent and "not evaluated within 4 h" in follow_up.title
    assert not FollowUp.objects.filter(case=standard).exists()  # evaluated: nothing to chase


# --- 4. Re-consent ------------------------------------------------------------------------------


def test_editing_the_re_consent_rule_changes_its_follow_ups_due_time(nurse):
    form = ConsentFormFactory(current_version="2.0")
    first = CaseFactory(assigned_liaison=nurse, stage=Stage.ACCEPTED)
    Consent.objects.create(case=first, procedure="Admission", form=form, form_version="1.0", status="signed")
    assert run_rules(only=["consent_superseded"]) == {"consent_superseded": 1}
    assert FollowUp.objects.get(rule="consent_superseded", case=first).due_at == NOW  # due at once

    edit_rule("consent_superseded", due_hours=48)

    second = CaseFactory(assigned_liaison=nurse, stage=Stage.ACCEPTED)
    Consent.objects.create(case=second, procedure="Admission", form=form, form_version="1.0", status="signed")
    assert run_rules(only=["consent_superseded"]) == {"consent_superseded": 1}
    follow_up = FollowUp.objects.get(rule="consent_superseded", case=second)
    assert follow_up.due_at == NOW + dt.timedelta(hours=48)
    assert "re-consent needed" in follow_up.title


# --- 5. Communication gap -----------------------------------------------------------------------


def test_editing_the_communication_gap_changes_follow_ups_worklist_and_dashboard(client_for, manager, nurse):
    four_days = CaseFactory(
        assigned_liaison=nurse, stage=Stage.ADMITTED, admitted_at=days_ago(10), last_communication_at=days_ago(4)
    )
    six_days = CaseFactory(
        assigned_liaison=nurse, stage=Stage.ADMITTED, admitted_at=days_ago(10), last_communication_at=days_ago(6)
    )
    nurse_client, manager_client = client_for(nurse), client_for(manager)
    assert worklist_ids(nurse_client, gap="true") == {four_days.pk, six_days.pk}
    page = manager_client.get("/reporting/clinical/", {"range": "30d"})  # cached with 3 days
    gaps = stat(page, "caseload", "No contact")
    assert (gaps.label, gaps.value) == ("No contact for 3+ days", 2)

    edit_rule("admitted_no_communication", days=5)

    assert worklist_ids(nurse_client, gap="true") == {six_days.pk}
    page = manager_client.get("/reporting/clinical/", {"range": "30d"})
    gaps = stat(page, "caseload", "No contact")
    assert (gaps.label, gaps.value) == ("No contact for 5+ days", 1)
    assert widget(page, "caseload")["rows"][0][-1].value == 1  # the liaison's "Communication gaps"
    assert "No contact for 5+ days" in page.content.decode()
    assert run_rules(only=["admitted_no_communication"]) == {"admitted_no_communication": 1}
    follow_up = FollowUp.objects.get(rule="admitted_no_communication")
    assert follow_up.case == six_days and "no communication logged for 5 days" in follow_up.title


# --- no copies ----------------------------------------------------------------------------------


def test_no_module_keeps_its_own_copy_of_a_service_level():
    from patients import conf as patients_conf
    from physicians import conf as physicians_conf
    from reporting import conf as reporting_conf

    for name in ("DEFAULT_KOL_CADENCE_DAYS", "EVALUATION_WINDOW_HOURS", "COMMUNICATION_GAP_DAYS", "kol_cadence_days"):
        assert not hasattr(reporting_conf, name), name
    assert not hasattr(patients_conf, "COMMUNICATION_GAP_DAYS")
    assert not hasattr(physicians_conf, "_DEFAULT_SLA_DAYS")
    # Nor does any module read a setting of its own for them.
    names = ("INQUIRY_SLA_DAYS", "KOL_CADENCE_DAYS", "EVALUATION_WINDOW_HOURS", "COMMUNICATION_GAP_DAYS")
    apps = ("accounts", "outreach", "physicians", "patients", "reporting", "liaison_crm")
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for app in apps
        for path in (REPO / app).rglob("*.py")
        for name in names
        if name in path.read_text()
    ]
    assert offenders == []
    assert not any(hasattr(django_settings, name) for name in names)


def test_a_dashboard_with_the_rules_cached_reads_no_rule_row(client_for, manager, msl, nurse):
    PhysicianFactory(kol_tier=1, owner=msl, last_interaction_at=days_ago(30))
    CaseFactory(assigned_liaison=nurse, referral_received_at=hours_ago(60))
    client = client_for(manager)
    client.get("/reporting/", {"range": "30d"})  # the rules into the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/reporting/", {"range": "90d"}).status_code == 200  # other figures, computed
    assert not [q for q in queries.captured_queries if "outreach_servicelevelrule" in q["sql"]]
