"""The medical-affairs resources on the REST API (physicians/api.py): scope, fields, query counts,
and writes through the pages' forms and services."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.utils import timezone

from outreach.models import FollowUp, Notification
from physicians import services
from physicians.choices import Channel, ConsentChannel, ConsentStatus, InquiryStatus, InsightStatus, SiteStatus
from physicians.models import (
    ClinicalTrial,
    Insight,
    Institution,
    Interaction,
    MedicalInquiry,
    Physician,
    PhysicianTeamContact,
    Product,
    TrialSite,
)
from tests.factories import InstitutionFactory, MedicalInquiryFactory, PhysicianFactory, ProductFactory
from tests.physicians.factories import (
    ClinicalTrialFactory,
    InsightFactory,
    InteractionFactory,
    TrainingAttendeeFactory,
    TrainingSessionFactory,
    TrialSiteFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_for(api_for):
    """The shared fixture's clients, sending JSON bodies (the API's only format)."""

    def make(user, scope: str = "write"):
        client = api_for(user, scope=scope)
        client.default_format = "json"
        return client

    return make


API = "/api/v1"


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response) -> set[int]:
    return {row["id"] for row in results(response)}


def count_queries(api, url: str, django_assert_num_queries, expected: int) -> list[dict]:
    # A first request touches the token's last_used_at (once a minute): measure the next one.
    api.get(url)
    with django_assert_num_queries(expected):
        response = api.get(url)
    return results(response)


# --- physicians ---------------------------------------------------------------------------------


def test_physician_list_and_detail(api_for, msl, nurse):
    institution = InstitutionFactory(name="Mass General", city="Boston")
    seen = timezone.now() - dt.timedelta(days=3)
    mine = PhysicianFactory(
        first_name="Ada", last_name="Byron", owner=msl, institution=institution, last_interaction_at=seen
    )
    other = PhysicianFactory(first_name="Bea", last_name="Curie", owner=None)

    rows = results(api_for(msl).get(f"{API}/physicians/"))
    assert [r["id"] for r in rows] == [mine.pk, other.pk]  # by last name
    row = rows[0]
    assert row["display_name"] == "Dr. Ada Byron, MD"
    assert row["institution"] == institution.pk and row["institution_name"] == "Mass General"
    assert row["owner"] == msl.pk and row["owner_name"] == msl.display_name
    assert row["last_contact_at"] == seen.isoformat().replace("+00:00", "Z")
    assert rows[1]["owner"] is None and rows[1]["last_contact_at"] is None

    assert ids(api_for(msl).get(f"{API}/physicians/?scope=mine")) == {mine.pk}
    # Physicians are reference data: a nurse reads them (as referral sources).
    detail = api_for(nurse).get(f"{API}/physicians/{other.pk}/")
    assert detail.status_code == 200 and detail.json()["last_name"] == "Curie"


def test_physician_list_uses_the_pages_filters(api_for, msl):
    old = PhysicianFactory(last_name="Old", last_interaction_at=timezone.now() - dt.timedelta(days=200), owner=msl)
    recent = PhysicianFactory(last_name="Recent", last_interaction_at=timezone.now() - dt.timedelta(days=2), owner=msl)
    never = PhysicianFactory(last_name="Never")
    api = api_for(msl)
    assert ids(api.get(f"{API}/physicians/?not_contacted_days=90")) == {old.pk, never.pk}
    assert ids(api.get(f"{API}/physicians/?q=Rec")) == {recent.pk}
    assert ids(api.get(f"{API}/physicians/?institution={old.institution_id}")) == {old.pk}
    # Out of the database's range: a 400 naming the filter, never a 500.
    assert api.get(f"{API}/physicians/?not_contacted_days=1000000000000").status_code == 400
    assert api.get(f"{API}/physicians/?tier=7").status_code == 400


@pytest.mark.parametrize("rows", [2, 12])
def test_physician_list_query_count(api_for, msl, rows, django_assert_num_queries):
    for _ in range(rows):
        PhysicianFactory(owner=msl, last_interaction_at=timezone.now())
    api = api_for(msl)
    # token and user; the page of physicians (institution, owner, last contact joined); their areas.
    assert len(count_queries(api, f"{API}/physicians/", django_assert_num_queries, 3)) == rows


def test_physician_create_through_the_form(api_for, msl):
    institution = InstitutionFactory()
    response = api_for(msl).post(
        f"{API}/physicians/",
        {"first_name": "Grace", "last_name": "Hopper", "npi": "1234567893", "institution": institution.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    physician = Physician.objects.get(pk=response.json()["id"])
    assert (physician.last_name, physician.npi, physician.institution_id) == ("Hopper", "1234567893", institution.pk)
    # As the page's form: a new physician is the MSL's own.
    assert physician.owner_id == msl.pk and response.json()["owner"] == msl.pk


def test_physician_bad_input_is_400_with_the_field(api_for, msl):
    api = api_for(msl)
    response = api.post(f"{API}/physicians/", {"first_name": "X", "last_name": "Y", "npi": "1234567890"}, format="json")
    assert response.status_code == 400 and "npi" in response.json()
    response = api.post(f"{API}/physicians/", {"first_name": "X", "last_name": "Y", "kol_tier": 9}, format="json")
    assert response.status_code == 400 and "kol_tier" in response.json()
    # The form's own rule: the owner is an active MSL.
    response = api.post(f"{API}/physicians/", {"first_name": "X", "last_name": "Y", "owner": None}, format="json")
    assert response.status_code == 201
    assert Physician.objects.filter(last_name="Y").count() == 1


def test_physician_owner_must_be_an_msl(api_for, msl, nurse):
    response = api_for(msl).post(
        f"{API}/physicians/", {"first_name": "X", "last_name": "Y", "owner": nurse.pk}, format="json"
    )
    assert response.status_code == 400 and "owner" in response.json()
    assert not Physician.objects.filter(last_name="Y").exists()


def test_physician_patch_keeps_the_other_fields(api_for, msl, manager):
    physician = PhysicianFactory(first_name="Ada", last_name="Byron", owner=msl, kol_tier=2, email="ada@example.test")
    response = api_for(manager).patch(f"{API}/physicians/{physician.pk}/", {"kol_tier": 1}, format="json")
    assert response.status_code == 200, response.content
    physician.refresh_from_db()
    assert (physician.kol_tier, physician.email, physician.owner_id) == (1, "ada@example.test", msl.pk)
    assert response.json()["kol_tier"] == 1


def test_physician_writes_are_403_for_a_nurse_and_a_read_only_token(api_for, nurse, msl):
    physician = PhysicianFactory(last_name="Byron")
    body = {"first_name": "X", "last_name": "Y"}
    assert api_for(nurse).post(f"{API}/physicians/", body, format="json").status_code == 403
    assert api_for(nurse).patch(f"{API}/physicians/{physician.pk}/", body, format="json").status_code == 403
    assert api_for(msl, scope="read").post(f"{API}/physicians/", body, format="json").status_code == 403
    assert api_for(msl, scope="read").get(f"{API}/physicians/").status_code == 200
    assert not Physician.objects.filter(last_name="Y").exists()
    assert Physician.objects.get(pk=physician.pk).last_name == "Byron"


@pytest.mark.parametrize(("resource", "position"), [("sites", "abc"), ("physicians", "a\x00b"), ("interactions", "x")])
def test_a_forged_cursor_is_404_not_500(api_for, msl, resource, position):
    forged = base64.b64encode(f"o=0&p={position}".encode()).decode()
    response = api_for(msl).get(f"{API}/{resource}/", {"cursor": forged})
    assert response.status_code == 404 and response.json()["detail"] == "Invalid cursor"


def test_physician_missing_is_404(api_for, msl):
    assert api_for(msl).get(f"{API}/physicians/999999/").status_code == 404
    assert api_for(msl).get(f"{API}/physicians/99999999999999999999999/").status_code == 404


# --- institutions and products ------------------------------------------------------------------


@pytest.mark.parametrize("rows", [2, 12])
def test_institution_list(api_for, nurse, rows, django_assert_num_queries):
    for n in range(rows):
        InstitutionFactory(name=f"Clinic {n:02d}", city="Boston", state="MA")
    listed = count_queries(api_for(nurse), f"{API}/institutions/", django_assert_num_queries, 2)
    assert [r["name"] for r in listed] == [f"Clinic {n:02d}" for n in range(rows)]
    assert listed[0]["city"] == "Boston" and listed[0]["kind"] == "hospital"


def test_institution_filter_and_detail(api_for, nurse):
    boston = InstitutionFactory(name="Beacon", city="Boston", state="MA")
    InstitutionFactory(name="Cedar", city="Denver", state="CO")
    assert ids(api_for(nurse).get(f"{API}/institutions/?q=Bea")) == {boston.pk}
    assert api_for(nurse).get(f"{API}/institutions/{boston.pk}/").json()["state"] == "MA"


def test_institution_create_and_unique(api_for, msl, nurse):
    body = {"name": "Beacon Health", "city": "Boston", "kind": "academic"}
    assert api_for(nurse).post(f"{API}/institutions/", body, format="json").status_code == 403
    response = api_for(msl).post(f"{API}/institutions/", body, format="json")
    assert response.status_code == 201, response.content
    assert Institution.objects.get(name="Beacon Health").kind == "academic"
    # The form's unique (name, city) check: a 400, not an IntegrityError.
    again = api_for(msl).post(f"{API}/institutions/", body, format="json")
    assert again.status_code == 400
    assert Institution.objects.filter(name="Beacon Health").count() == 1


@pytest.mark.parametrize("rows", [2, 12])
def test_product_list(api_for, msl, rows, django_assert_num_queries):
    for n in range(rows):
        ProductFactory(name=f"Drug {n:02d}")
    listed = count_queries(api_for(msl), f"{API}/products/", django_assert_num_queries, 2)
    assert [r["name"] for r in listed] == [f"Drug {n:02d}" for n in range(rows)]
    assert listed[0]["generic_name"] == "examplemab" and listed[0]["therapeutic_area"] is None


def test_products_are_403_for_a_nurse(api_for, nurse, msl):
    product = ProductFactory()
    assert api_for(nurse).get(f"{API}/products/").status_code == 403
    assert api_for(nurse).get(f"{API}/products/{product.pk}/").status_code == 403
    response = api_for(msl).patch(f"{API}/products/{product.pk}/", {"status": "investigational"}, format="json")
    assert response.status_code == 200
    assert Product.objects.get(pk=product.pk).status == "investigational"


# --- interactions -------------------------------------------------------------------------------


@pytest.fixture
def visit(msl):
    interaction = InteractionFactory(msl=msl, topics="Renal dosing", duration_minutes=45)
    product = ProductFactory(name="Cardiolex")
    interaction.products.add(product)
    InsightFactory(interaction=interaction, physician=interaction.physician, captured_by=msl, text="Wants data")
    return interaction


def test_interaction_list_and_detail(api_for, msl_teammate, visit):
    rows = results(api_for(msl_teammate).get(f"{API}/interactions/"))
    assert [r["id"] for r in rows] == [visit.pk]
    row = rows[0]
    assert row["physician"] == visit.physician_id and row["physician_name"] == visit.physician.display_name
    assert row["msl"] == visit.msl_id and row["team"] == visit.team_id
    assert row["topics"] == "Renal dosing" and row["duration_minutes"] == 45 and row["channel"] == "in_person"
    assert row["products"] == [visit.products.get().pk]
    assert [i["text"] for i in row["insights"]] == ["Wants data"]
    detail = api_for(msl_teammate).get(f"{API}/interactions/{visit.pk}/")
    assert detail.status_code == 200 and detail.json() == row


def test_interaction_scope(api_for, other_msl, other_manager, nurse, manager, visit):
    for outsider in (other_msl, other_manager):
        assert api_for(outsider).get(f"{API}/interactions/{visit.pk}/").status_code == 404
        assert ids(api_for(outsider).get(f"{API}/interactions/")) == set()
    assert api_for(nurse).get(f"{API}/interactions/").status_code == 403
    assert api_for(nurse).get(f"{API}/interactions/{visit.pk}/").status_code == 403
    assert ids(api_for(manager).get(f"{API}/interactions/")) == {visit.pk}


def test_interaction_filters(api_for, msl, visit):
    other = InteractionFactory(msl=msl, channel=Channel.PHONE, topics="Access")
    api = api_for(msl)
    assert ids(api.get(f"{API}/interactions/?channel=phone")) == {other.pk}
    assert ids(api.get(f"{API}/interactions/?q=Renal")) == {visit.pk}
    assert ids(api.get(f"{API}/interactions/?product={visit.products.get().pk}")) == {visit.pk}
    assert api.get(f"{API}/interactions/?date_to=9999-12-31").status_code == 400


@pytest.mark.parametrize("rows", [2, 12])
def test_interaction_list_query_count(api_for, msl, rows, django_assert_num_queries):
    products = [ProductFactory(), ProductFactory()]
    for _ in range(rows):
        interaction = InteractionFactory(msl=msl)
        interaction.products.set(products)
        InsightFactory(interaction=interaction, physician=interaction.physician, captured_by=msl)
    # token and user; the page (physician and MSL joined); its products; its insights.
    listed = count_queries(api_for(msl), f"{API}/interactions/", django_assert_num_queries, 4)
    assert len(listed) == rows and all(len(r["products"]) == 2 and len(r["insights"]) == 1 for r in listed)


@pytest.fixture
def physician(msl):
    return PhysicianFactory(first_name="Ada", last_name="Byron")


def visit_body(physician, **extra) -> dict:
    return {
        "physician": physician.pk,
        "occurred_at": (timezone.now() - dt.timedelta(hours=2)).isoformat(),
        "channel": "in_person",
        "duration_minutes": 40,
        "topics": "Phase III results",
        "summary": "Walked through the data.",
        **extra,
    }


def test_interaction_create_with_nested_insights(api_for, msl, physician):
    product = ProductFactory()
    body = visit_body(
        physician,
        products=[product.pk],
        follow_up_days=7,
        insights=[
            {"theme": "efficacy", "text": "Sees faster responses", "product": product.pk, "sentiment": "positive"},
            {"theme": "safety", "text": "Worried about QT"},
        ],
    )
    response = api_for(msl).post(f"{API}/interactions/", body, format="json")
    assert response.status_code == 201, response.content
    interaction = Interaction.objects.get(pk=response.json()["id"])
    assert (interaction.msl_id, interaction.team_id, interaction.duration_minutes) == (msl.pk, msl.team_id, 40)
    assert list(interaction.products.all()) == [product]
    insights = list(interaction.insights.order_by("id"))
    assert [(i.theme, i.sentiment, i.product_id) for i in insights] == [
        ("efficacy", "positive", product.pk),
        ("safety", "neutral", None),
    ]
    assert all(i.captured_by_id == msl.pk and i.physician_id == physician.pk for i in insights)
    # The service's effects: last contact (for all and for the team) and the follow-up.
    physician.refresh_from_db()
    assert physician.last_interaction_at == interaction.occurred_at
    assert PhysicianTeamContact.objects.get(physician=physician, team=msl.team).last_interaction_at == (
        interaction.occurred_at
    )
    assert FollowUp.objects.get(interaction=interaction).owner_id == msl.pk
    assert [i["text"] for i in response.json()["insights"]] == ["Sees faster responses", "Worried about QT"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"off_label_discussed": True}, "off_label_discussed"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"channel": "pigeon"}, "channel"),
        ({"topics": "x" * 301}, "topics"),
        ({"follow_up_days": 1000}, "follow_up_days"),
        ({"products": [999999]}, "products"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"insights": [{"theme": "efficacy"}]}, "insights"),
        ({"insights": [{"theme": "efficacy", "text": "ok", "product": 999999}]}, "insights"),
        ({"insights": [{"theme": "efficacy", "text": "ok"}] * 11}, "insights"),
    ],
)
def test_interaction_create_bad_input(api_for, msl, physician, extra, field):
    response = api_for(msl).post(f"{API}/interactions/", visit_body(physician, **extra), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Interaction.objects.exists() and not Insight.objects.exists()


def test_interaction_trial_site_must_concern_the_physician(api_for, msl, physician):
    elsewhere = TrialSiteFactory()
    here = TrialSiteFactory(institution=physician.institution)
    api = api_for(msl)
    response = api.post(f"{API}/interactions/", visit_body(physician, trial_site=elsewhere.pk), format="json")
    assert response.status_code == 400 and "trial_site" in response.json()
    response = api.post(f"{API}/interactions/", visit_body(physician, trial_site=here.pk), format="json")
    assert response.status_code == 201 and response.json()["trial_site"] == here.pk


def test_interaction_withdrawn_consent_is_refused_by_the_service(api_for, msl, physician):
    services.set_consent(physician=physician, channel=ConsentChannel.PHONE, status=ConsentStatus.WITHDRAWN)
    response = api_for(msl).post(f"{API}/interactions/", visit_body(physician, channel="phone"), format="json")
    assert response.status_code == 400 and "withdrew consent" in response.json()["channel"][0]
    assert not Interaction.objects.exists()


def test_interaction_create_is_for_msls_only(api_for, manager, nurse, msl, physician):
    assert api_for(manager).post(f"{API}/interactions/", visit_body(physician), format="json").status_code == 403
    assert api_for(nurse).post(f"{API}/interactions/", visit_body(physician), format="json").status_code == 403
    assert api_for(msl, scope="read").post(
        f"{API}/interactions/", visit_body(physician), format="json"
    ).status_code == (403)
    assert not Interaction.objects.exists()


def test_interaction_patch_by_its_author(api_for, msl, msl_teammate, visit):
    response = api_for(msl).patch(f"{API}/interactions/{visit.pk}/", {"topics": "Access", "duration_minutes": 20})
    assert response.status_code == 200, response.content
    visit.refresh_from_db()
    assert (visit.topics, visit.duration_minutes, visit.summary) == ("Access", 20, "Discussed the new data.")
    assert visit.products.count() == 1  # kept: not sent
    response = api_for(msl).patch(f"{API}/interactions/{visit.pk}/", {"products": []}, format="json")
    assert response.status_code == 200 and not visit.products.exists()
    refused = api_for(msl_teammate).patch(f"{API}/interactions/{visit.pk}/", {"topics": "Mine now"}, format="json")
    assert refused.status_code == 403
    bad = api_for(msl).patch(f"{API}/interactions/{visit.pk}/", {"off_label_discussed": True}, format="json")
    assert bad.status_code == 400 and "off_label_discussed" in bad.json()
    visit.refresh_from_db()
    assert visit.topics == "Access" and not visit.off_label_discussed


def test_interaction_patch_moves_the_last_contact(api_for, msl, physician):
    old = timezone.now() - dt.timedelta(days=10)
    interaction = services.log_interaction(physician=physician, msl=msl, channel="phone", occurred_at=old)
    newer = timezone.now() - dt.timedelta(days=1)
    response = api_for(msl).patch(
        f"{API}/interactions/{interaction.pk}/", {"occurred_at": newer.isoformat()}, format="json"
    )
    assert response.status_code == 200
    physician.refresh_from_db()
    assert physician.last_interaction_at == newer


# --- insights -----------------------------------------------------------------------------------


@pytest.fixture
def insight(msl):
    return InsightFactory(captured_by=msl, text="Sees faster responses", theme="efficacy")


def test_insight_list_and_detail(api_for, msl, manager, insight):
    row = results(api_for(msl).get(f"{API}/insights/"))[0]
    assert row["id"] == insight.pk and row["text"] == "Sees faster responses" and row["status"] == "new"
    assert row["captured_by"] == msl.pk and row["physician_name"] == insight.physician.display_name
    assert row["transitions"] == []  # an MSL does not review
    detail = api_for(manager).get(f"{API}/insights/{insight.pk}/").json()
    assert detail["transitions"] == ["under_review"]
    assert ids(api_for(msl).get(f"{API}/insights/?theme=safety")) == set()


@pytest.mark.parametrize("rows", [2, 12])
def test_insight_list_query_count(api_for, msl, manager, rows, django_assert_num_queries):
    for _ in range(rows):
        InsightFactory(captured_by=msl)
    # token and user; the manager's teams; the page of insights (physician and captor joined).
    assert len(count_queries(api_for(manager), f"{API}/insights/", django_assert_num_queries, 3)) == rows


def test_insight_scope(api_for, other_msl, other_manager, nurse, insight):
    assert api_for(other_msl).get(f"{API}/insights/{insight.pk}/").status_code == 404
    assert ids(api_for(other_msl).get(f"{API}/insights/")) == set()
    response = api_for(other_manager).post(f"{API}/insights/{insight.pk}/transition/", {"to": "under_review"})
    assert response.status_code == 404
    assert api_for(nurse).get(f"{API}/insights/").status_code == 403


def test_insight_review_transitions(api_for, msl, manager, insight):
    api = api_for(manager)
    response = api.post(f"{API}/insights/{insight.pk}/transition/", {"to": "under_review"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "under_review"
    assert response.json()["transitions"] == ["actioned", "closed"]
    insight.refresh_from_db()
    assert insight.status == InsightStatus.UNDER_REVIEW and insight.reviewer_id == manager.pk
    assert Notification.objects.filter(user=msl, kind="insight_status").count() == 1

    # Closing needs a note (the service's rule), and a skipped step is refused.
    refused = api.post(f"{API}/insights/{insight.pk}/transition/", {"to": "closed"}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()
    refused = api.post(f"{API}/insights/{insight.pk}/transition/", {"to": "new"}, format="json")
    assert refused.status_code == 400
    done = api.post(f"{API}/insights/{insight.pk}/transition/", {"to": "closed", "note": "Shared with R&D"})
    assert done.status_code == 200
    insight.refresh_from_db()
    assert (insight.status, insight.review_note) == (InsightStatus.CLOSED, "Shared with R&D")


def test_insight_review_is_403_for_an_msl(api_for, msl, insight):
    response = api_for(msl).post(f"{API}/insights/{insight.pk}/transition/", {"to": "under_review"}, format="json")
    assert response.status_code == 403
    insight.refresh_from_db()
    assert insight.status == InsightStatus.NEW


def test_insight_capture_and_edit(api_for, msl, msl_teammate, manager, physician):
    response = api_for(msl).post(
        f"{API}/insights/", {"physician": physician.pk, "theme": "access", "text": "Prior auth is slow"}, format="json"
    )
    assert response.status_code == 201, response.content
    insight = Insight.objects.get(pk=response.json()["id"])
    assert (insight.captured_by_id, insight.team_id, insight.sentiment) == (msl.pk, msl.team_id, "neutral")
    assert (
        api_for(manager)
        .post(f"{API}/insights/", {"physician": physician.pk, "theme": "access", "text": "x"})
        .status_code
        == 403
    )
    bad = api_for(msl).post(f"{API}/insights/", {"physician": physician.pk, "theme": "nope", "text": "x"})
    assert bad.status_code == 400 and "theme" in bad.json()

    assert api_for(msl_teammate).patch(f"{API}/insights/{insight.pk}/", {"text": "Changed"}).status_code == 403
    edited = api_for(msl).patch(f"{API}/insights/{insight.pk}/", {"text": "Prior auth takes weeks"}, format="json")
    assert edited.status_code == 200
    insight.refresh_from_db()
    assert (insight.text, insight.theme) == ("Prior auth takes weeks", "access")
    assert Insight.objects.count() == 1


# --- inquiries ----------------------------------------------------------------------------------


@pytest.fixture
def inquiry(msl):
    return MedicalInquiryFactory(owner=msl, question="Dosing in renal impairment?")


def test_inquiry_list_and_detail(api_for, msl_teammate, inquiry):
    row = results(api_for(msl_teammate).get(f"{API}/inquiries/"))[0]
    assert row["id"] == inquiry.pk and row["question"] == "Dosing in renal impairment?"
    assert row["status"] == "open" and row["is_overdue"] is False and row["answer"] == ""
    assert api_for(msl_teammate).get(f"{API}/inquiries/{inquiry.pk}/").json() == row
    assert ids(api_for(msl_teammate).get(f"{API}/inquiries/?status=answered")) == set()


@pytest.mark.parametrize("rows", [2, 12])
def test_inquiry_list_query_count(api_for, msl, rows, django_assert_num_queries):
    for _ in range(rows):
        MedicalInquiryFactory(owner=msl)
    # token and user; the page of inquiries (physician and owner joined).
    assert len(count_queries(api_for(msl), f"{API}/inquiries/", django_assert_num_queries, 2)) == rows


def test_inquiry_scope(api_for, other_msl, nurse, inquiry):
    assert api_for(other_msl).get(f"{API}/inquiries/{inquiry.pk}/").status_code == 404
    assert api_for(other_msl).post(f"{API}/inquiries/{inquiry.pk}/close/").status_code == 404
    assert ids(api_for(other_msl).get(f"{API}/inquiries/")) == set()
    assert api_for(nurse).get(f"{API}/inquiries/").status_code == 403


def test_inquiry_record_answer_close(api_for, msl, physician):
    api = api_for(msl)
    response = api.post(
        f"{API}/inquiries/", {"physician": physician.pk, "question": "Is it safe?", "priority": "urgent"}, format="json"
    )
    assert response.status_code == 201, response.content
    inquiry = MedicalInquiry.objects.get(pk=response.json()["id"])
    assert (inquiry.owner_id, inquiry.team_id, inquiry.priority) == (msl.pk, msl.team_id, "urgent")
    # The service sets the due date from the priority's service level.
    assert inquiry.due_at - inquiry.received_at == dt.timedelta(days=2)

    refused = api.post(f"{API}/inquiries/{inquiry.pk}/close/")
    assert refused.status_code == 400  # only an answered inquiry closes
    bad = api.post(f"{API}/inquiries/{inquiry.pk}/answer/", {"answer": "Yes", "delivery_method": "fax"})
    assert bad.status_code == 400 and "delivery_method" in bad.json()
    answered = api.post(
        f"{API}/inquiries/{inquiry.pk}/answer/", {"answer": "Yes, per label.", "delivery_method": "email"}
    )
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    closed = api.post(f"{API}/inquiries/{inquiry.pk}/close/")
    assert closed.status_code == 200
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.answer, inquiry.delivery_method) == (
        InquiryStatus.CLOSED,
        "Yes, per label.",
        "email",
    )
    assert inquiry.closed_at is not None


def test_inquiry_bad_input_and_roles(api_for, msl, manager, physician):
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    body = {"physician": physician.pk, "question": "Q?", "priority": "standard", "received_at": future}
    response = api_for(msl).post(f"{API}/inquiries/", body, format="json")
    assert response.status_code == 400 and "received_at" in response.json()
    response = api_for(msl).post(f"{API}/inquiries/", {**body, "received_at": None, "priority": "whenever"})
    assert response.status_code == 400 and "priority" in response.json()
    response = api_for(msl).post(f"{API}/inquiries/", {**body, "received_at": "not a date"})
    assert response.status_code == 400 and "received_at" in response.json()
    del body["received_at"]
    assert api_for(manager).post(f"{API}/inquiries/", body, format="json").status_code == 403
    assert not MedicalInquiry.objects.exists()


def test_inquiry_edit_moves_the_due_date_with_the_priority(api_for, client_for, msl, inquiry):
    # The edit page too: services.update_inquiry compares with the stored row, as the form has
    # already set the new priority on the instance it validated.
    received = f"{timezone.localtime(inquiry.received_at):%Y-%m-%d %H:%M}"
    page = client_for(msl).post(
        f"/physicians/inquiries/{inquiry.pk}/edit/",
        {"question": inquiry.question, "priority": "urgent", "received_at": received},
    )
    assert page.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.priority == "urgent" and inquiry.due_at - inquiry.received_at == dt.timedelta(days=2)

    response = api_for(msl).patch(f"{API}/inquiries/{inquiry.pk}/", {"priority": "standard"})
    assert response.status_code == 200, response.content
    inquiry.refresh_from_db()
    assert inquiry.priority == "standard" and inquiry.question == "Dosing in renal impairment?"
    assert inquiry.due_at - inquiry.received_at == dt.timedelta(days=10)


# --- trainings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [2, 12])
def test_training_list_query_count(api_for, msl, rows, django_assert_num_queries):
    product = ProductFactory()
    for _ in range(rows):
        session = TrainingSessionFactory(trainer=msl)
        session.products.add(product)
        TrainingAttendeeFactory(session=session)
    # token and user; the page of sessions (trainer joined); their products; their attendees.
    listed = count_queries(api_for(msl), f"{API}/trainings/", django_assert_num_queries, 4)
    assert len(listed) == rows and all(r["products"] == [product.pk] and len(r["attendees"]) == 1 for r in listed)


def test_training_detail_and_scope(api_for, msl, other_msl, nurse):
    session = TrainingSessionFactory(trainer=msl, title="Cardiolex launch")
    TrainingAttendeeFactory(session=session, name="Sam Rep", score_before=40, score_after=80)
    detail = api_for(msl).get(f"{API}/trainings/{session.pk}/").json()
    assert detail["title"] == "Cardiolex launch" and detail["trainer"] == msl.pk
    assert detail["attendees"][0]["name"] == "Sam Rep" and detail["attendees"][0]["score_after"] == 80
    assert api_for(other_msl).get(f"{API}/trainings/{session.pk}/").status_code == 404
    assert ids(api_for(other_msl).get(f"{API}/trainings/")) == set()
    assert api_for(nurse).get(f"{API}/trainings/").status_code == 403


# --- trials and sites ---------------------------------------------------------------------------


def test_trials_read_by_both_sides_written_by_medical_affairs(api_for, msl, nurse):
    trial = ClinicalTrialFactory(protocol_number="LCX-301", title="CARDIO-3")
    row = results(api_for(nurse).get(f"{API}/trials/"))[0]
    assert (row["id"], row["protocol_number"], row["product_name"]) == (trial.pk, "LCX-301", trial.product.name)
    body = {"protocol_number": "LCX-400", "nct_number": "NCT01234567", "title": "New", "phase": "2",
            "product": trial.product_id}  # fmt: skip
    assert api_for(nurse).post(f"{API}/trials/", body, format="json").status_code == 403
    missing_nct = api_for(msl).post(f"{API}/trials/", {**body, "nct_number": None}, format="json")
    assert missing_nct.status_code == 400 and "nct_number" in missing_nct.json()
    response = api_for(msl).post(f"{API}/trials/", body, format="json")
    assert response.status_code == 201, response.content
    assert ClinicalTrial.objects.get(protocol_number="LCX-400").nct_number == "NCT01234567"


@pytest.mark.parametrize("rows", [2, 12])
def test_trial_list_query_count(api_for, nurse, rows, django_assert_num_queries):
    for _ in range(rows):
        ClinicalTrialFactory()
    # token and user; the page of trials (product joined).
    listed = count_queries(api_for(nurse), f"{API}/trials/", django_assert_num_queries, 2)
    assert len(listed) == rows and {row["product_name"] for row in listed} != {None}


@pytest.mark.parametrize("rows", [2, 12])
def test_site_list_query_count(api_for, nurse, rows, django_assert_num_queries):
    trial = ClinicalTrialFactory()
    for _ in range(rows):
        TrialSiteFactory(trial=trial)
    # token and user; the page of sites (trial, institution, investigator joined, enrolment counted).
    listed = count_queries(api_for(nurse), f"{API}/sites/", django_assert_num_queries, 2)
    assert len(listed) == rows and listed[0]["enrolled"] == 0 and listed[0]["next_status"] == "selected"


def test_site_advance(api_for, msl, nurse, other_msl):
    site = TrialSiteFactory()
    assert api_for(nurse).post(f"{API}/sites/{site.pk}/advance/", {"to": "selected"}).status_code == 403
    skipped = api_for(msl).post(f"{API}/sites/{site.pk}/advance/", {"to": "activated"}, format="json")
    assert skipped.status_code == 400
    response = api_for(msl).post(f"{API}/sites/{site.pk}/advance/", {"to": "selected"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "selected"
    response = api_for(other_msl).post(
        f"{API}/sites/{site.pk}/advance/", {"to": "activated", "activated_on": "2026-01-15"}, format="json"
    )
    assert response.status_code == 200, response.content
    site.refresh_from_db()
    assert (site.status, site.activated_on) == (SiteStatus.ACTIVATED, dt.date(2026, 1, 15))
    # Enrolling needs a principal investigator (the service's rule).
    refused = api_for(msl).post(f"{API}/sites/{site.pk}/advance/", {"to": "enrolling"}, format="json")
    assert refused.status_code == 400
    assert TrialSite.objects.get(pk=site.pk).status == SiteStatus.ACTIVATED


def test_site_create(api_for, msl):
    trial = ClinicalTrialFactory()
    institution = InstitutionFactory()
    body = {"trial": trial.pk, "institution": institution.pk, "enrolment_target": 30}
    response = api_for(msl).post(f"{API}/sites/", body, format="json")
    assert response.status_code == 201, response.content
    assert TrialSite.objects.get(trial=trial).enrolment_target == 30
    # The same trial at the same institution twice: the form's unique check.
    assert api_for(msl).post(f"{API}/sites/", body, format="json").status_code == 400
    assert TrialSite.objects.count() == 1
