"""Patient demographics are a case-level write: a second editor on an older page gets a 409."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from patients.forms import PatientForm
from patients.models import Case, Patient

pytestmark = pytest.mark.django_db


def _form_data(patient: Patient, version: int, **changes) -> dict:
    values = {**model_to_dict(patient, fields=PatientForm.Meta.fields), **changes}
    data = {f"pat-{k}": ("" if v is None else v) for k, v in values.items()}
    data["pat-interpreter_needed"] = "on" if values["interpreter_needed"] else ""
    data["pat-version"] = version
    return data


def test_the_edit_form_carries_the_case_version(case, nurse, client_for):
    response = client_for(nurse).get(reverse("patients:patient_edit", args=[case.pk]))
    assert f'name="pat-version" value="{case.version}"' in response.content.decode()


def test_a_stale_patient_edit_is_a_409_and_the_first_edit_stays(case, nurse, manager, client_for):
    url = reverse("patients:patient_edit", args=[case.pk])
    opened = Case.objects.get(pk=case.pk).version
    first = client_for(nurse).post(url, _form_data(case.patient, opened, phone="555-0101"))
    assert first.status_code == 302
    second = client_for(manager).post(url, _form_data(case.patient, opened, phone="555-0202"))
    assert second.status_code == 409
    assert "changed by someone else" in second.content.decode()
    assert Patient.objects.get(pk=case.patient_id).phone == "555-0101"
    assert Case.objects.get(pk=case.pk).version == opened + 1
