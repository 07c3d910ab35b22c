"""Filing is all or nothing, under random keys, by those who may change the record; a document is
never deleted, only marked entered in error with a reason."""

from __future__ import annotations

import hashlib

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError

from documents import selectors, services
from documents.choices import DocumentKind
from documents.models import Document
from tests.factories import CaseFactory, ConsentFormFactory

from . import samples
from .conftest import file_on_case, file_on_inquiry, stored_files

pytestmark = pytest.mark.django_db


def test_a_document_is_stored_under_a_random_key_with_its_digest(case, nurse):
    data = samples.pdf()
    document = file_on_case(case, nurse, name="Lovelace medical record.pdf", content=data)
    assert document.original_name == "Lovelace medical record.pdf"
    assert document.title == "Lovelace medical record"
    assert "Lovelace" not in document.file.name and not document.file.name.endswith(".pdf")
    assert (document.content_type, document.size) == ("application/pdf", len(data))
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    with document.file.open("rb") as stored:
        assert stored.read() == data
    assert (document.uploaded_by, document.case, document.kind) == (nurse, case, DocumentKind.MEDICAL_RECORD)


def test_several_files_at_once_share_the_title_numbered(case, nurse):
    uploads = [samples.upload(f"p{i}.pdf", samples.pdf()) for i in range(3)]
    documents = services.upload_documents(
        by=nurse, uploads=uploads, kind=DocumentKind.REFERRAL_PACKET, title="Referral packet", case=case
    )
    assert [d.title for d in documents] == [f"Referral packet ({i} of 3)" for i in (1, 2, 3)]
    assert len(stored_files()) == 3


def test_one_refused_file_refuses_the_lot_and_stores_nothing(case, nurse):
    uploads = [
        samples.upload("good.pdf", samples.pdf()),
        samples.upload("virus.pdf", samples.exe()),
        samples.upload("card.png", samples.png()),
        samples.upload("empty.txt", b""),
    ]
    with pytest.raises(ValidationError) as exc:
        services.upload_documents(by=nurse, uploads=uploads, kind=DocumentKind.OTHER, case=case)
    messages = exc.value.message_dict["files"]
    assert len(messages) == 2
    assert "“virus.pdf” was refused: it is a program" in messages[0]
    assert "“empty.txt” was refused: the file is empty" in messages[1]
    assert not Document.objects.exists()
    assert stored_files() == []


def test_files_written_before_a_failing_save_are_removed(case, nurse, monkeypatch):
    def fail(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Document, "save", fail)
    with pytest.raises(RuntimeError):
        file_on_case(case, nurse, name="card.png", content=samples.png())
    assert stored_files() == []


def test_only_those_who_may_change_the_case_file_on_it(case, nurse_teammate, msl, other_nurse, other_manager, manager):
    for user in (nurse_teammate, msl, other_nurse, other_manager):
        with pytest.raises(PermissionDenied):
            file_on_case(case, user)
    assert not Document.objects.exists()
    assert file_on_case(case, manager).uploaded_by == manager


def test_the_consent_or_coverage_must_be_the_cases_own(case, nurse, other_case, other_nurse):
    from patients.models import Consent

    foreign = Consent.objects.create(case=other_case, procedure="X", form=ConsentFormFactory(), form_version="1.0")
    with pytest.raises(ValidationError, match="That consent is not on this case"):
        file_on_case(case, nurse, kind=DocumentKind.SIGNED_CONSENT, consent=foreign)
    assert not Document.objects.exists()


def test_the_kind_must_fit_where_it_is_filed(case, nurse, coverage, inquiry, msl):
    with pytest.raises(ValidationError, match="On a coverage a document is one of: insurance card"):
        file_on_case(case, nurse, kind=DocumentKind.MEDICAL_RECORD, coverage=coverage)
    with pytest.raises(ValidationError, match="On a case a document is one of"):
        file_on_case(case, nurse, kind=DocumentKind.INQUIRY_RESPONSE)
    assert file_on_case(case, nurse, kind=DocumentKind.INSURANCE_CARD, coverage=coverage).coverage == coverage


def test_inquiry_documents_are_filed_by_its_teams_medical_affairs_staff(inquiry, msl, msl_teammate, other_msl, nurse):
    assert file_on_inquiry(inquiry, msl_teammate).inquiry == inquiry
    for user in (other_msl, nurse):
        with pytest.raises(PermissionDenied):
            file_on_inquiry(inquiry, user)
    inquiry.status = "closed"
    inquiry.save()
    with pytest.raises(ValidationError, match="The inquiry is closed"):
        file_on_inquiry(inquiry, msl)


def test_upload_audit_entry_names_the_patient_and_team(case, nurse):
    document = file_on_case(case, nurse)
    entry = LogEntry.objects.get_for_object(document).get(action=LogEntry.Action.CREATE)
    assert entry.additional_data == {
        "document_id": document.pk,
        "patient_id": case.patient_id,
        "case_id": case.pk,
        "team_id": case.team_id,
    }


# --- entered in error ---------------------------------------------------------------------------


def test_entered_in_error_keeps_the_document_with_the_reason_and_audits_it(case, nurse):
    document = file_on_case(case, nurse)
    services.mark_entered_in_error(document=document, by=nurse, reason="Another patient's record")
    document.refresh_from_db()
    assert document.is_entered_in_error
    assert (document.entered_in_error_by, document.entered_in_error_reason) == (nurse, "Another patient's record")
    assert document.file.storage.exists(document.file.name)
    change = LogEntry.objects.get_for_object(document).get(action=LogEntry.Action.UPDATE)
    assert change.changes_dict["entered_in_error_reason"][1] == "Another patient's record"
    assert change.additional_data["patient_id"] == case.patient_id


def test_entered_in_error_needs_a_reason_and_happens_once(case, nurse):
    document = file_on_case(case, nurse)
    with pytest.raises(ValidationError, match="Say why"):
        services.mark_entered_in_error(document=document, by=nurse, reason="  ")
    services.mark_entered_in_error(document=document, by=nurse, reason="Duplicate")
    with pytest.raises(ValidationError, match="already marked entered in error"):
        services.mark_entered_in_error(document=Document.objects.get(pk=document.pk), by=nurse, reason="Again")
    assert Document.objects.get(pk=document.pk).entered_in_error_reason == "Duplicate"


def test_only_those_who_may_change_the_case_mark_it(case, nurse, nurse_teammate, msl):
    document = file_on_case(case, nurse)
    for user in (nurse_teammate, msl):
        with pytest.raises(PermissionDenied):
            services.mark_entered_in_error(document=document, by=user, reason="x")
    assert not Document.objects.get(pk=document.pk).is_entered_in_error


# --- the checklist's evidence -------------------------------------------------------------------


def test_has_medical_record(case, nurse):
    assert not selectors.has_medical_record(case)
    file_on_case(case, nurse, kind=DocumentKind.REFERRAL_PACKET)
    assert not selectors.has_medical_record(case)
    record = file_on_case(case, nurse, kind=DocumentKind.MEDICAL_RECORD)
    assert selectors.has_medical_record(case)
    assert not selectors.has_medical_record(CaseFactory(assigned_liaison=nurse))
    services.mark_entered_in_error(document=record, by=nurse, reason="Wrong patient")
    assert not selectors.has_medical_record(case)
