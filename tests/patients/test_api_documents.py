"""A case's documents on the REST API: listed as the case page's section lists them, filed
(multipart) through the upload service, each answer one PHI ACCESS entry."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from documents import services as documents_services
from documents.models import Document
from patients import services
from tests.documents import samples

from .conftest import file_medical_record

pytestmark = pytest.mark.django_db


def url(case) -> str:
    return f"/api/v1/cases/{case.pk}/documents/"


def access_entries():
    return LogEntry.objects.filter(action=LogEntry.Action.ACCESS, additional_data__kind="api")


def test_the_case_documents(nurse, case, api_for):
    document = file_medical_record(case, nurse)
    response = api_for(nurse).get(url(case))
    assert response.status_code == 200
    (row,) = response.json()
    assert row["id"] == document.pk
    assert (row["kind"], row["title"], row["original_name"]) == ("medical_record", "records", "records.pdf")
    assert (row["content_type"], row["size"], row["sha256"]) == ("application/pdf", document.size, document.sha256)
    assert row["uploaded_by"] == {"id": nurse.pk, "name": str(nurse)}
    assert row["download_url"].endswith(f"/documents/{document.pk}/download/")
    (entry,) = access_entries()
    assert (entry.additional_data["case_id"], entry.actor) == (case.pk, nurse)


def test_entered_in_error_only_for_managers_who_ask(nurse, manager, case, api_for):
    document = file_medical_record(case, nurse)
    documents_services.mark_entered_in_error(document=document, by=nurse, reason="Wrong patient.")
    assert api_for(nurse).get(url(case), {"show": "all"}).json() == []
    assert api_for(manager).get(url(case)).json() == []
    (row,) = api_for(manager).get(url(case), {"show": "all"}).json()
    assert (row["id"], row["entered_in_error_reason"]) == (document.pk, "Wrong patient.")


def test_documents_outsiders(msl, other_nurse, case, nurse, api_for):
    file_medical_record(case, nurse)
    assert api_for(other_nurse).get(url(case)).status_code == 404
    assert api_for(msl).get(url(case)).status_code == 403
    assert not access_entries().exists()


@pytest.mark.parametrize("rows", [2, 12])
def test_documents_query_count(rows, nurse, case, api_for, django_assert_num_queries):
    for _ in range(rows):
        file_medical_record(case, nurse)
    api = api_for(nurse)
    api.get(url(case))
    # the token (+user), the case, its documents (+uploader, consent, coverage), the ACCESS insert
    with django_assert_num_queries(4):
        response = api.get(url(case))
    assert len(response.json()) == rows


def test_upload(nurse, case, api_for):
    files = [samples.upload("labs.pdf", samples.pdf()), samples.upload("scan.png", samples.png())]
    response = api_for(nurse).post(url(case), {"kind": "medical_record", "title": "Intake", "files": files})
    assert response.status_code == 201, response.json()
    body = response.json()
    documents = list(Document.objects.filter(case=case).order_by("id"))
    assert [d.content_type for d in documents] == ["application/pdf", "image/png"]  # found from the bytes
    assert [d.title for d in documents] == ["Intake (1 of 2)", "Intake (2 of 2)"]
    assert {row["id"] for row in body} == {d.pk for d in documents}
    assert documents[1].thumbnail  # the service made it
    assert access_entries().count() == 1
    # The evidence of "Medical records reviewed" is there now.
    services.start_evaluation(case=case, by=nurse)
    services.set_checklist_item(case=case, by=nurse, item="records_reviewed", done=True, records_review_note="")


def test_upload_on_a_consent(nurse, case, consent_form, other_case, api_for):
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    api = api_for(nurse)
    files = [samples.upload("signed.pdf", samples.pdf())]
    response = api.post(url(case), {"kind": "signed_consent", "files": files, "consent": consent.pk})
    assert response.status_code == 201
    assert Document.objects.get(case=case).consent == consent
    foreign = services.add_consent(case=other_case, by=other_case.assigned_liaison, form=consent_form, procedure="X")
    files = [samples.upload("signed.pdf", samples.pdf())]
    response = api.post(url(case), {"kind": "signed_consent", "files": files, "consent": foreign.pk})
    assert response.status_code == 400
    assert "consent" in response.json()
    # A kind the consent does not take: the service's rule, per field.
    files = [samples.upload("card.pdf", samples.pdf())]
    response = api.post(url(case), {"kind": "insurance_card", "files": files, "consent": consent.pk})
    assert response.status_code == 400
    assert "kind" in response.json()
    assert Document.objects.filter(case=case).count() == 1


def test_upload_refusals(nurse, nurse_teammate, case, api_for):
    api = api_for(nurse)
    files = [samples.upload("ok.pdf", samples.pdf()), samples.upload("setup.pdf", samples.exe())]
    response = api.post(url(case), {"kind": "medical_record", "files": files})
    assert response.status_code == 400
    assert "setup.pdf" in " ".join(response.json()["files"])  # each refused file named, nothing stored
    response = api.post(url(case), {"kind": "inquiry_response", "files": [samples.upload("a.pdf", samples.pdf())]})
    assert response.status_code == 400
    assert "kind" in response.json()
    assert api.post(url(case), {"kind": "medical_record"}).status_code == 400
    assert api.post(url(case), {"kind": "medical_record"}, format="json").status_code == 415
    files = [samples.upload("a.pdf", samples.pdf())]
    assert api_for(nurse_teammate).post(url(case), {"kind": "medical_record", "files": files}).status_code == 403
    files = [samples.upload("a.pdf", samples.pdf())]
    assert api_for(nurse, "read").post(url(case), {"kind": "medical_record", "files": files}).status_code == 403
    assert not Document.objects.exists()
    assert not access_entries().exists()
