"""Object ids guessed or swapped in forms and htmx endpoints are refused, and nothing is written.

Each test takes a legitimate request and changes one id (in the URL, a hidden field, a select) to
a record of another team or one the user may not touch: the answer is a 403/404 or a form error,
and the database is as before. The permission of each record is checked, not only the page's.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Team, User
from outreach.models import FollowUp, OutreachEvent
from patients.models import Case, Consent, InsuranceCoverage, Medication
from physicians.models import (
    ClinicalTrial,
    Insight,
    Interaction,
    PhysicianImport,
    TrainingAttendee,
    TrainingSession,
    TrialSite,
)
from tests.factories import CaseFactory, InstitutionFactory, PhysicianFactory

from .world import World, build_world

pytestmark = pytest.mark.django_db

REFUSED = {400, 403, 404, 409, 422}


@pytest.fixture
def w() -> World:
    world = build_world()
    users = world.users
    # Records of the *other* teams, for a first-team user to reach for.
    other_case = CaseFactory(assigned_liaison=users["nurse_other"])
    other_training = TrainingSession.objects.create(
        title="West launch", trainer=users["msl_other"], team=users["msl_other"].team, held_on=timezone.localdate()
    )
    world.objects.update(
        other_case=other_case,
        other_medication=Medication.objects.create(case=other_case, name="Warfarin", dose="5 mg"),
        other_coverage=InsuranceCoverage.objects.create(case=other_case, payer="Aetna", member_id="W123"),
        other_consent=Consent.objects.create(
            case=other_case, procedure="Admission", form=world.consent.form, form_version="1.0"
        ),
        other_training=other_training,
        other_attendee=TrainingAttendee.objects.create(session=other_training, name="Pat West", score_before=40),
    )
    return world


def client(world: World, role: str) -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


# --- follow-ups -----------------------------------------------------------------------------------


def test_reassign_to_someone_of_another_team_is_refused(w):
    fu = w.msl_follow_up
    response = client(w, "msl").post(
        f"/outreach/follow-ups/{fu.pk}/reassign/", {"owner": w.users["msl_other"].pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    fu.refresh_from_db()
    assert fu.owner == w.users["msl"]


def test_a_manager_cannot_hand_a_case_follow_up_to_an_msl(w):
    fu = w.nurse_follow_up
    response = client(w, "manager").post(
        f"/outreach/follow-ups/{fu.pk}/reassign/", {"owner": w.users["msl"].pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    fu.refresh_from_db()
    assert fu.owner == w.users["nurse"]
    assert not w.users["msl"].notifications.filter(follow_up=fu).exists()


def test_another_teams_manager_cannot_reassign_or_complete_a_follow_up(w):
    fu = w.msl_follow_up
    c = client(w, "manager_other")
    assert c.post(f"/outreach/follow-ups/{fu.pk}/reassign/", {"owner": w.users["msl_other"].pk}).status_code == 404
    assert c.post(f"/outreach/follow-ups/{fu.pk}/complete/").status_code == 404
    assert c.post(f"/outreach/follow-ups/{fu.pk}/snooze/", {"days": "7"}).status_code == 404
    fu.refresh_from_db()
    assert (fu.owner, fu.status, fu.completed_at) == (w.users["msl"], "open", None)


def test_quick_add_for_someone_out_of_scope_writes_nothing(w):
    before = FollowUp.objects.count()
    due = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    data = {"title": "Hijack", "due_at": due, "owner": w.users["msl_other"].pk}
    assert client(w, "manager").post("/outreach/follow-ups/add/", data).status_code == 422
    assert FollowUp.objects.count() == before
    # An MSL has no owner field: a forged one is ignored, the follow-up is their own.
    assert client(w, "msl").post("/outreach/follow-ups/add/", data).status_code == 302
    assert FollowUp.objects.get(title="Hijack").owner == w.users["msl"]
    assert not FollowUp.objects.filter(owner=w.users["msl_other"]).exists()


def test_marking_someone_elses_notification_read_is_a_404(w):
    n = w.notification
    for role in ("msl_other", "manager", "admin"):
        assert client(w, role).post(f"/outreach/notifications/{n.pk}/read/").status_code == 404, role
    n.refresh_from_db()
    assert n.read_at is None


# --- outreach events ------------------------------------------------------------------------------


def test_an_event_cannot_link_another_teams_case_or_be_filed_under_another_team(w):
    before = OutreachEvent.objects.count()
    base = {"title": "Fair", "kind": "health_fair", "date": "2030-01-10", "contacts_made": "0"}
    c = client(w, "nurse_other")
    response = c.post("/outreach/events/new/", {**base, "referral_cases": str(w.case.pk)})
    assert response.status_code == 422
    assert b"No case you may see" in response.content
    team = w.users["nurse"].team_id
    assert c.post("/outreach/events/new/", {**base, "team": team}).status_code == 422
    assert OutreachEvent.objects.count() == before


def test_editing_an_event_cannot_swap_in_another_teams_referral(w):
    event = w.event
    data = {"title": "Fair", "kind": "health_fair", "date": "2030-01-10", "contacts_made": "0"}
    response = client(w, "nurse").post(
        f"/outreach/events/{event.pk}/edit/", {**data, "referral_cases": f"{w.case.pk}, {w.other_case.pk}"}
    )
    assert response.status_code == 422
    assert list(event.referrals.all()) == [w.case]


# --- patients -------------------------------------------------------------------------------------


def test_a_manager_cannot_assign_a_case_to_a_liaison_of_another_team(w):
    case = w.case
    response = client(w, "manager").post(
        f"/patients/cases/{case.pk}/assign/",
        {"assigned_liaison": w.users["nurse_other"].pk, "version": case.version},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_liaison == w.users["nurse"]
    assert (
        client(w, "manager_other")
        .post(
            f"/patients/cases/{case.pk}/assign/",
            {"assigned_liaison": w.users["nurse_other"].pk, "version": case.version},
        )
        .status_code
        == 404
    )
    case.refresh_from_db()
    assert case.assigned_liaison == w.users["nurse"]


def _referral(w, **extra) -> dict:
    return {
        "mrn": "SWAP000001",
        "first_name": "Ada",
        "last_name": "Swap",
        "date_of_birth": "1950-01-01",
        "sex": "female",
        "preferred_language": "English",
        "program": "Cardiac rehabilitation",
        "assigned_liaison": w.users["nurse"].pk,
        "priority": "standard",
        "reason": "Rehab",
        "referral_source_other": "Walk-in",
        "referral_received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        **extra,
    }


def test_a_referral_cannot_go_to_another_teams_liaison_nor_reuse_another_teams_patient(w):
    before = Case.objects.count()
    c = client(w, "nurse")
    response = c.post("/patients/referrals/new/", _referral(w, assigned_liaison=w.users["nurse_other"].pk))
    assert response.status_code == 422
    response = c.post("/patients/referrals/new/", _referral(w, use_patient=w.other_case.patient_id))
    assert response.status_code == 422
    assert b"not one of your team" in response.content
    assert Case.objects.count() == before
    assert not Case.objects.filter(patient=w.other_case.patient, team=w.users["nurse"].team).exists()


@pytest.mark.parametrize(
    ("path", "item", "data"),
    [
        ("medications", "other_medication", {"name": "Changed", "dose": "1 mg"}),
        ("coverages", "other_coverage", {"payer": "Changed", "member_id": "X"}),
        ("consents", "other_consent", {"status": "signed"}),
    ],
)
def test_a_section_item_of_another_case_cannot_be_edited_through_ones_own_case(w, path, item, data):
    target = getattr(w, item)
    before = {f.name: getattr(target, f.name) for f in target._meta.concrete_fields}
    c = client(w, "nurse")
    url = f"/patients/cases/{w.case.pk}/{path}/{target.pk}/"
    assert c.get(url).status_code == 404
    prefixed = {f"{p}-{k}": v for k, v in data.items() for p in (f"consent{target.pk}", f"med{target.pk}", "x")}
    assert c.post(url, {**data, **prefixed}).status_code == 404
    target.refresh_from_db()
    assert {f.name: getattr(target, f.name) for f in target._meta.concrete_fields} == before


# --- physicians -----------------------------------------------------------------------------------


def _interaction(w, **extra) -> dict:
    return {
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "channel": "in_person",
        "duration_minutes": "30",
        "products": [w.product.pk],
        "insights-TOTAL_FORMS": "0",
        "insights-INITIAL_FORMS": "0",
        **extra,
    }


def test_an_interaction_cannot_name_a_trial_site_unrelated_to_the_physician(w):
    elsewhere = TrialSite.objects.create(
        trial=ClinicalTrial.objects.create(protocol_number="X-1", title="X", phase="2", product=w.product),
        institution=InstitutionFactory(),
        principal_investigator=PhysicianFactory(),
    )
    before = Interaction.objects.count()
    response = client(w, "msl").post(
        f"/physicians/{w.physician.pk}/log/", _interaction(w, trial_site=elsewhere.pk, follow_up_days="")
    )
    assert response.status_code == 422
    assert "trial_site" in response.context["form"].errors
    assert Interaction.objects.count() == before


def test_other_teams_interactions_insights_and_inquiries_cannot_be_edited(w):
    c = client(w, "msl_other")
    assert c.post(f"/physicians/interactions/{w.interaction.pk}/edit/", _interaction(w)).status_code == 404
    assert c.post(f"/physicians/insights/{w.insight.pk}/edit/", {"theme": "safety", "text": "x"}).status_code == 404
    assert c.post(f"/physicians/inquiries/{w.inquiry.pk}/answer/", {"answer": "x"}).status_code == 404
    assert c.post(f"/physicians/inquiries/{w.inquiry.pk}/follow-up/", {"days": "1"}).status_code == 404
    assert (
        client(w, "manager_other")
        .post(f"/physicians/insights/{w.insight.pk}/transition/", {"to": "under_review"})
        .status_code
        == 404
    )
    w.insight.refresh_from_db()
    w.inquiry.refresh_from_db()
    assert (w.insight.status, w.insight.theme) == ("new", "efficacy")
    assert (w.inquiry.status, w.inquiry.answer) == ("open", "")
    assert not FollowUp.objects.filter(inquiry=w.inquiry).exists()
    assert Insight.objects.count() == 1


def test_a_teammate_cannot_edit_an_interaction_or_insight_they_did_not_write(w):
    teammate = User.objects.create_user("w_msl_mate", role=User.Role.MSL, team=w.users["msl"].team)
    c = Client()
    c.force_login(teammate)
    assert c.post(f"/physicians/interactions/{w.interaction.pk}/edit/", _interaction(w)).status_code == 403
    assert c.post(f"/physicians/insights/{w.insight.pk}/edit/", {"theme": "safety", "text": "x"}).status_code == 403
    w.interaction.refresh_from_db()
    assert w.interaction.summary == "Discussed the renal data"


def test_a_training_formset_cannot_edit_an_attendee_of_another_session(w):
    session = w.training
    attendee = w.other_attendee
    data = {
        "title": "Cardiolex launch",
        "held_on": timezone.localdate().isoformat(),
        "attendees-TOTAL_FORMS": "1",
        "attendees-INITIAL_FORMS": "1",
        "attendees-MIN_NUM_FORMS": "0",
        "attendees-MAX_NUM_FORMS": "1000",
        "attendees-0-id": attendee.pk,
        "attendees-0-session": session.pk,
        "attendees-0-name": "Stolen",
        "attendees-0-score_before": "99",
    }
    # Django's model formset ignores a row whose id is not among the session's attendees.
    response = client(w, "msl").post(f"/physicians/trainings/{session.pk}/edit/", data)
    assert response.status_code in REFUSED | {302}
    assert not session.attendees.exists()
    attendee.refresh_from_db()
    assert (attendee.session_id, attendee.name, attendee.score_before) == (w.other_training.pk, "Pat West", 40)
    # Deleting it through the formset is refused too.
    data["attendees-0-DELETE"] = "on"
    client(w, "msl").post(f"/physicians/trainings/{session.pk}/edit/", data)
    assert TrainingAttendee.objects.filter(pk=attendee.pk).exists()


def test_another_users_import_cannot_be_confirmed_or_read(w):
    job = w.physician_import
    for role in ("msl_other", "manager"):
        c = client(w, role)
        assert c.post(f"/physicians/import/{job.pk}/confirm/").status_code == 404, role
        assert c.get(f"/physicians/import/{job.pk}/").status_code == 404, role
    job.refresh_from_db()
    assert job.status == "validated"
    assert PhysicianImport.objects.count() == 1


def test_a_training_cannot_be_moved_to_another_team_by_editing(w):
    assert (
        client(w, "msl_other")
        .post(f"/physicians/trainings/{w.training.pk}/edit/", {"title": "Mine now", "held_on": "2030-01-01"})
        .status_code
        == 404
    )
    w.training.refresh_from_db()
    assert (w.training.title, w.training.team_id) == ("Cardiolex launch", w.users["msl"].team_id)
    assert Team.objects.filter(pk=w.training.team_id, kind=Team.Kind.MEDICAL_AFFAIRS).exists()


# --- documents ------------------------------------------------------------------------------------


def _upload(w, role: str, url: str, **fields):
    from tests.documents import samples

    data = {"doc-kind": "signed_consent", "doc-files": [samples.upload("signed.pdf", samples.pdf())], **fields}
    return client(w, role).post(url, data)


def test_a_document_cannot_be_filed_on_another_cases_consent_or_coverage(w):
    from documents.models import Document

    before = Document.objects.count()
    url = f"/documents/cases/{w.case.pk}/upload/"
    assert _upload(w, "nurse", url, **{"doc-consent": w.other_consent.pk}).status_code == 422
    assert (
        _upload(w, "nurse", url, **{"doc-kind": "insurance_card", "doc-coverage": w.other_coverage.pk}).status_code
        == 422
    )
    assert client(w, "nurse").get(url, {"consent": w.other_consent.pk}).status_code == 404
    assert client(w, "nurse").get(url, {"coverage": w.other_coverage.pk}).status_code == 404
    # Nor on another team's case, whatever the consent.
    other = f"/documents/cases/{w.other_case.pk}/upload/"
    assert _upload(w, "nurse", other, **{"doc-consent": w.other_consent.pk}).status_code == 404
    assert _upload(w, "manager", other).status_code == 404
    assert Document.objects.count() == before


def test_another_teams_document_cannot_be_read_or_marked_in_error(w):
    from documents import services
    from tests.documents import samples

    (theirs,) = services.upload_documents(
        by=w.users["nurse_other"], uploads=[samples.upload("x.png", samples.png())], kind="other", case=w.other_case
    )
    for path in ("download", "preview", "thumbnail", "entered-in-error"):
        for role in ("nurse", "manager", "msl"):
            assert client(w, role).get(f"/documents/{theirs.pk}/{path}/").status_code == 404, (path, role)
    response = client(w, "manager").post(f"/documents/{theirs.pk}/entered-in-error/", {f"error{theirs.pk}-reason": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert not theirs.is_entered_in_error


def test_an_inquiry_letter_cannot_be_filed_on_another_teams_inquiry(w):
    from documents.models import Document
    from tests.documents import samples
    from tests.factories import MedicalInquiryFactory

    theirs = MedicalInquiryFactory(physician=w.physician, owner=w.users["msl_other"])
    data = {"doc-kind": "inquiry_response", "doc-files": [samples.upload("r.pdf", samples.pdf())]}
    before = Document.objects.count()
    assert client(w, "msl").post(f"/documents/inquiries/{theirs.pk}/upload/", data).status_code == 404
    assert client(w, "manager").post(f"/documents/inquiries/{theirs.pk}/upload/", data).status_code == 404
    assert Document.objects.count() == before
