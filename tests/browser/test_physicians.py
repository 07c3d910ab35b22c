"""Real Chromium: an MSL logs a visit with an insight and sees both on the physician's timeline;
the type-ahead pickers (Tom Select) of the interaction form and of the filter bar work by typing."""

from __future__ import annotations

import re

import pytest

from accounts.models import User
from physicians.models import Insight, Interaction, Product
from tests.factories import InstitutionFactory, PhysicianFactory, ProductFactory, UserFactory
from tests.physicians.factories import TrialSiteFactory

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def picker(scope, label: str):
    """The text box of the Tom Select picker labelled `label` (a combobox; its list is a listbox)."""
    return scope.get_by_role("combobox", name=label, exact=True)


def pick(scope, label: str, typed: str, option: str) -> None:
    """Type into the picker labelled `label` and choose the matching option the lookup answers."""
    control = picker(scope, label)
    control.click()
    control.press_sequentially(typed, delay=30)
    scope.get_by_role("option", name=option, exact=True).click()


def test_an_msl_logs_an_interaction_with_an_insight_and_sees_both_on_the_timeline(page, msl):
    hospital = InstitutionFactory(name="Mercy General", city="Boston")
    physician = PhysicianFactory(first_name="Rosalind", last_name="Franklin", owner=msl, institution=hospital)
    cardiolex = ProductFactory(name="Cardiolex")
    ProductFactory(name="Cardiomax")
    ProductFactory(name="Neurovex")
    site = TrialSiteFactory(institution=hospital, trial__protocol_number="CARD-301")
    TrialSiteFactory(trial__protocol_number="CARD-999")  # elsewhere: not a site this visit can be about
    login(page, "msl")
    assert page.url.endswith("/physicians/")

    page.get_by_role("link", name="Franklin, Rosalind").click()
    page.wait_for_url(f"**/physicians/{physician.pk}/")
    page.get_by_role("link", name="Log interaction").click()
    page.wait_for_url(f"**/physicians/{physician.pk}/log/")

    page.get_by_label("Topics").fill("Phase III results")
    pick(page, "Products", "cardiol", "Cardiolex")
    picker(page, "Trial site").click()
    picker(page, "Trial site").press_sequentially("CARD", delay=30)
    page.get_by_role("option", name="CARD-301 at Mercy General").wait_for()
    assert page.get_by_role("option", name=re.compile("CARD-999")).count() == 0
    page.get_by_role("option", name="CARD-301 at Mercy General").click()
    page.get_by_label("Theme").select_option(label="Safety")
    page.get_by_label("What the physician said").fill("Worried about bleeding with anticoagulants")
    page.get_by_role("button", name="Save interaction").click()
    page.wait_for_url(f"**/physicians/{physician.pk}/")

    timeline = page.locator("#timeline")
    assert timeline.get_by_text("In person, 30 min").is_visible()
    assert timeline.get_by_text("Worried about bleeding with anticoagulants").is_visible()
    assert page.get_by_text(re.compile(r"Interaction logged with 1 insight")).is_visible()
    interaction = Interaction.objects.get()
    assert interaction.msl == msl
    assert list(interaction.products.all()) == [cardiolex]
    assert interaction.trial_site == site
    assert Insight.objects.get().text == "Worried about bleeding with anticoagulants"


def test_another_insight_row_is_added_in_the_browser_with_its_product_picker(page, msl):
    physician = PhysicianFactory(owner=msl)
    ProductFactory(name="Cardiolex")
    login(page, "msl")
    page.goto(f"/physicians/{physician.pk}/log/")
    assert page.locator("fieldset.insight-form").count() == 1
    page.get_by_role("button", name="Another insight").click()
    assert page.locator("fieldset.insight-form").count() == 2
    assert page.locator("#id_insights-TOTAL_FORMS").input_value() == "2"
    # The cloned fieldset's product select became a picker too (Tom Select started on it).
    second = page.locator("fieldset.insight-form").nth(1)
    second.locator(".ts-wrapper").wait_for()
    second.get_by_label("Theme").select_option(label="Dosing and administration")
    pick(second, "Product", "card", "Cardiolex")
    second.get_by_label("What the physician said").fill("Asks for a renal dose")
    cardiolex = Product.objects.get(name="Cardiolex")
    assert page.locator("#id_insights-1-product").input_value() == str(cardiolex.pk)
    assert page.locator("#id_insights-0-product").input_value() == ""


def test_the_owner_picker_filters_the_physician_list(page, msl, msl_teammate):
    msl_teammate.first_name, msl_teammate.last_name = "Grace", "Hopper"
    msl_teammate.save()
    PhysicianFactory(first_name="Marie", last_name="Curie", owner=msl)
    PhysicianFactory(first_name="Ada", last_name="Lovelace", owner=msl_teammate)
    # Not an MSL, or no longer active: not offered.
    UserFactory(username="nurse", first_name="Hopeful", last_name="Nurse", role=User.Role.CLINICAL_LIAISON)
    UserFactory(username="gone", first_name="Hope", last_name="Gone", is_active=False)
    login(page, "msl")
    page.goto("/physicians/?scope=all")
    assert page.get_by_role("link", name="Curie, Marie").is_visible()
    assert page.get_by_role("link", name="Lovelace, Ada").is_visible()

    control = picker(page, "Owning MSL")
    control.click()
    control.press_sequentially("hop", delay=30)
    page.get_by_role("option", name=re.compile("Grace Hopper")).wait_for()
    assert page.get_by_role("option", name=re.compile("Hope")).count() == 0
    page.get_by_role("option", name=re.compile("Grace Hopper")).click()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(rf"owner={msl_teammate.pk}"))

    assert page.get_by_role("link", name="Lovelace, Ada").is_visible()
    assert page.get_by_role("link", name="Curie, Marie").count() == 0
    assert "scope=all" in page.url
