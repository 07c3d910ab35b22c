"""The case page's add forms load when their <details> is opened (patients:case_form): the page
does not render them; each endpoint serves its form to those who may change the case; a form
that fails to save comes back open with its errors, with or without JavaScript."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from patients import services
from patients.models import Medication
from tests.factories import ConsentFormFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}

# kind → (a field of the form, where it posts)
FORMS = {
    "medication": ("med-name", "patients:medication_add"),
    "coverage": ("cov-payer", "patients:coverage_add"),
    "consent": ("con-procedure", "patients:consent_add"),
    "communication": ("comm-summary", "patients:communication_add"),
    "follow_up": ("fu-title", "patients:follow_up_add"),
    "treatment_plan": ("plan-goals", "patients:treatment_plan_add"),
}
TRANSITIONS = {"discharge": "disposition", "decline": "reason"}


def _form_url(case, kind: str) -> str:
    return reverse("patients:case_form", args=[case.pk, kind])


@pytest.fixture
def admitted_case(accepted_case, nurse, consent_form):
    from .conftest import make_admittable

    make_admittable(accepted_case, nurse, consent_form)
    services.admit(case=accepted_case, by=nurse)
    return accepted_case


def test_the_case_page_renders_none_of_the_add_forms_only_their_details(case, nurse, client_for):
    html = client_for(nurse).get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    for kind, (field, _action) in FORMS.items():
        assert f'name="{field}"' not in html, kind
        assert f'hx-get="{_form_url(case, kind)}" hx-trigger="toggle once" hx-target="find .lazy-form"' in html
        # Without JavaScript the <details> links to the case page with its form open.
        assert f'href="{_form_url(case, kind)}#{kind}-form"' in html
    # A referral can be declined: its form loads from the stage bar, too.
    assert 'name="reason"' not in html and f'hx-get="{_form_url(case, "decline")}"' in html


def test_the_discharge_form_loads_from_the_stage_bar_of_an_admitted_case(admitted_case, nurse, client_for):
    html = client_for(nurse).get(reverse("patients:case_detail", args=[admitted_case.pk])).content.decode()
    assert 'name="disposition"' not in html and f'hx-get="{_form_url(admitted_case, "discharge")}"' in html


@pytest.mark.parametrize("kind", FORMS)
def test_each_add_form_endpoint_returns_its_form(kind, case, nurse, client_for):
    ConsentFormFactory(name="Admission", current_version="2.0")
    field, action = FORMS[kind]
    response = client_for(nurse).get(_form_url(case, kind), **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="{field}"' in html and "autofocus" in html
    assert f'action="{reverse(action, args=[case.pk])}"' in html and 'name="csrfmiddlewaretoken"' in html
    assert "<html" not in html  # just the form, swapped into its <details>
    if kind == "consent":
        assert "Admission v2.0" in html


@pytest.mark.parametrize("kind", TRANSITIONS)
def test_the_transition_forms_carry_the_case_version(kind, case, nurse, client_for):
    html = client_for(nurse).get(_form_url(case, kind), **HX).content.decode()
    assert f'name="{TRANSITIONS[kind]}"' in html
    assert f'name="version" value="{case.version}"' in html
    assert f'action="{reverse("patients:case_transition", args=[case.pk, kind])}"' in html
    if kind == "decline":
        assert 'data-confirm="Decline this referral? The case will be closed."' in html


def test_a_blank_form_shows_no_phi_and_is_not_audit_logged(case, nurse, client_for):
    html = client_for(nurse).get(_form_url(case, "medication"), **HX).content.decode()
    assert case.patient.last_name not in html and case.patient.mrn not in html
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_without_javascript_the_form_url_is_the_case_page_with_that_form_open(case, nurse, client_for):
    response = client_for(nurse).get(_form_url(case, "medication"))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert '<details id="medication-form" class="lazy-details" open>' in html and 'name="med-name"' in html
    assert 'name="cov-payer"' not in html  # the others stay closed
    # It is the case page: its PHI is on it, and the view is logged.
    assert case.patient.mrn in html
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS, object_pk=str(case.pk)).count() == 1


def test_an_unknown_form_is_a_404_and_the_endpoint_takes_no_post(case, nurse, client_for):
    client = client_for(nurse)
    assert client.get(_form_url(case, "nonsense"), **HX).status_code == 404
    assert client.post(_form_url(case, "medication"), **HX).status_code == 405


@pytest.mark.parametrize("kind", [*FORMS, *TRANSITIONS])
def test_who_may_open_a_form(kind, case, msl, nurse_teammate, other_nurse, other_manager, manager, client_for):
    url = _form_url(case, kind)
    assert client_for(None).get(url, **HX).status_code == 302  # to the login page
    assert client_for(msl).get(url, **HX).status_code == 403  # MSLs never see a case
    assert client_for(other_nurse).get(url, **HX).status_code == 404  # another team's case
    assert client_for(other_manager).get(url, **HX).status_code == 404
    # A teammate sees the case but may not change it (only the assigned liaison or a manager).
    assert client_for(nurse_teammate).get(url, **HX).status_code == 403
    assert client_for(manager).get(url, **HX).status_code == 200


# --- a form that failed to save ----------------------------------------------------------------


def test_a_refused_add_over_htmx_comes_back_open_with_its_errors(case, nurse, client_for):
    response = client_for(nurse).post(reverse("patients:medication_add", args=[case.pk]), {"med-name": ""}, **HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert html.lstrip().startswith('<section id="medications"')  # the section, swapped in place
    assert '<details id="medication-form" class="lazy-details" open>' in html
    assert "This field is required." in html and 'aria-invalid="true"' in html
    assert 'hx-trigger="toggle once"' not in html  # already rendered: nothing to load
    assert not Medication.objects.exists()


def test_a_refused_add_without_javascript_is_the_case_page_with_the_form_open(case, nurse, client_for):
    response = client_for(nurse).post(
        reverse("patients:follow_up_add", args=[case.pk]), {"fu-title": "Call back", "fu-due_at": "not a date"}
    )
    html = response.content.decode()
    assert response.status_code == 422 and "<html" in html
    assert '<details id="follow_up-form" class="lazy-details" open>' in html
    assert 'value="Call back"' in html and "Enter a valid date/time." in html
    # and saved, it goes back to the case page
    response = client_for(nurse).post(
        reverse("patients:follow_up_add", args=[case.pk]), {"fu-title": "Call back", "fu-due_at": "2030-01-01T09:00"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("patients:case_detail", args=[case.pk])


def test_a_refused_service_rule_comes_back_as_the_forms_error(case, nurse, client_for):
    response = client_for(nurse).post(
        reverse("patients:coverage_add", args=[case.pk]),
        {"cov-payer": "Acme", "cov-member_id": "1", "cov-authorization_status": "approved"},
        **HX,
    )
    assert response.status_code == 422
    assert '<details id="coverage-form" class="lazy-details" open>' in response.content.decode()
    assert "needs its number" in response.content.decode()


def test_a_refused_decline_reopens_the_decline_form(case, nurse, client_for):
    response = client_for(nurse).post(
        reverse("patients:case_transition", args=[case.pk, "decline"]), {"version": case.version, "note": "No bed"}
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert '<details id="decline-form" class="lazy-details transition-details" open>' in html
    assert "No bed</textarea>" in html and "This field is required." in html
    assert 'name="disposition"' not in html


def test_a_saved_add_over_htmx_closes_the_form_again(case, nurse, client_for):
    response = client_for(nurse).post(
        reverse("patients:medication_add", args=[case.pk]), {"med-name": "Metoprolol", "med-dose": "25 mg"}, **HX
    )
    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    assert "Metoprolol" in html and 'name="med-name"' not in html
    assert f'hx-get="{_form_url(case, "medication")}"' in html
