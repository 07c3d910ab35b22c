"""Signed records are immutable in the Django admin (issue 15): a signed, withdrawn or superseded
consent, every case transition, and a case's stage and discharge change only through the
services. Each test posts the admin's own form, as an administrator would, and checks that the
record did not change."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.forms import CheckboxInput, MultiWidget
from django.test import RequestFactory
from django.urls import reverse

from patients import services
from patients.choices import ConsentStatus, SignedBy, Stage
from patients.models import Case, CaseTransition, Consent

from .conftest import complete_evaluation, make_admittable

pytestmark = pytest.mark.django_db

SIGNATURE = {"explained": True, "teach_back_confirmed": True, "interpreter_used": False, "signed_by": "patient"}


def _row(obj) -> dict:
    obj = type(obj).objects.get(pk=obj.pk)
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _form_data(response) -> dict:
    """What the admin change form would post back unchanged: its fields' current values."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        widget = getattr(field.widget, "widget", field.widget)  # unwrap RelatedFieldWidgetWrapper
        if isinstance(widget, MultiWidget):
            parts = widget.decompress(value) if not isinstance(value, list) else value
            for i, (sub, part) in enumerate(zip(widget.widgets, parts, strict=True)):
                data[f"{name}_{i}"] = sub.format_value(part) or ""
        elif isinstance(widget, CheckboxInput):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else str(value)
    return data


def _admitted(case, nurse, consent_form) -> Case:
    services.start_evaluation(case=case, by=nurse)
    complete_evaluation(case, nurse)
    services.accept(case=case, by=nurse)
    make_admittable(case, nurse, consent_form)
    services.admit(case=case, by=nurse)
    return case


@pytest.fixture
def discharged_case(case, nurse, consent_form) -> Case:
    _admitted(case, nurse, consent_form)
    services.discharge(case=case, by=nurse, disposition="home", summary="Goals met.")
    case.refresh_from_db()
    assert case.stage == Stage.DISCHARGED
    return case


def _consent_in(status: str, case, nurse, consent_form) -> Consent:
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    if status == ConsentStatus.PENDING:
        return consent
    services.update_consent(consent=consent, case=case, by=nurse, **SIGNATURE, status=ConsentStatus.SIGNED)
    if status == ConsentStatus.WITHDRAWN:
        services.update_consent(consent=consent, case=case, by=nurse, **SIGNATURE, status=ConsentStatus.WITHDRAWN)
    if status == ConsentStatus.SUPERSEDED:
        consent_form.current_version = "9.0"
        consent_form.save()
        services.reconsent(consent=consent, case=case, by=nurse, **SIGNATURE)
    consent.refresh_from_db()
    assert consent.status == status
    return consent


# --- consents ---------------------------------------------------------------------------------------

RECORDED = [ConsentStatus.SIGNED, ConsentStatus.WITHDRAWN, ConsentStatus.SUPERSEDED]


@pytest.mark.parametrize("status", RECORDED)
def test_a_signed_withdrawn_or_superseded_consent_is_read_only_in_the_admin(
    status, case, nurse, consent_form, admin_user, client_for
):
    consent = _consent_in(status, case, nurse, consent_form)
    before = _row(consent)
    client = client_for(admin_user)
    url = reverse("admin:patients_consent_change", args=[consent.pk])
    response = client.get(url)
    # The administrator sees it (a view-only page: no field to edit, no save button) ...
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="_save"' not in html and 'name="status"' not in html and 'name="signed_at_0"' not in html
    assert consent.get_status_display() in html
    # ... and a post that tries to change it anyway changes nothing.
    attempt = {
        "case": str(case.pk),
        "procedure": "Changed",
        "form": str(consent.form_id),
        "form_version": "0.1",
        "required": "",
        "status": ConsentStatus.PENDING,
        "signed_by": SignedBy.REPRESENTATIVE,
        "representative_name": "Someone",
        "signed_at_0": "2000-01-01",
        "signed_at_1": "10:00:00",
        "withdrawn_at_0": "",
        "withdrawn_at_1": "",
        "superseded_by": "",
        "_save": "Save",
    }
    assert client.post(url, attempt).status_code == 403
    assert _row(consent) == before
    assert client.post(reverse("admin:patients_consent_delete", args=[consent.pk]), {"post": "yes"}).status_code == 403
    assert _row(consent) == before


@pytest.mark.parametrize("status", RECORDED)
def test_the_consent_admin_marks_every_field_read_only_and_refuses_change_and_delete(
    status, case, nurse, consent_form, admin_user
):
    consent = _consent_in(status, case, nurse, consent_form)
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = site._registry[Consent]
    readonly = set(model_admin.get_readonly_fields(request, consent))
    assert {f.name for f in Consent._meta.concrete_fields} <= readonly
    assert {"status", "signed_at", "withdrawn_at", "superseded_at", "form_version", "signed_by"} <= readonly
    assert model_admin.has_change_permission(request, consent) is False
    assert model_admin.has_delete_permission(request, consent) is False
    assert model_admin.has_view_permission(request, consent) is True


def test_a_pending_consent_s_status_and_signature_cannot_be_set_in_the_admin(
    case, nurse, consent_form, admin_user, client_for
):
    """Before signing, the procedure and the 'required' flag can be corrected; a signature is
    recorded only on the case page, where its safeguards are checked."""
    consent = _consent_in(ConsentStatus.PENDING, case, nurse, consent_form)
    client = client_for(admin_user)
    url = reverse("admin:patients_consent_change", args=[consent.pk])
    data = _form_data(client.get(url))
    assert set(data) == {"procedure", "required"}
    data.update(
        procedure="Admission (corrected)",
        status=ConsentStatus.SIGNED,
        signed_by=SignedBy.PATIENT,
        signed_at_0="2026-01-01",
        signed_at_1="10:00:00",
        form_version="0.1",
        teach_back_confirmed="on",
    )
    assert client.post(url, {**data, "_save": "Save"}).status_code == 302
    consent.refresh_from_db()
    assert consent.procedure == "Admission (corrected)"  # the post was accepted ...
    assert consent.status == ConsentStatus.PENDING  # ... but signed nothing
    assert (consent.signed_at, consent.signed_by, consent.form_version) == (None, "", "2.0")
    assert consent.teach_back_confirmed is False


def test_consents_are_not_added_in_the_admin(case, consent_form, admin_user, client_for):
    client = client_for(admin_user)
    assert client.get(reverse("admin:patients_consent_add")).status_code == 403
    response = client.post(
        reverse("admin:patients_consent_add"),
        {"case": case.pk, "procedure": "X", "form": consent_form.pk, "form_version": "2.0", "status": "signed"},
    )
    assert response.status_code == 403
    assert not Consent.objects.exists()


# --- case transitions -------------------------------------------------------------------------------


def test_a_case_transition_is_read_only_in_the_admin(case, nurse, admin_user, client_for):
    services.start_evaluation(case=case, by=nurse, note="Records in")
    transition = CaseTransition.objects.get(case=case, to_stage=Stage.EVALUATING)
    before = _row(transition)
    client = client_for(admin_user)
    url = reverse("admin:patients_casetransition_change", args=[transition.pk])
    response = client.get(url)
    assert response.status_code == 200 and 'name="_save"' not in response.content.decode()
    attempt = {
        "case": case.pk,
        "from_stage": Stage.REFERRED,
        "to_stage": Stage.ADMITTED,
        "by": nurse.pk,
        "at_0": "2000-01-01",
        "at_1": "10:00:00",
        "note": "Rewritten",
        "_save": "Save",
    }
    assert client.post(url, attempt).status_code == 403
    assert client.post(reverse("admin:patients_casetransition_add"), attempt).status_code == 403
    assert (
        client.post(reverse("admin:patients_casetransition_delete", args=[transition.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert _row(transition) == before
    assert CaseTransition.objects.filter(case=case).count() == 1

    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = site._registry[CaseTransition]
    assert {f.name for f in CaseTransition._meta.concrete_fields} <= set(
        model_admin.get_readonly_fields(request, transition)
    )
    assert not model_admin.has_change_permission(request, transition)
    assert not model_admin.has_delete_permission(request, transition)


# --- a discharge ------------------------------------------------------------------------------------

DISCHARGE_FIELDS = ["stage", "discharged_at", "discharge_disposition", "discharge_summary"]


def test_a_discharge_is_read_only_in_the_admin(discharged_case, admin_user, client_for):
    before = {name: getattr(discharged_case, name) for name in DISCHARGE_FIELDS}
    client = client_for(admin_user)
    url = reverse("admin:patients_case_change", args=[discharged_case.pk])
    response = client.get(url)
    assert response.status_code == 200
    data = _form_data(response)
    assert not set(DISCHARGE_FIELDS) & {name.rsplit("_", 1)[0] if name[-2:] in ("_0", "_1") else name for name in data}
    data.update(
        program="Pulmonary rehabilitation",  # a correction the admin may make
        stage=Stage.ADMITTED,
        discharge_disposition="hospice",
        discharge_summary="Rewritten",
        discharged_at_0="2000-01-01",
        discharged_at_1="10:00:00",
        _save="Save",
    )
    assert client.post(url, data).status_code == 302
    discharged_case.refresh_from_db()
    assert discharged_case.program == "Pulmonary rehabilitation"  # the post was accepted ...
    assert {name: getattr(discharged_case, name) for name in DISCHARGE_FIELDS} == before  # ... the discharge kept


def test_the_case_admin_keeps_stage_and_discharge_read_only(discharged_case, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = site._registry[Case]
    assert set(DISCHARGE_FIELDS) <= set(model_admin.get_readonly_fields(request, discharged_case))
    assert model_admin.has_delete_permission(request, discharged_case) is False


def test_an_open_case_s_stage_is_not_moved_in_the_admin(case, admin_user, client_for):
    """A stage moves only by a transition, which writes the case's history."""
    client = client_for(admin_user)
    url = reverse("admin:patients_case_change", args=[case.pk])
    data = _form_data(client.get(url))
    assert "stage" not in data
    response = client.post(url, {**data, "stage": Stage.DISCHARGED, "discharge_summary": "x", "_save": "Save"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.stage == Stage.REFERRED and case.discharge_summary == ""
    assert CaseTransition.objects.filter(case=case).count() == 0
