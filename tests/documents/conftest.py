from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from documents import services
from documents.choices import DocumentKind
from patients.models import Consent, InsuranceCoverage
from tests.factories import CaseFactory, ConsentFormFactory, MedicalInquiryFactory, PhysicianFactory

from . import samples


@pytest.fixture
def case(nurse):
    return CaseFactory(assigned_liaison=nurse, patient__first_name="Ada", patient__last_name="Lovelace")


@pytest.fixture
def other_case(other_nurse):
    return CaseFactory(assigned_liaison=other_nurse)


@pytest.fixture
def consent(case):
    return Consent.objects.create(case=case, procedure="Admission", form=ConsentFormFactory(), form_version="1.0")


@pytest.fixture
def coverage(case):
    return InsuranceCoverage.objects.create(case=case, payer="Medicare", member_id="1EG4-TE5-MK72")


@pytest.fixture
def inquiry(msl):
    return MedicalInquiryFactory(physician=PhysicianFactory(owner=msl), owner=msl)


def file_on_case(case, by, *, name="record.pdf", content=None, kind=DocumentKind.MEDICAL_RECORD, **kwargs):
    content = samples.pdf() if content is None else content
    (document,) = services.upload_documents(
        by=by, uploads=[samples.upload(name, content)], kind=kind, case=case, **kwargs
    )
    return document


def file_on_inquiry(inquiry, by, *, name="response.pdf", content=None):
    content = samples.pdf() if content is None else content
    (document,) = services.upload_documents(
        by=by, uploads=[samples.upload(name, content)], kind=DocumentKind.INQUIRY_RESPONSE, inquiry=inquiry
    )
    return document


def stored_files() -> list[Path]:
    """Every file in the document storage (the test's own MEDIA_ROOT)."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
