"""Real Chromium: an MSL logs a visit with an insight and sees both on the physician's timeline."""

from __future__ import annotations

import re

import pytest

from physicians.models import Insight, Interaction
from tests.factories import PhysicianFactory, ProductFactory

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_msl_logs_an_interaction_with_an_insight_and_sees_both_on_the_timeline(page, msl):
    physician = PhysicianFactory(first_name="Rosalind", last_name="Franklin", owner=msl)
    ProductFactory(name="Cardiolex")
    login(page, "msl")
    assert page.url.endswith("/physicians/")

    page.get_by_role("link", name="Franklin, Rosalind").click()
    page.wait_for_url(f"**/physicians/{physician.pk}/")
    page.get_by_role("link", name="Log interaction").click()
    page.wait_for_url(f"**/physicians/{physician.pk}/log/")

    page.get_by_label("Topics").fill("Phase III results")
    page.get_by_label("Cardiolex").check()
    page.get_by_label("Theme").select_option(label="Safety")
    page.get_by_label("What the physician said").fill("Worried about bleeding with anticoagulants")
    page.get_by_role("button", name="Save interaction").click()
    page.wait_for_url(f"**/physicians/{physician.pk}/")

    timeline = page.locator("#timeline")
    assert timeline.get_by_text("In person, 30 min").is_visible()
    assert timeline.get_by_text("Worried about bleeding with anticoagulants").is_visible()
    assert page.get_by_text(re.compile(r"Interaction logged with 1 insight")).is_visible()
    assert Interaction.objects.get().msl == msl
    assert Insight.objects.get().text == "Worried about bleeding with anticoagulants"


def test_another_insight_row_is_added_in_the_browser(page, msl):
    physician = PhysicianFactory(owner=msl)
    login(page, "msl")
    page.goto(f"/physicians/{physician.pk}/log/")
    assert page.locator("fieldset.insight-form").count() == 1
    page.get_by_role("button", name="Another insight").click()
    assert page.locator("fieldset.insight-form").count() == 2
    assert page.locator("#id_insights-TOTAL_FORMS").input_value() == "2"
