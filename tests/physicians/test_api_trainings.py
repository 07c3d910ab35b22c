"""Writing sales-team trainings on the REST API (POST and PATCH /api/v1/trainings/), through the
same services as the training pages (physicians.services.record_training / update_training)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from physicians import services
from physicians.models import TrainingAttendee, TrainingSession
from tests.factories import ProductFactory
from tests.physicians.factories import TrainingAttendeeFactory, TrainingSessionFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def api_for(api_for):
    """The shared fixture's clients, sending JSON bodies (the API's only format)."""

    def make(user, scope: str = "write"):
        client = api_for(user, scope=scope)
        client.default_format = "json"
        return client

    return make


def _attendees(session: TrainingSession) -> list[tuple]:
    return list(session.attendees.order_by("name").values_list("name", "attended", "score_before", "score_after"))


def _body(**overrides) -> dict:
    body = {
        "title": "Cardiolex launch",
        "held_on": "2024-05-01",
        "topics": "MoA",
        "materials_note": "Deck v3",
        "attendees": [
            {"name": "Rep One", "email": "one@example.com", "region": "North", "score_before": 50, "score_after": 80},
            {"name": "Rep Two", "attended": False},
        ],
    }
    return body | overrides


# --- create -------------------------------------------------------------------------------------


def test_an_msl_records_a_training_with_its_products_and_attendees(api_for, msl):
    a, b = ProductFactory(name="Cardiolex"), ProductFactory(name="Neurovex")
    response = api_for(msl).post(f"{API}/trainings/", _body(products=[a.pk, b.pk]))
    assert response.status_code == 201, response.content
    session = TrainingSession.objects.get()
    assert (session.title, session.held_on, session.topics, session.materials_note) == (
        "Cardiolex launch",
        dt.date(2024, 5, 1),
        "MoA",
        "Deck v3",
    )
    # The trainer is whoever records it, for their team: the service's rule, not the request's.
    assert (session.trainer, session.team) == (msl, msl.team)
    assert set(session.products.all()) == {a, b}
    assert _attendees(session) == [("Rep One", True, 50, 80), ("Rep Two", False, None, None)]
    body = response.json()
    assert body["id"] == session.pk and body["trainer"] == msl.pk and body["team"] == msl.team_id
    assert sorted(body["products"]) == sorted([a.pk, b.pk])
    assert [(row["name"], row["email"], row["region"]) for row in body["attendees"]] == [
        ("Rep One", "one@example.com", "North"),
        ("Rep Two", "", ""),
    ]


def test_a_training_without_a_date_is_held_today_as_on_the_page(api_for, msl):
    body = _body(attendees=[])
    del body["held_on"]
    response = api_for(msl).post(f"{API}/trainings/", body)
    assert response.status_code == 201, response.content
    assert TrainingSession.objects.get().held_on == timezone.localdate()
    assert response.json()["attendees"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "bad\x00title"}, "title"),
        ({"held_on": "not a date"}, "held_on"),
        ({"products": [2**62]}, "products"),  # the form's "not one of the available choices"
        ({"attendees": [{"name": "Rep", "score_after": 101}]}, "attendees"),
        ({"attendees": [{"name": ""}]}, "attendees"),
        ({"attendees": [{"id": 1, "delete": True}]}, "attendees"),  # nothing to remove on a new session
        ({"attendees": "Rep One"}, "attendees"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(api_for, msl, overrides, field):
    response = api_for(msl).post(f"{API}/trainings/", _body(**overrides))
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not TrainingSession.objects.exists() and not TrainingAttendee.objects.exists()


def test_an_attendee_error_names_the_row_and_its_column(api_for, msl):
    body = _body(attendees=[{"name": "Fine"}, {"name": "Rep", "score_after": 101}])
    errors = api_for(msl).post(f"{API}/trainings/", body).json()["attendees"]
    assert list(errors) == ["1"] and "score_after" in errors["1"]


@pytest.mark.parametrize("role", ["nurse", "manager", "admin_user"])
def test_only_an_msl_records_a_training(api_for, role, request):
    # A nurse does not see trainings at all; a manager or an administrator sees them but trains nobody.
    response = api_for(request.getfixturevalue(role)).post(f"{API}/trainings/", _body())
    assert response.status_code == 403, response.content
    assert not TrainingSession.objects.exists()


def test_a_read_only_token_cannot_write(api_for, msl):
    session = TrainingSessionFactory(trainer=msl, title="Before")
    read_only = api_for(msl, scope="read")
    assert read_only.post(f"{API}/trainings/", _body()).status_code == 403
    assert read_only.patch(f"{API}/trainings/{session.pk}/", {"title": "After"}).status_code == 403
    assert read_only.get(f"{API}/trainings/{session.pk}/").status_code == 200
    session.refresh_from_db()
    assert session.title == "Before" and TrainingSession.objects.count() == 1


# --- edit ---------------------------------------------------------------------------------------


@pytest.fixture
def session(msl):
    session = TrainingSessionFactory(trainer=msl, title="Cardiolex launch", held_on=dt.date(2024, 5, 1))
    session.products.add(ProductFactory(name="Cardiolex"))
    TrainingAttendeeFactory(session=session, name="Kept", score_before=40, score_after=60)
    TrainingAttendeeFactory(session=session, name="Changed", score_before=10, score_after=20)
    TrainingAttendeeFactory(session=session, name="Removed")
    return session


def _row(session: TrainingSession, name: str) -> TrainingAttendee:
    return session.attendees.get(name=name)


def test_the_trainer_edits_the_session_and_its_attendee_table(api_for, msl, session):
    product = ProductFactory(name="Neurovex")
    changed, removed = _row(session, "Changed"), _row(session, "Removed")
    body = {
        "title": "Cardiolex launch, part 2",
        "products": [product.pk],
        "attendees": [
            {"id": changed.pk, "score_after": 90},
            {"id": removed.pk, "delete": True},
            {"name": "Added", "score_before": 30, "score_after": 35},
        ],
    }
    response = api_for(msl).patch(f"{API}/trainings/{session.pk}/", body)
    assert response.status_code == 200, response.content
    session.refresh_from_db()
    assert (session.title, session.held_on, session.trainer, session.team) == (
        "Cardiolex launch, part 2",
        dt.date(2024, 5, 1),  # not sent: unchanged
        msl,
        msl.team,
    )
    assert list(session.products.all()) == [product]
    assert _attendees(session) == [("Added", True, 30, 35), ("Changed", True, 10, 90), ("Kept", True, 40, 60)]
    assert not TrainingAttendee.objects.filter(pk=removed.pk).exists()
    assert [row["name"] for row in response.json()["attendees"]] == ["Added", "Changed", "Kept"]


def test_a_patch_without_attendees_or_products_leaves_them(api_for, msl, session):
    before = (_attendees(session), list(session.products.all()))
    response = api_for(msl).patch(f"{API}/trainings/{session.pk}/", {"topics": "Renal data"})
    assert response.status_code == 200, response.content
    session.refresh_from_db()
    assert session.topics == "Renal data" and session.title == "Cardiolex launch"
    assert (_attendees(session), list(session.products.all())) == before


def test_a_manager_of_the_team_edits_a_session(api_for, manager, session):
    response = api_for(manager).patch(f"{API}/trainings/{session.pk}/", {"title": "Reviewed"})
    assert response.status_code == 200, response.content
    session.refresh_from_db()
    assert session.title == "Reviewed" and session.trainer.username == "msl"


@pytest.mark.parametrize(
    ("role", "status"),
    [("msl_teammate", 403), ("other_msl", 404), ("other_manager", 404), ("nurse", 403)],
)
def test_only_the_trainer_or_a_manager_of_the_team_edits(api_for, session, role, status, request):
    before = _attendees(session)
    body = {"title": "Taken over", "attendees": [{"id": _row(session, "Kept").pk, "delete": True}]}
    response = api_for(request.getfixturevalue(role)).patch(f"{API}/trainings/{session.pk}/", body)
    assert response.status_code == status, response.content
    session.refresh_from_db()
    assert session.title == "Cardiolex launch" and _attendees(session) == before


def test_an_attendee_of_another_session_cannot_be_changed_or_removed(api_for, msl, session):
    stranger = TrainingAttendeeFactory(session=TrainingSessionFactory(trainer=msl), name="Pat West", score_before=40)
    for row in ({"id": stranger.pk, "name": "Stolen"}, {"id": stranger.pk, "delete": True}):
        response = api_for(msl).patch(f"{API}/trainings/{session.pk}/", {"title": "X", "attendees": [row]})
        assert response.status_code == 400 and "id" in response.json()["attendees"]["0"], response.content
    stranger.refresh_from_db()
    session.refresh_from_db()
    assert (stranger.session_id, stranger.name) != (session.pk, "Stolen") and stranger.name == "Pat West"
    assert session.title == "Cardiolex launch"


def test_a_bad_edit_is_a_400_and_changes_nothing(api_for, msl, session):
    body = {"title": "Changed", "attendees": [{"id": _row(session, "Kept").pk, "score_before": 101}]}
    response = api_for(msl).patch(f"{API}/trainings/{session.pk}/", body)
    assert response.status_code == 400 and "score_before" in response.json()["attendees"]["0"], response.content
    session.refresh_from_db()
    assert session.title == "Cardiolex launch" and _row(session, "Kept").score_before == 40


# --- the services, which the pages call too ----------------------------------------------------


def test_the_services_refuse_what_the_pages_refuse(msl, msl_teammate, manager, session):
    with pytest.raises(PermissionDenied):
        services.record_training(by=manager, title="T", held_on=dt.date(2024, 5, 1))
    with pytest.raises(PermissionDenied):
        services.update_training(training=session, by=msl_teammate, title="Mine")
    with pytest.raises(ValidationError, match="Not attendees of this session"):
        services.update_training(training=session, by=msl, remove_attendees=[10**9])
    with pytest.raises(ValidationError, match="at most 300"):
        services.update_training(training=session, by=msl, attendees=[{"name": f"R{i}"} for i in range(298)])
    session.refresh_from_db()
    assert session.title == "Cardiolex launch" and session.attendees.count() == 3


def test_the_edit_page_changes_adds_and_deletes_attendees_through_the_service(client_for, msl, session):
    kept, changed, removed = (_row(session, n) for n in ("Kept", "Changed", "Removed"))
    data = {
        "title": "Edited on the page",
        "held_on": "2024-05-02",
        "products": [],
        "attendees-TOTAL_FORMS": "5",
        "attendees-INITIAL_FORMS": "3",
        "attendees-3-name": "New on the page",
        "attendees-3-attended": "on",
        "attendees-4-name": "",
        "attendees-4-attended": "on",  # an empty row, as the browser sends it
    }
    for index, (attendee, score_after) in enumerate(((kept, 60), (changed, 99), (removed, 70))):
        data |= {
            f"attendees-{index}-id": attendee.pk,
            f"attendees-{index}-session": session.pk,
            f"attendees-{index}-name": attendee.name,
            f"attendees-{index}-attended": "on",
            f"attendees-{index}-score_before": attendee.score_before,
            f"attendees-{index}-score_after": score_after,
        }
    data["attendees-2-DELETE"] = "on"
    response = client_for(msl).post(f"/physicians/trainings/{session.pk}/edit/", data)
    assert response.status_code == 302, response.content
    session.refresh_from_db()
    assert (session.title, session.held_on, session.products.count()) == ("Edited on the page", dt.date(2024, 5, 2), 0)
    assert _attendees(session) == [
        ("Changed", True, 10, 99),
        ("Kept", True, 40, 60),
        ("New on the page", True, None, None),
    ]
