"""Pages: roles and outsiders, in-place edits (422/409), the referral duplicate warning, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from patients import services
from patients.choices import Stage
from patients.models import Case, CaseTransition, Communication, Consent, Medication, Patient
from tests.factories import CaseFactory

from .conftest import complete_evaluation, file_medical_record, make_admittable

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _pages(case) -> list[str]:
    return [
        reverse("patients:worklist"),
        reverse("patients:referral_new"),
        reverse("patients:case_detail", args=[case.pk]),
        reverse("patients:case_print", args=[case.pk]),
        reverse("patients:patient_detail", args=[case.patient_id]),
        reverse("patients:stage_bar", args=[case.pk]),
    ]


# --- access ------------------------------------------------------------------------------------


def test_msl_gets_403_on_every_patient_page(case, msl, client_for):
    client = client_for(msl)
    for url in [*_pages(case), reverse("patients:audit")]:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("patients:case_transition", args=[case.pk, "cancel"]), {"version": 1}).status_code == 403


@pytest.mark.parametrize("who", ["nurse", "nurse_teammate", "manager", "admin_user"])
def test_team_and_managers_see_the_pages(case, who, request, client_for):
    client = client_for(request.getfixturevalue(who))
    for url in _pages(case):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["other_nurse", "other_manager"])
def test_outsiders_get_404_on_case_and_patient_pages(case, who, request, client_for):
    client = client_for(request.getfixturevalue(who))
    for url in _pages(case)[2:]:
        assert client.get(url).status_code == 404, url
    post_urls = [
        reverse("patients:case_transition", args=[case.pk, "cancel"]),
        reverse("patients:medication_add", args=[case.pk]),
        reverse("patients:communication_add", args=[case.pk]),
        reverse("patients:case_edit", args=[case.pk]),
    ]
    for url in post_urls:
        assert client.post(url, {"version": 1}).status_code == 404, url
    case.refresh_from_db()
    assert case.stage == Stage.REFERRED


def test_outsider_does_not_see_case_in_worklist(case, other_case, other_nurse, client_for):
    body = client_for(other_nurse).get(reverse("patients:worklist")).content.decode()
    assert "Outsider" in body and "Lovelace" not in body


def test_anonymous_is_sent_to_login(case, client):
    response = client.get(reverse("patients:case_detail", args=[case.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_teammate_may_view_but_not_change(case, nurse_teammate, client_for):
    client = client_for(nurse_teammate)
    body = client.get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    assert "Start evaluation" not in body
    response = client.post(reverse("patients:case_transition", args=[case.pk, "start_evaluation"]), {"version": 1})
    assert response.status_code == 403
    response = client.post(reverse("patients:communication_add", args=[case.pk]), {"comm-summary": "x"}, **HX)
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.stage == Stage.REFERRED and not Communication.objects.exists()


# --- worklist ----------------------------------------------------------------------------------


def test_worklist_groups_by_stage_with_next_step_and_overdue(nurse, client_for):
    referred = CaseFactory(assigned_liaison=nurse, patient__last_name="Referredson")
    evaluating = CaseFactory(assigned_liaison=nurse, patient__last_name="Evalson")
    services.start_evaluation(case=evaluating, by=nurse)
    Case.objects.filter(pk=referred.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=5))
    response = client_for(nurse).get(reverse("patients:worklist"))
    body = response.content.decode()
    groups = response.context["groups"]
    assert [g["stage"] for g in groups] == [Stage.REFERRED, Stage.EVALUATING]
    assert groups[0]["cases"][0].is_overdue and groups[0]["cases"][0].age_in_stage.days == 5
    assert groups[1]["cases"][0].next_step == "medical records not reviewed"
    assert "Overdue" in body and "start the evaluation" in body


def test_worklist_names_an_accepted_case_s_admission_blocker(nurse, consent_form, client_for):
    blocked = CaseFactory(assigned_liaison=nurse, patient__last_name="Blockedson")
    ready = CaseFactory(assigned_liaison=nurse, patient__last_name="Readyford")
    for case in (blocked, ready):
        services.start_evaluation(case=case, by=nurse)
        complete_evaluation(case, nurse)
        services.accept(case=case, by=nurse)
    make_admittable(ready, nurse, consent_form)
    services.add_consent(case=blocked, by=nurse, form=consent_form, procedure="Admission")  # not signed
    response = client_for(nurse).get(reverse("patients:worklist"))
    accepted = next(g for g in response.context["groups"] if g["stage"] == Stage.ACCEPTED)
    steps = {case.patient.last_name: case.next_step for case in accepted["cases"]}
    assert steps["Readyford"] == "ready to admit"
    assert steps["Blockedson"] == "consent 'Admission' is pending"
    assert "consent &#x27;Admission&#x27; is pending" in response.content.decode()


def test_worklist_filters_and_search(nurse, nurse_teammate, manager, client_for):
    mine = CaseFactory(assigned_liaison=nurse, patient__last_name="Mineford", patient__mrn="MRN-A1", priority="urgent")
    theirs = CaseFactory(assigned_liaison=nurse_teammate, patient__last_name="Theirsby", program="Wound care")
    client = client_for(nurse)

    def ids(**params):
        return [c.pk for g in client.get(reverse("patients:worklist"), params).context["groups"] for c in g["cases"]]

    assert ids() == [mine.pk]  # a liaison's default: her own cases
    assert set(ids(scope="team")) == {mine.pk, theirs.pk}
    assert ids(scope="team", q="mrn-a1") == [mine.pk]
    assert ids(scope="team", q="Theirs") == [theirs.pk]
    assert ids(scope="team", priority="urgent") == [mine.pk]
    assert ids(scope="team", program="wound care") == [theirs.pk]
    assert ids(scope="team", liaison=nurse_teammate.pk) == [theirs.pk]
    assert ids(scope="team", stage="discharged") == []
    Case.objects.filter(pk=mine.pk).update(referral_received_at=dt.datetime(2026, 1, 5, 23, 30, tzinfo=dt.UTC))
    assert ids(scope="team", date_from="2026-01-05", date_to="2026-01-05") == [mine.pk]
    assert ids(scope="team", date_from="2026-01-06") == [theirs.pk]
    assert set(client_for(manager).get(reverse("patients:worklist")).context["page_obj"].object_list) == {mine, theirs}


def test_worklist_paginates_without_counting(nurse, client_for, settings):
    settings.PAGE_SIZE = 2
    for _ in range(3):
        CaseFactory(assigned_liaison=nurse)
    client = client_for(nurse)
    first = client.get(reverse("patients:worklist"))
    assert first.context["page_obj"].has_next() and len(first.context["page_obj"].object_list) == 2
    second = client.get(reverse("patients:worklist"), {"page": 2})
    assert not second.context["page_obj"].has_next() and len(second.context["page_obj"].object_list) == 1
    assert client.get(reverse("patients:worklist"), {"page": 9}).status_code == 404


# --- new referral and the duplicate warning ----------------------------------------------------


def _referral(**overrides) -> dict:
    data = {
        "mrn": "MRN-NEW-1",
        "first_name": "Grace",
        "last_name": "Hopper",
        "date_of_birth": "1946-12-09",
        "sex": "female",
        "preferred_language": "English",
        "program": "Cardiac rehabilitation",
        "priority": "standard",
        "reason": "CHF",
        "referral_source_other": "Walk-in",
        "referral_received_at": "2026-01-05T10:00",
    }
    data.update(overrides)
    return data


def test_new_referral_creates_patient_case_and_history(nurse, client_for):
    response = client_for(nurse).post(reverse("patients:referral_new"), _referral(assigned_liaison=nurse.pk))
    case = Case.objects.get(patient__mrn="MRN-NEW-1")
    assert response.status_code == 302 and response["Location"] == reverse("patients:case_detail", args=[case.pk])
    assert case.assigned_liaison == nurse and case.team == nurse.team and case.stage == Stage.REFERRED
    assert CaseTransition.objects.get(case=case).to_stage == Stage.REFERRED


def test_new_referral_bad_input_writes_nothing(nurse, client_for):
    response = client_for(nurse).post(
        reverse("patients:referral_new"), _referral(first_name="", referral_source_other="")
    )
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    assert "Give the referral source" in response.content.decode()
    assert not Patient.objects.exists() and not Case.objects.exists()


def test_duplicate_same_name_and_dob_is_warned_then_confirmed(case, nurse, client_for):
    p = case.patient
    client = client_for(nurse)
    data = _referral(
        first_name=p.first_name,
        last_name=p.last_name,
        date_of_birth=p.date_of_birth.isoformat(),
        assigned_liaison=nurse.pk,
    )
    response = client.post(reverse("patients:referral_new"), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert "may be the same person" in body and p.mrn in body
    assert Patient.objects.count() == 1
    # use the existing record
    response = client.post(reverse("patients:referral_new"), {**data, "use_patient": p.pk})
    assert response.status_code == 302
    assert Patient.objects.count() == 1 and p.cases.count() == 2
    # or confirm a different person
    response = client.post(reverse("patients:referral_new"), {**data, "mrn": "MRN-NEW-2", "confirm_new": "on"})
    assert response.status_code == 302 and Patient.objects.count() == 2


def test_duplicate_mrn_in_scope_offers_the_patient(case, nurse, client_for):
    response = client_for(nurse).post(
        reverse("patients:referral_new"), _referral(mrn=case.patient.mrn, assigned_liaison=nurse.pk)
    )
    assert response.status_code == 422
    assert "A patient with this MRN already exists" in response.content.decode()
    assert case.patient.last_name in response.content.decode()


def test_duplicate_outside_scope_leaks_nothing_but_the_mrn_clash(other_case, nurse, client_for):
    p = other_case.patient
    client = client_for(nurse)
    data = _referral(
        mrn=p.mrn,
        first_name="Someone",
        last_name="Else",
        date_of_birth=p.date_of_birth.isoformat(),
        assigned_liaison=nurse.pk,
    )
    response = client.post(reverse("patients:referral_new"), data)
    body = response.content.decode()
    assert response.status_code == 422
    assert "A patient with this MRN already exists." in body
    assert p.last_name not in body and p.first_name not in body and str(p.pk) not in body.split("use_patient")[0][-5:]
    # same name and date of birth as an out-of-scope patient: told that one exists, nothing more
    data = _referral(
        first_name=p.first_name,
        last_name=p.last_name,
        date_of_birth=p.date_of_birth.isoformat(),
        assigned_liaison=nurse.pk,
    )
    response = client.post(reverse("patients:referral_new"), data)
    body = response.content.decode()
    assert response.status_code == 422 and "A possible match exists in another team" in body
    assert p.mrn not in body and 'name="use_patient"' not in body
    response = client.post(reverse("patients:referral_new"), {**data, "confirm_new": "on"})
    assert response.status_code == 302
    # a forged use_patient of an out-of-scope patient is refused
    response = client.post(reverse("patients:referral_new"), {**data, "mrn": "Z9", "use_patient": p.pk})
    assert response.status_code == 422 and not Case.objects.filter(patient=p, team=nurse.team).exists()


def test_the_referral_form_picks_people_and_sources_by_type_ahead(nurse, client_for):
    html = client_for(nurse).get(reverse("patients:referral_new")).content.decode()
    for name, lookup in (
        ("assigned_liaison", reverse("lookup_liaisons")),
        ("referral_physician", reverse("physicians:lookup_physicians")),
        ("referral_institution", reverse("physicians:lookup_institutions")),
    ):
        select = html[
            html.index(f'<select name="{name}"') : html.index("</select>", html.index(f'<select name="{name}"'))
        ]
        assert f'data-lookup-url="{lookup}"' in select, name
        assert 'class="lookupselect form-select"' in select, name
    # The liaison's own name is chosen for her, and is the only option rendered.
    liaison = html[html.index('<select name="assigned_liaison"') :]
    liaison = liaison[: liaison.index("</select>")]
    assert liaison.count("<option") == 2 and f'<option value="{nurse.pk}" selected>{nurse}</option>' in liaison
    assert 'name="q"' not in html and "Find a referral source" not in html  # the former search box


def test_a_referral_saves_the_picked_physician_institution_and_liaison(nurse, nurse_teammate, client_for):
    from tests.factories import InstitutionFactory, PhysicianFactory

    physician, institution = PhysicianFactory(), InstitutionFactory()
    data = _referral(
        assigned_liaison=nurse_teammate.pk, referral_physician=physician.pk, referral_institution=institution.pk
    )
    assert client_for(nurse).post(reverse("patients:referral_new"), data).status_code == 302
    case = Case.objects.get(patient__mrn="MRN-NEW-1")
    assert (case.assigned_liaison, case.referral_physician, case.referral_institution) == (
        nurse_teammate,
        physician,
        institution,
    )


def test_a_refused_referral_keeps_the_picked_choices_on_the_page(nurse, client_for):
    from tests.factories import PhysicianFactory

    physician = PhysicianFactory(last_name="Keepme")
    response = client_for(nurse).post(
        reverse("patients:referral_new"), _referral(first_name="", referral_physician=physician.pk)
    )
    assert response.status_code == 422
    assert f'<option value="{physician.pk}" selected>' in response.content.decode()
    assert "Keepme" in response.content.decode()


@pytest.mark.parametrize("who", ["nurse", "manager", "admin_user"])
def test_the_referral_liaisons_are_the_liaison_picker_s(who, request, nurse, nurse_teammate, other_nurse):
    """The former rule: a liaison assigns within her own team, a manager within the teams they
    lead, an administrator anywhere; only active liaisons."""
    from accounts.lookups import people_in_scope
    from accounts.models import User
    from patients.forms import AssignForm, ReferralForm
    from tests.factories import UserFactory

    UserFactory(username="gone", role=User.Role.CLINICAL_LIAISON, team=nurse.team, is_active=False)
    user = request.getfixturevalue(who)
    expected = {nurse, nurse_teammate} | ({other_nurse} if who == "admin_user" else set())
    assert set(ReferralForm(user=user).fields["assigned_liaison"].queryset) == expected
    assert set(people_in_scope(user, User.Role.CLINICAL_LIAISON)) == expected
    case = CaseFactory(assigned_liaison=nurse)
    assert set(AssignForm(user=user, case=case).fields["assigned_liaison"].queryset) == expected


def test_the_assignment_picker_shows_the_current_liaison_and_reassigns(
    case, manager, nurse, nurse_teammate, client_for
):
    client = client_for(manager)
    html = client.get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    form = html[html.index(reverse("patients:case_assign", args=[case.pk])) :]
    form = form[: form.index("</form>")]
    assert f'data-lookup-url="{reverse("lookup_liaisons")}"' in form
    assert f'<option value="{nurse.pk}" selected>{nurse}</option>' in form and str(nurse_teammate) not in form
    response = client.post(
        reverse("patients:case_assign", args=[case.pk]),
        {"assigned_liaison": nurse_teammate.pk, "version": case.version},
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).assigned_liaison == nurse_teammate


def test_the_referral_details_pick_the_referring_physician(case, nurse, client_for):
    from tests.factories import PhysicianFactory

    physician = PhysicianFactory(last_name="Referrer")
    client = client_for(nurse)
    url = reverse("patients:case_edit", args=[case.pk])
    html = client.get(url, **HX).content.decode()
    assert f'data-lookup-url="{reverse("physicians:lookup_physicians")}"' in html
    data = {"version": case.version, "program": case.program, "priority": "standard", "reason": "x"}
    response = client.post(url, {**data, "referral_physician": physician.pk}, **HX)
    assert response.status_code == 200 and "Referrer" in response.content.decode()
    assert Case.objects.get(pk=case.pk).referral_physician == physician
    response = client.post(url, {**data, "version": case.version + 1, "referral_physician": "999999"}, **HX)
    assert response.status_code == 422 and "Select a valid choice" in response.content.decode()


# --- transitions through the page --------------------------------------------------------------


def test_transition_blocked_shows_what_is_missing_and_writes_nothing(case, nurse, client_for):
    services.start_evaluation(case=case, by=nurse)
    client = client_for(nurse)
    response = client.post(reverse("patients:case_transition", args=[case.pk, "accept"]), {"version": case.version})
    assert response.status_code == 422
    assert "Cannot accept: medical records reviewed is missing" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.EVALUATING


def test_stale_transition_is_409_and_writes_nothing(case, nurse, client_for):
    client = client_for(nurse)
    services.start_evaluation(case=case, by=nurse)  # version is now 2
    response = client.post(reverse("patients:case_transition", args=[case.pk, "cancel"]), {"version": 1})
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    case.refresh_from_db()
    assert case.stage == Stage.EVALUATING


def test_stale_case_edit_over_htmx_is_409(case, nurse, client_for):
    client = client_for(nurse)
    url = reverse("patients:case_edit", args=[case.pk])
    data = {"version": 1, "program": "New program", "priority": "urgent", "reason": "x"}
    services.start_evaluation(case=case, by=nurse)
    response = client.post(url, data, **HX)
    assert response.status_code == 409 and "changed by someone else" in response.content.decode()
    assert Case.objects.get(pk=case.pk).program != "New program"
    response = client.post(url, {**data, "version": 2}, **HX)
    assert response.status_code == 200 and Case.objects.get(pk=case.pk).program == "New program"


def test_decline_from_page_needs_reason(case, nurse, client_for):
    client = client_for(nurse)
    url = reverse("patients:case_transition", args=[case.pk, "decline"])
    assert client.post(url, {"version": 1}).status_code == 422
    assert client.post(url, {"version": 1, "reason": "no_bed"}).status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.DECLINED


def test_case_page_has_confirmation_on_decline_and_cancel(case, nurse, client_for):
    client = client_for(nurse)
    body = client.get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    assert 'data-confirm="Cancel this case?' in body
    decline = client.get(reverse("patients:case_form", args=[case.pk, "decline"]), **HX).content.decode()
    assert 'data-confirm="Decline this referral?' in decline


def test_decline_and_discharge_look_like_the_other_transition_buttons(case, nurse, client_for):
    """Issue 14: "Decline…" sat in a bordered box of its own. Its <summary> is a button like
    "Cancel case"; the box is drawn around the form only, once it is open (patients.css)."""
    html = client_for(nurse).get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    bar = html[html.index('id="stage-bar"') : html.index("</section>", html.index('id="stage-bar"'))]
    assert '<summary class="btn btn-outline-danger btn-sm">Decline…</summary>' in bar
    assert 'class="lazy-details transition-details"' in bar and "border rounded" not in bar


# --- in-place sections -------------------------------------------------------------------------


def test_medication_add_and_edit_in_place(case, nurse, client_for):
    client = client_for(nurse)
    url = reverse("patients:medication_add", args=[case.pk])
    bad = client.post(url, {"med-name": ""}, **HX)
    assert bad.status_code == 422 and not Medication.objects.exists()
    ok = client.post(url, {"med-name": "Metoprolol", "med-dose": "25 mg"}, **HX)
    assert ok.status_code == 200 and "Metoprolol" in ok.content.decode()
    med = Medication.objects.get()
    edit = reverse("patients:medication_edit", args=[case.pk, med.pk])
    assert client.get(edit, **HX).status_code == 200
    ok = client.post(edit, {f"med{med.pk}-name": "Metoprolol", f"med{med.pk}-reconciled": "on"}, **HX)
    assert ok.status_code == 200 and ok["HX-Retarget"] == "#medications"
    med.refresh_from_db()
    assert med.reconciled


def test_checklist_item_records_who_and_when(case, nurse, client_for):
    services.start_evaluation(case=case, by=nurse)
    file_medical_record(case, nurse)
    client = client_for(nurse)
    response = client.post(
        reverse("patients:checklist_item", args=[case.pk, "records_reviewed"]),
        {"done": "1", "records_review_note": "Discharge summary"},
        **HX,
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    evaluation = Case.objects.get(pk=case.pk).evaluation
    assert evaluation.records_reviewed_by == nurse and evaluation.records_reviewed_at is not None
    bad = client.post(reverse("patients:checklist_item", args=[case.pk, "nonsense"]), {"done": "1"}, **HX)
    assert bad.status_code == 422


def test_consent_sign_without_teach_back_is_422(case, nurse, consent_form, client_for):
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    client = client_for(nurse)
    url = reverse("patients:consent_edit", args=[case.pk, consent.pk])
    p = f"consent{consent.pk}-"
    response = client.post(url, {p + "explained": "on", p + "status": "signed", p + "signed_by": "patient"}, **HX)
    assert response.status_code == 422
    assert "teach-back" in response.content.decode()
    assert Consent.objects.get(pk=consent.pk).status == "pending"


def test_coverage_and_communication_in_place(case, nurse, client_for):
    client = client_for(nurse)
    response = client.post(
        reverse("patients:coverage_add", args=[case.pk]),
        {"cov-payer": "Acme", "cov-member_id": "1", "cov-authorization_status": "approved", "cov-is_primary": "on"},
        **HX,
    )
    assert response.status_code == 422 and "needs its number" in response.content.decode()
    response = client.post(
        reverse("patients:communication_add", args=[case.pk]),
        {
            "comm-occurred_at": "2026-01-01T10:00",
            "comm-channel": "phone",
            "comm-parties": "liaison_patient",
            "comm-summary": "Called",
        },
        **HX,
    )
    assert response.status_code == 200 and "Called" in response.content.decode()
    assert Case.objects.get(pk=case.pk).last_communication_at is not None


def test_follow_up_added_from_case_page(case, nurse, client_for):
    from outreach.models import FollowUp

    response = client_for(nurse).post(
        reverse("patients:follow_up_add", args=[case.pk]),
        {"fu-title": "Call back", "fu-due_at": "2030-01-01T09:00"},
        **HX,
    )
    assert response.status_code == 200
    assert FollowUp.objects.get().case == case


# --- audit -------------------------------------------------------------------------------------


def test_viewing_case_and_patient_pages_writes_access_entries(case, nurse, client_for):
    client = client_for(nurse)
    client.get(reverse("patients:case_detail", args=[case.pk]))
    client.get(reverse("patients:patient_detail", args=[case.patient_id]))
    client.get(reverse("patients:case_print", args=[case.pk]))
    entries = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).order_by("id")
    assert [(e.actor, e.object_repr) for e in entries] == [
        (nurse, str(case)),
        (nurse, str(case.patient)),
        (nurse, str(case)),
    ]
    assert all(e.additional_data["patient_id"] == case.patient_id for e in entries)
    assert all(e.additional_data["team_id"] == case.team_id for e in entries)


def test_changes_are_audited_with_the_acting_user(case, nurse, client_for):
    client_for(nurse).post(reverse("patients:case_transition", args=[case.pk, "start_evaluation"]), {"version": 1})
    update = LogEntry.objects.get_for_object(case).filter(action=LogEntry.Action.UPDATE).get()
    assert update.actor == nurse and "stage" in update.changes_dict
    created = LogEntry.objects.filter(
        action=LogEntry.Action.CREATE, object_repr__contains="referred → evaluating"
    ).get()
    assert created.actor == nurse and created.additional_data["patient_id"] == case.patient_id


def test_audit_page_for_managers_filters_and_is_itself_logged(
    case, other_case, nurse, nurse_teammate, manager, client_for
):
    client_for(nurse).get(reverse("patients:case_detail", args=[case.pk]))
    client_for(nurse_teammate).get(reverse("patients:patient_detail", args=[case.patient_id]))
    client = client_for(manager)
    response = client.get(reverse("patients:audit"))
    assert response.status_code == 200
    entries = list(response.context["page_obj"])
    assert {e.actor for e in entries} >= {nurse, nurse_teammate}
    assert all(e.additional_data.get("team_id") == case.team_id for e in entries)  # other_case's team is out
    assert [e.actor for e in client.get(reverse("patients:audit"), {"user": nurse.pk}).context["page_obj"]] == [nurse]
    by_patient = client.get(reverse("patients:audit"), {"patient": case.patient_id, "action": 3}).context["page_obj"]
    assert {e.actor for e in by_patient} == {nurse, nurse_teammate}
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert list(client.get(reverse("patients:audit"), {"date_from": tomorrow}).context["page_obj"]) == []
    assert (
        LogEntry.objects.filter(object_pk="patients-audit", actor=manager, action=LogEntry.Action.ACCESS).count() == 4
    )


def test_audit_page_forbidden_to_liaisons_and_msls(nurse, msl, client_for):
    assert client_for(nurse).get(reverse("patients:audit")).status_code == 403
    assert client_for(msl).get(reverse("patients:audit")).status_code == 403


def test_audit_entries_cannot_be_changed_or_deleted_in_admin(admin_user):
    request = RequestFactory().get("/admin/auditlog/logentry/")
    request.user = admin_user
    model_admin = site._registry[LogEntry]
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_add_permission(request)


# --- no deletion -------------------------------------------------------------------------------


def test_no_delete_of_patients_or_cases(case, admin_user, client_for):
    request = RequestFactory().get("/")
    request.user = admin_user
    for model in (Patient, Case, CaseTransition, Consent, Communication):
        assert site._registry[model].has_delete_permission(request, None) is False
    client = client_for(admin_user)
    response = client.post(reverse("admin:patients_case_delete", args=[case.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Case.objects.filter(pk=case.pk).exists()
    # and the app offers no delete view for them
    from patients import urls

    assert not [p for p in urls.urlpatterns if "delete" in str(p.pattern)]


def test_admin_changelists_load(case, admin_user, client_for):
    client = client_for(admin_user)
    for name in (
        "patient",
        "case",
        "casetransition",
        "consent",
        "communication",
        "medication",
        "insurancecoverage",
        "evaluation",
        "consentform",
    ):
        assert client.get(reverse(f"admin:patients_{name}_changelist")).status_code == 200, name


def test_full_path_through_the_pages(case, nurse, consent_form, client_for):
    client = client_for(nurse)
    client.post(reverse("patients:case_transition", args=[case.pk, "start_evaluation"]), {"version": 1})
    case.refresh_from_db()
    complete_evaluation(case, nurse)
    case.refresh_from_db()
    client.post(reverse("patients:case_transition", args=[case.pk, "accept"]), {"version": case.version})
    make_admittable(case, nurse, consent_form)
    case.refresh_from_db()
    assert (
        client.post(reverse("patients:case_transition", args=[case.pk, "admit"]), {"version": case.version}).status_code
        == 302
    )
    case.refresh_from_db()
    response = client.post(
        reverse("patients:case_transition", args=[case.pk, "discharge"]),
        {"version": case.version, "disposition": "home", "summary": "Well."},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.DISCHARGED
    body = client.get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    for label in ("Referred → Evaluating", "Evaluating → Accepted", "Accepted → Admitted", "Admitted → Discharged"):
        assert label in body
