"""seed_demo files the documents its records speak of (documents/demo.py), through the upload
service: the evidence of every "Medical records reviewed" tick, signed forms and cards on the cases
being carried, and response letters on answered inquiries."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from documents.choices import DocumentKind
from documents.models import Document
from patients import services
from patients.choices import Stage
from patients.models import Case
from physicians.choices import InquiryStatus

from .conftest import stored_files

pytestmark = pytest.mark.django_db


def test_seed_demo_files_the_documents_its_records_speak_of_and_is_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    ticked = Case.objects.filter(evaluation__records_reviewed_at__isnull=False)
    assert ticked.exists()
    with_record = ticked.filter(documents__kind=DocumentKind.MEDICAL_RECORD, documents__entered_in_error_at=None)
    assert set(with_record.values_list("pk", flat=True)) == set(ticked.values_list("pk", flat=True))
    # Every demo case that finished its evaluation and waits to be accepted could be accepted.
    for case in Case.objects.filter(stage=Stage.EVALUATING, evaluated_at__isnull=False):
        assert services.accept_blockers(case) == []
    # (Research consents' signed copies are the trial demo's: research/demo.py.)
    signed = Document.objects.filter(kind=DocumentKind.SIGNED_CONSENT, consent__form__kind="care")
    assert signed.exists() and all(d.consent.case_id == d.case_id for d in signed)
    assert set(signed.values_list("case__stage", flat=True)) <= {Stage.ACCEPTED, Stage.ADMITTED}
    cards = Document.objects.filter(kind=DocumentKind.INSURANCE_CARD)
    assert cards.exists() and all(d.coverage.case_id == d.case_id and d.thumbnail for d in cards)
    responses = Document.objects.filter(kind=DocumentKind.INQUIRY_RESPONSE)
    assert responses.exists()
    assert set(responses.values_list("inquiry__status", flat=True)) == {InquiryStatus.ANSWERED}
    # Filed as an upload is: the type from the bytes, under a random key, stamped with the record's time.
    assert set(Document.objects.values_list("content_type", flat=True)) == {"application/pdf", "image/png"}
    assert all("Discharge" not in d.file.name for d in Document.objects.all())
    record = with_record.first().documents.get(kind=DocumentKind.MEDICAL_RECORD)
    assert record.uploaded_at == record.case.evaluation.records_reviewed_at
    files, count = len(stored_files()), Document.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert (len(stored_files()), Document.objects.count()) == (files, count)
