"""POST /api/v1/interactions/bulk/: an MSL's offline queue, all stored or none."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from outreach.models import FollowUp
from physicians import services
from physicians.api import BULK_MAX
from physicians.choices import ConsentChannel, ConsentStatus
from physicians.models import Insight, Interaction, Physician, PhysicianTeamContact
from tests.factories import PhysicianFactory, ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/interactions/bulk/"


@pytest.fixture
def physicians(db) -> list[Physician]:
    return [PhysicianFactory() for _ in range(3)]


def item(physician: Physician, hours_ago: int = 1, **extra) -> dict:
    return {
        "physician": physician.pk,
        "occurred_at": (timezone.now() - dt.timedelta(hours=hours_ago)).isoformat(),
        "channel": "in_person",
        "topics": f"Visit {hours_ago}",
        **extra,
    }


def post(api, items) -> object:
    return api.post(URL, {"interactions": items}, format="json")


def nothing_written() -> bool:
    return not (
        Interaction.objects.exists()
        or Insight.objects.exists()
        or FollowUp.objects.exists()
        or PhysicianTeamContact.objects.exists()
        or Physician.objects.filter(last_interaction_at__isnull=False).exists()
    )


def test_all_stored_in_order_through_the_service(api_for, msl, physicians):
    product = ProductFactory()
    items = [
        item(physicians[0], 3, products=[product.pk], insights=[{"theme": "safety", "text": "QT worry"}]),
        item(physicians[1], 2, follow_up_days=3),
        item(physicians[2], 1, channel="phone"),
    ]
    response = post(api_for(msl), items)
    assert response.status_code == 201, response.content
    body = response.json()["interactions"]
    assert [row["physician"] for row in body] == [p.pk for p in physicians]
    assert [row["topics"] for row in body] == ["Visit 3", "Visit 2", "Visit 1"]
    logged = Interaction.objects.filter(msl=msl)
    assert logged.count() == 3 and {i.team_id for i in logged} == {msl.team_id}
    first = Interaction.objects.get(pk=body[0]["id"])
    assert list(first.products.all()) == [product]
    assert [(i.theme, i.text, i.captured_by_id) for i in first.insights.all()] == [("safety", "QT worry", msl.pk)]
    assert body[0]["insights"][0]["text"] == "QT worry"
    assert FollowUp.objects.get().interaction_id == body[1]["id"]
    # The service's effects: each physician's last contact.
    for physician in physicians:
        physician.refresh_from_db()
        assert physician.last_interaction_at is not None
    assert PhysicianTeamContact.objects.filter(team=msl.team).count() == 3


def test_one_bad_item_stores_nothing_and_names_its_index(api_for, msl, physicians):
    items = [item(p, n + 1) for n, p in enumerate(physicians)]
    items.insert(1, item(physicians[0], 5, off_label_discussed=True))  # off-label needs an unsolicited request
    items.append(item(physicians[1], 6, channel="carrier pigeon"))
    response = post(api_for(msl), items)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == [1, 4]
    assert "off_label_discussed" in errors[0]["errors"]
    assert "channel" in errors[1]["errors"]
    assert nothing_written()


def test_a_service_refusal_rolls_back_the_items_already_stored(api_for, msl, physicians):
    """Items 0 and 1 pass the shape and the form and are stored first; item 2 is refused by the
    service alone (a withdrawn consent): the transaction takes 0 and 1 back."""
    services.set_consent(physician=physicians[2], channel=ConsentChannel.PHONE, status=ConsentStatus.WITHDRAWN)
    items = [
        item(physicians[0], 3, insights=[{"theme": "efficacy", "text": "Good"}], follow_up_days=1),
        item(physicians[1], 2),
        item(physicians[2], 1, channel="phone"),
    ]
    response = post(api_for(msl), items)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [e["index"] for e in errors] == [2]
    assert "withdrew consent" in errors[0]["errors"]["channel"][0]
    assert nothing_written()


def test_nested_insight_errors_are_the_items(api_for, msl, physicians):
    items = [item(physicians[0]), item(physicians[1], insights=[{"theme": "efficacy"}])]
    response = post(api_for(msl), items)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    # DRF's errors of a nested list: by the insight's position.
    assert error["index"] == 1 and "text" in error["errors"]["insights"]["0"]
    assert nothing_written()


def test_an_unseen_or_missing_physician_is_an_item_error(api_for, msl, physicians):
    response = post(api_for(msl), [item(physicians[0]), {**item(physicians[1]), "physician": 987654321}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["index"] == 1 and "physician" in response.json()["errors"][0]["errors"]
    assert nothing_written()


@pytest.mark.parametrize("count", [0, BULK_MAX + 1])
def test_size_limits(api_for, msl, physicians, count):
    response = post(api_for(msl), [item(physicians[0], n + 1) for n in range(count)])
    assert response.status_code == 400 and "interactions" in response.json()
    assert nothing_written()


def test_the_largest_batch_is_stored(api_for, msl, physicians):
    response = post(api_for(msl), [item(physicians[n % 3], n + 1) for n in range(BULK_MAX)])
    assert response.status_code == 201
    assert Interaction.objects.count() == BULK_MAX


@pytest.mark.parametrize("body", [[], "x", {"interactions": "x"}, {"interactions": [1, None]}, {"other": []}])
def test_malformed_bodies_are_400(api_for, msl, body):
    response = api_for(msl).post(URL, body, format="json")
    assert response.status_code == 400
    assert nothing_written()


def test_roles_and_token_scope(api_for, msl, manager, nurse, physicians):
    items = [item(physicians[0])]
    assert post(api_for(manager), items).status_code == 403
    assert post(api_for(nurse), items).status_code == 403
    assert post(api_for(msl, scope="read"), items).status_code == 403
    assert nothing_written()
