"""The forms of the medical-affairs pages: rendered by crispy-forms with a label for every control,
and type-ahead pickers (liaison_crm/widgets.py) for products, trial sites, institutions and the
principal investigator, each accepting only what its lookup offers."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.urls import reverse

from physicians.choices import SiteStatus
from physicians.models import TrainingSession, TrialSite
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

CONTROL = re.compile(r"<(input|select|textarea)\b([^>]*)>")


def _attr(attrs: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', attrs)
    return found[1] if found else None


def unlabelled_controls(html: str) -> list[str]:
    """The visible form controls of the page that no <label for> names."""
    main = html[html.index("<main") : html.index("</main>")] if "<main" in html else html  # a page, or a fragment
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', main))
    missing = []
    for tag, attrs in CONTROL.findall(main):
        if tag == "input" and _attr(attrs, "type") in ("hidden", "submit", "button"):
            continue
        control_id = _attr(attrs, "id")
        if control_id not in labelled and _attr(attrs, "aria-label") is None:
            missing.append(f"<{tag}{attrs}>")
    return missing


def picker(html: str, name: str) -> dict[str, object]:
    """The picker <select> of field `name`: its lookup URL and the options it holds."""
    found = re.search(rf'<select name="{re.escape(name)}"([^>]*)>(.*?)</select>', html, re.S)
    assert found, f"no select {name}"
    attrs, body = found.groups()
    return {
        "url": _attr(attrs, "data-lookup-url"),
        "options": re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', body),
        "multiple": " multiple" in attrs,
    }


@pytest.fixture
def world(msl):
    institution = InstitutionFactory(name="Mercy General", city="Boston")
    physician = PhysicianFactory(first_name="Ann", last_name="Byrne", owner=msl, institution=institution)
    site = TrialSiteFactory(
        institution=institution, principal_investigator=physician, trial__protocol_number="C-1",
        status=SiteStatus.SELECTED,  # its next step (activated) asks for the activation date
    )  # fmt: skip
    interaction = InteractionFactory(msl=msl, physician=physician, trial_site=site)
    product = ProductFactory(name="Cardiolex")
    interaction.products.add(product)
    training = TrainingSessionFactory(trainer=msl)
    TrainingAttendeeFactory(session=training)
    return {
        "physician": physician,
        "site": site,
        "interaction": interaction,
        "product": product,
        "training": training,
        "insight": InsightFactory(captured_by=msl, physician=physician),
        "inquiry": MedicalInquiryFactory(owner=msl, physician=physician),
        "trial": site.trial,
    }


MSL_PAGES = [
    lambda w: f"/physicians/{w['physician'].pk}/",  # the consent form
    lambda w: f"/physicians/{w['physician'].pk}/edit/",
    lambda w: "/physicians/new/",
    lambda w: f"/physicians/{w['physician'].pk}/log/",
    lambda w: f"/physicians/interactions/{w['interaction'].pk}/edit/",
    lambda w: f"/physicians/{w['physician'].pk}/insights/new/",
    lambda w: f"/physicians/insights/{w['insight'].pk}/edit/",
    lambda w: f"/physicians/{w['physician'].pk}/inquiries/new/",
    lambda w: f"/physicians/inquiries/{w['inquiry'].pk}/",  # the answer and follow-up forms
    lambda w: f"/physicians/inquiries/{w['inquiry'].pk}/edit/",
    lambda w: "/physicians/trainings/new/",
    lambda w: f"/physicians/trainings/{w['training'].pk}/edit/",
    lambda w: "/physicians/trials/new/",
    lambda w: f"/physicians/trials/{w['trial'].pk}/edit/",
    lambda w: "/physicians/sites/new/",
    lambda w: f"/physicians/sites/{w['site'].pk}/edit/",
    lambda w: f"/physicians/sites/{w['site'].pk}/",  # the status form, with the activation date
    lambda w: "/physicians/institutions/new/",
    lambda w: "/physicians/products/new/",
    lambda w: "/physicians/import/",
    # Filter bars
    lambda w: "/physicians/",
    lambda w: "/physicians/interactions/",
    lambda w: "/physicians/insights/",
    lambda w: "/physicians/inquiries/",
    lambda w: "/physicians/trainings/",
    lambda w: "/physicians/trials/",
    lambda w: "/physicians/sites/",
    lambda w: "/physicians/institutions/",
    lambda w: "/physicians/products/",
]


@pytest.mark.parametrize("page", range(len(MSL_PAGES)))
def test_every_control_has_a_label_and_ids_are_unique(page, world, msl, client_for):
    url = MSL_PAGES[page](world)
    response = client_for(msl).get(url)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert unlabelled_controls(html) == [], url
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == [], url
    # crispy-forms' Bootstrap 5 markup: each field in its wrapper, the control with its class.
    assert re.search(r'<div id="div_id_\w+" class="[^"]*mb-3', html) or 'class="form-check' in html, url


def test_the_site_status_form_asks_the_activation_date_only_to_activate(world, msl, client_for):
    site = world["site"]
    html = client_for(msl).get(f"/physicians/sites/{site.pk}/").content.decode()
    assert re.search(r'<input type="hidden" name="to" value="activated"', html)
    assert re.search(r'<label\s+for="id_activated_on"[^>]*>\s*Activation date', html)
    assert re.search(r'<input type="date" name="activated_on" value="\d{4}-\d\d-\d\d"', html)
    site.status = SiteStatus.ACTIVATED
    site.save()
    html = client_for(msl).get(f"/physicians/sites/{site.pk}/").content.decode()
    assert re.search(r'<input type="hidden" name="to" value="enrolling"', html) and "activated_on" not in html


@pytest.mark.parametrize("manager_page", ["review_card_note", "insight_detail"])
def test_the_review_forms_have_labels(manager_page, world, manager, client_for):
    pk = world["insight"].pk
    url = (
        f"/physicians/insights/{pk}/" if manager_page == "insight_detail" else f"/physicians/insights/{pk}/transition/"
    )
    html = client_for(manager).get(url).content.decode()
    assert 'name="note"' in html
    assert unlabelled_controls(html) == []


def test_a_refused_form_shows_its_errors_at_the_fields(msl, client_for, world):
    response = client_for(msl).post("/physicians/trials/new/", {"protocol_number": "", "phase": "2"})
    assert response.status_code == 422
    html = response.content.decode()
    assert re.search(r'<input type="text" name="protocol_number"[^>]*class="[^"]*is-invalid', html)
    assert 'id="error_1_id_protocol_number"' in html and "This field is required." in html


# --- pickers ----------------------------------------------------------------------------------


def test_the_log_form_offers_products_and_this_physician_s_sites_by_type_ahead(world, msl, client_for):
    physician = world["physician"]
    html = client_for(msl).get(f"/physicians/{physician.pk}/log/").content.decode()
    products = picker(html, "products")
    assert products["url"] == reverse("physicians:lookup_products") and products["multiple"]
    assert products["options"] == []  # nothing chosen yet: no product is listed
    site = picker(html, "trial_site")
    assert site["url"] == f"{reverse('physicians:lookup_sites')}?physician={physician.pk}"
    assert site["options"] == [("", "")]
    insight_product = picker(html, "insights-0-product")
    assert insight_product["url"] == reverse("physicians:lookup_products")
    # The formset's empty form (cloned by physicians.js) holds the same picker.
    template = html[html.index('<template id="insight-empty-form">') : html.index("</template>")]
    assert picker(template, "insights-__prefix__-product")["url"] == reverse("physicians:lookup_products")


def test_the_edit_form_shows_the_chosen_products_and_site(world, msl, client_for):
    interaction, site = world["interaction"], world["site"]
    html = client_for(msl).get(f"/physicians/interactions/{interaction.pk}/edit/").content.decode()
    assert picker(html, "products")["options"] == [(str(world["product"].pk), "Cardiolex")]
    assert picker(html, "trial_site")["options"] == [("", ""), (str(site.pk), "C-1 at Mercy General")]


def test_logging_a_visit_saves_the_picked_products_and_site(world, msl, client_for):
    physician, site = world["physician"], world["site"]
    other = ProductFactory(name="Neurovex")
    data = {
        "occurred_at": "2024-05-01T10:00",
        "channel": "in_person",
        "duration_minutes": "30",
        "products": [world["product"].pk, other.pk],
        "trial_site": site.pk,
        "insights-TOTAL_FORMS": "1",
        "insights-INITIAL_FORMS": "0",
        "insights-0-theme": "safety",
        "insights-0-product": other.pk,
        "insights-0-sentiment": "neutral",
        "insights-0-text": "Renal dosing",
    }
    response = client_for(msl).post(f"/physicians/{physician.pk}/log/", data)
    assert response.status_code == 302
    visit = physician.interactions.order_by("-id").first()
    assert set(visit.products.all()) == {world["product"], other} and visit.trial_site == site
    assert visit.insights.get().product == other


def test_a_visit_cannot_name_a_site_the_physician_is_not_concerned_by(world, msl, client_for):
    elsewhere = TrialSiteFactory()
    physician = world["physician"]
    before = physician.interactions.count()
    data = {"occurred_at": "2024-05-01T10:00", "channel": "in_person", "duration_minutes": "30",
            "trial_site": elsewhere.pk, "insights-TOTAL_FORMS": "0", "insights-INITIAL_FORMS": "0"}  # fmt: skip
    response = client_for(msl).post(f"/physicians/{physician.pk}/log/", data)
    assert response.status_code == 422 and "trial_site" in response.context["form"].errors
    assert picker(response.content.decode(), "trial_site")["options"] == [("", "")]  # not even shown
    assert physician.interactions.count() == before


def test_a_training_records_its_products_from_the_picker(msl, client_for):
    a, b = ProductFactory(name="Cardiolex"), ProductFactory(name="Neurovex")
    data = {"title": "Launch", "held_on": "2024-05-01", "products": [a.pk, b.pk], "attendees-TOTAL_FORMS": "0",
            "attendees-INITIAL_FORMS": "0"}  # fmt: skip
    client = client_for(msl)
    assert client.post("/physicians/trainings/new/", data).status_code == 302
    session = TrainingSession.objects.get()
    assert set(session.products.all()) == {a, b}
    html = client.get(f"/physicians/trainings/{session.pk}/edit/").content.decode()
    assert picker(html, "products") == {
        "url": reverse("physicians:lookup_products"),
        "options": [(str(a.pk), "Cardiolex"), (str(b.pk), "Neurovex")],
        "multiple": True,
    }


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (lambda w: f"/physicians/{w['physician'].pk}/insights/new/", "product"),
        (lambda w: f"/physicians/{w['physician'].pk}/inquiries/new/", "product"),
        (lambda w: "/physicians/trials/new/", "product"),
        (lambda w: "/physicians/sites/new/", "institution"),
        (lambda w: "/physicians/sites/new/", "principal_investigator"),
    ],
)
def test_single_pickers_start_empty(url, field, world, msl, client_for):
    html = client_for(msl).get(url(world)).content.decode()
    found = picker(html, field)
    assert found["url"] and not found["multiple"]
    assert found["options"] == [("", "")]


def test_a_new_site_takes_any_physician_as_investigator(world, msl, client_for):
    trial, institution = ClinicalTrialFactory(), InstitutionFactory(name="Elsewhere")
    anyone = PhysicianFactory(institution=None)
    html = client_for(msl).get("/physicians/sites/new/").content.decode()
    assert picker(html, "principal_investigator")["url"] == reverse("physicians:lookup_physicians")
    assert picker(html, "institution")["url"] == reverse("physicians:lookup_institutions")
    data = {"trial": trial.pk, "institution": institution.pk, "principal_investigator": anyone.pk,
            "enrolment_target": "10"}  # fmt: skip
    response = client_for(msl).post("/physicians/sites/new/", data)
    assert response.status_code == 302
    site = TrialSite.objects.get(trial=trial)
    assert (site.institution, site.principal_investigator) == (institution, anyone)


def test_a_site_s_investigator_is_picked_among_the_physicians_of_its_institution(world, msl, client_for):
    site, physician = world["site"], world["physician"]
    colleague = PhysicianFactory(first_name="Cy", last_name="Colleague", institution=site.institution, credentials="")
    outsider = PhysicianFactory(institution=InstitutionFactory())
    url = f"/physicians/sites/{site.pk}/edit/"
    client = client_for(msl)
    html = client.get(url).content.decode()
    pi = picker(html, "principal_investigator")
    assert pi["url"] == f"{reverse('physicians:lookup_physicians')}?institution={site.institution_id}"
    assert pi["options"] == [("", ""), (str(physician.pk), "Byrne, Ann, MD · Mercy General, Boston")]
    assert picker(html, "institution")["options"] == [("", ""), (str(site.institution_id), "Mercy General, Boston")]
    data = {"trial": site.trial_id, "institution": site.institution_id, "enrolment_target": "5",
            }  # fmt: skip
    refused = client.post(url, {**data, "principal_investigator": outsider.pk})
    assert refused.status_code == 422 and "principal_investigator" in refused.context["form"].errors
    assert client.post(url, {**data, "principal_investigator": colleague.pk}).status_code == 302
    site.refresh_from_db()
    assert site.principal_investigator == colleague
    # The lookup the picker asks offers the same physicians.
    results = client.get(reverse("physicians:lookup_physicians"), {"institution": site.institution_id}).json()
    assert {r["value"] for r in results["results"]} == {str(physician.pk), str(colleague.pk)}
