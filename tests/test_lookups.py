"""The type-ahead pickers: their JSON endpoints (scope, limit, search, roles) and the widget that
renders only the chosen option."""

from __future__ import annotations

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.lookups import ALL_MSLS, MSLS
from accounts.models import User
from liaison_crm.lookups import MAX_RESULTS
from liaison_crm.widgets import LookupSelect, LookupSelectMultiple
from physicians.lookups import PHYSICIANS, PRODUCTS
from physicians.models import Physician

from .factories import InstitutionFactory, PhysicianFactory, ProductFactory, UserFactory
from .physicians.factories import TrialSiteFactory

pytestmark = pytest.mark.django_db


def _results(client, name: str, **params) -> list[dict]:
    response = client.get(reverse(name), params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["results"]


def _texts(client, name: str, **params) -> list[str]:
    return [r["text"] for r in _results(client, name, **params)]


def test_physician_lookup_matches_names_and_npi_in_name_order(client_for, msl):
    inst = InstitutionFactory(name="Mercy General", city="Boston")
    PhysicianFactory(first_name="Ana", last_name="Smithers", credentials="", institution=inst, npi="1234567893")
    PhysicianFactory(first_name="Bob", last_name="Smith", institution=None, credentials="MD")
    PhysicianFactory(first_name="Smitty", last_name="Jones", credentials="", institution=None)
    PhysicianFactory(first_name="Zed", last_name="Other")
    client = client_for(msl)
    assert _texts(client, "physicians:lookup_physicians", q="smi") == [
        "Jones, Smitty",
        "Smith, Bob, MD",
        "Smithers, Ana · Mercy General, Boston",
    ]
    assert _texts(client, "physicians:lookup_physicians", q="Bob Smi") == ["Smith, Bob, MD"]
    assert _texts(client, "physicians:lookup_physicians", q="123456") == ["Smithers, Ana · Mercy General, Boston"]


def test_lookup_answers_at_most_twenty_in_constant_queries(client_for, nurse):
    PhysicianFactory.create_batch(MAX_RESULTS + 5, last_name="Lee")
    client = client_for(nurse)
    url = reverse("physicians:lookup_physicians")
    client.get(url)  # the session's first request records its activity
    with CaptureQueriesContext(connection) as ctx:
        rows = client.get(url, {"q": "lee"}).json()["results"]
    assert len(rows) == MAX_RESULTS
    # session, user (with team), the matches with their institutions
    assert len(ctx.captured_queries) == 3
    assert all(set(row) == {"value", "text"} for row in rows)


def test_site_lookup_keeps_the_sites_a_visit_to_the_physician_can_be_about(client_for, msl):
    home, elsewhere = InstitutionFactory(name="Home"), InstitutionFactory(name="Elsewhere")
    physician = PhysicianFactory(institution=home)
    at_home = TrialSiteFactory(institution=home)
    as_investigator = TrialSiteFactory(institution=elsewhere, principal_investigator=physician)
    TrialSiteFactory(institution=InstitutionFactory(name="Unrelated"))
    client = client_for(msl)
    values = {int(r["value"]) for r in _results(client, "physicians:lookup_sites", physician=physician.pk)}
    assert values == {at_home.pk, as_investigator.pk}
    # A physician that does not exist (or a forged parameter) gives nothing, not every site.
    assert _results(client, "physicians:lookup_sites", physician=999_999) == []
    assert len(_results(client, "physicians:lookup_sites", physician="abc")) == 3


def test_msl_lookup_is_scoped_to_the_users_teams(client_for, msl, msl_teammate, other_msl, manager, admin_user):
    UserFactory(username="gone", role=User.Role.MSL, team=msl.team, is_active=False)
    assert {r["value"] for r in _results(client_for(msl), "lookup_msls")} == {str(msl.pk), str(msl_teammate.pk)}
    assert {r["value"] for r in _results(client_for(manager), "lookup_msls")} == {str(msl.pk), str(msl_teammate.pk)}
    assert str(other_msl.pk) in {r["value"] for r in _results(client_for(admin_user), "lookup_msls")}
    # Owners of physicians: every active MSL, whatever the team.
    owners = {r["value"] for r in _results(client_for(msl), "lookup_all_msls")}
    assert owners == {str(msl.pk), str(msl_teammate.pk), str(other_msl.pk)}


def test_liaison_lookup_is_scoped_and_closed_to_msls(client_for, nurse, nurse_teammate, other_nurse, msl):
    values = {r["value"] for r in _results(client_for(nurse), "lookup_liaisons")}
    assert values == {str(nurse.pk), str(nurse_teammate.pk)}
    assert client_for(msl).get(reverse("lookup_liaisons")).status_code == 403


@pytest.mark.parametrize(
    "name", ["lookup_msls", "physicians:lookup_products", "physicians:lookup_sites"], ids=lambda n: n.split(":")[-1]
)
def test_medical_affairs_lookups_refuse_clinical_liaisons(client_for, nurse, name):
    assert client_for(nurse).get(reverse(name)).status_code == 403


def test_lookups_need_a_signed_in_user_and_a_get(client, client_for, msl):
    url = reverse("physicians:lookup_physicians")
    assert client.get(url).status_code == 302
    assert client_for(msl).post(url).status_code == 405


def test_long_query_is_cut_not_refused(client_for, msl):
    ProductFactory(name="Alpha")
    assert _texts(client_for(msl), "physicians:lookup_products", q="a" * 5000) == []


# --- the widget ---------------------------------------------------------------------------------


class PickerForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.all(), required=False, widget=LookupSelect(MSLS))
    physicians = forms.ModelMultipleChoiceField(
        queryset=Physician.objects.select_related("institution"),
        required=False,
        widget=LookupSelectMultiple(PHYSICIANS),
    )


def test_widget_renders_only_the_chosen_option(msl, other_msl):
    form = PickerForm(data={"owner": str(msl.pk)})
    assert form.is_valid()
    with CaptureQueriesContext(connection) as ctx:
        html = str(form["owner"])
    assert len(ctx.captured_queries) == 1  # the chosen person, labelled
    assert f'data-lookup-url="{reverse("lookup_msls")}"' in html
    assert html.count("<option") == 2  # the empty choice and the chosen one
    assert f'<option value="{msl.pk}" selected>{msl}</option>' in html
    assert str(other_msl) not in html


def test_widget_without_a_value_reads_nothing(db):
    with CaptureQueriesContext(connection) as ctx:
        html = str(PickerForm()["owner"])
    assert ctx.captured_queries == []
    assert html.count("<option") == 1
    assert 'data-placeholder="Type to search…"' in html


@pytest.mark.parametrize("value", ["abc", "99999999", "1e3", "-1"])
def test_widget_shows_nothing_for_a_forged_value_and_the_field_refuses_it(db, value):
    form = PickerForm(data={"owner": value})
    assert not form.is_valid()
    assert "owner" in form.errors
    assert str(form["owner"]).count("<option") == 1


def test_widget_shows_only_chosen_values_inside_the_fields_queryset(msl):
    """A value the field's queryset does not hold (another team's person, say) is not labelled."""

    class Scoped(forms.Form):
        owner = forms.ModelChoiceField(queryset=User.objects.filter(pk=msl.pk), widget=LookupSelect(ALL_MSLS))

    outsider = UserFactory(first_name="Secret", last_name="Person")
    html = str(Scoped(data={"owner": outsider.pk})["owner"])
    assert "Secret" not in html


def test_multiple_widget_renders_each_chosen_physician(db):
    a, b, _ = PhysicianFactory.create_batch(3)
    html = str(PickerForm(data={"physicians": [a.pk, b.pk]})["physicians"])
    assert html.count("<option") == 2
    assert "multiple" in html
    assert html.count(" selected>") == 2


def test_product_lookup_label_is_the_name(client_for, msl):
    product = ProductFactory(name="Cardiozol", generic_name="zolamide")
    assert _results(client_for(msl), "physicians:lookup_products", q="zola") == [
        {"value": str(product.pk), "text": "Cardiozol"}
    ]
    assert PRODUCTS.url == reverse("physicians:lookup_products")
