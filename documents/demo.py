"""Demo documents (seed_demo): what the demo cases' records say was filed, filed through the
upload service as a nurse or an MSL would (random keys, digests, thumbnails, the same checks):

- a medical record on every case whose "Medical records reviewed" is ticked (its evidence);
- on the cases being carried now (accepted, admitted), the signed form of each signed consent and
  the card of each verified coverage;
- the response letter on every third answered inquiry.

Runs after the physicians' and patients' demo data (SEED_ORDER). The files are small pages drawn
with Pillow, stamped with when they were filed."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F

from patients.choices import ConsentStatus, Stage
from patients.demo import MRN_PREFIX
from patients.models import Case
from physicians.choices import InquiryStatus
from physicians.models import MedicalInquiry

from . import services
from .choices import DocumentKind
from .models import Document

SEED_ORDER = 98  # after physicians and patients, before outreach (99)
CARRIED = (Stage.ACCEPTED, Stage.ADMITTED)


def page(lines: list[str], *, size=(612, 792), fmt: str = "PDF") -> bytes:
    """A page (PDF) or a card (PNG) with `lines` of text on it."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    title, body = ImageFont.load_default(size=22), ImageFont.load_default(size=14)
    y = 40
    for i, line in enumerate(lines):
        draw.text((40, y), line, fill=(20, 20, 20), font=title if i == 0 else body)
        y += 36 if i == 0 else 22
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def _file(by, name: str, content: bytes, kind: str, **target) -> Document:
    (document,) = services.upload_documents(by=by, uploads=[SimpleUploadedFile(name, content)], kind=kind, **target)
    return document


def seed(*, scale: int, stdout) -> None:
    demo_cases = Case.objects.filter(patient__mrn__startswith=MRN_PREFIX)
    if Document.objects.filter(case__in=demo_cases).exists():
        stdout.write("  documents: demo documents already present")
        return
    filed: list[tuple[Document, object]] = []  # (document, when it was filed)
    cases = (
        demo_cases.select_related("patient", "assigned_liaison", "referral_institution", "evaluation")
        .prefetch_related("consents", "coverages")
        .filter(assigned_liaison__isnull=False)
        .order_by("pk")
    )
    for case in cases:
        nurse, patient = case.assigned_liaison, case.patient
        evaluation = getattr(case, "evaluation", None)
        if evaluation is not None and evaluation.records_reviewed_at is not None:
            hospital = case.referral_institution.name if case.referral_institution else "the referring hospital"
            lines = [
                "Discharge summary",
                f"Patient: {patient.full_name}   MRN: {patient.mrn}",
                f"From: {hospital}",
                f"Reason for referral: {case.reason or case.program}",
                "History and physical, medications on discharge and recent labs attached.",
            ]
            document = _file(nurse, "Discharge summary.pdf", page(lines), DocumentKind.MEDICAL_RECORD, case=case)
            filed.append((document, evaluation.records_reviewed_at))
        if case.stage not in CARRIED:
            continue
        signed = [c for c in case.consents.all() if c.status == ConsentStatus.SIGNED and c.signed_at]
        for consent in signed:
            lines = [
                f"Consent: {consent.procedure}",
                f"Form version {consent.form_version}",
                f"Patient: {patient.full_name}   MRN: {patient.mrn}",
                f"Signed {consent.signed_at:%Y-%m-%d} by the {consent.get_signed_by_display().lower()}",
            ]
            document = _file(
                nurse, "Signed consent.pdf", page(lines), DocumentKind.SIGNED_CONSENT, case=case, consent=consent
            )
            filed.append((document, consent.signed_at))
        verified = [c for c in case.coverages.all() if c.verified_at]
        for coverage in verified:
            lines = [coverage.payer, f"{coverage.plan}", f"Member {coverage.member_id}", patient.full_name]
            card = page(lines, size=(428, 270), fmt="PNG")
            document = _file(
                nurse, "Insurance card.png", card, DocumentKind.INSURANCE_CARD, case=case, coverage=coverage
            )
            filed.append((document, coverage.verified_at))
    inquiries = (
        # Filed by the inquiry's owner, if still on the inquiry's team (services.can_file_on_inquiry).
        MedicalInquiry.objects.filter(status=InquiryStatus.ANSWERED, owner__team=F("team"))
        .select_related("owner", "physician", "product")
        .order_by("pk")
    )
    for inquiry in inquiries[::3]:
        lines = [
            "Medical information response",
            f"To: {inquiry.physician}",
            f"Re: {inquiry.product or 'your question'}",
            "Thank you for your question. The enclosed summary answers it from the published evidence.",
        ]
        document = _file(
            inquiry.owner, "Response letter.pdf", page(lines), DocumentKind.INQUIRY_RESPONSE, inquiry=inquiry
        )
        filed.append((document, inquiry.answered_at))
    # Filed when the record says it was (the tick, the signature, the answer), not now.
    stamped = []
    for document, when in filed:
        if when is not None:
            document.uploaded_at = when
            stamped.append(document)
    Document.objects.bulk_update(stamped, ["uploaded_at"], batch_size=1000)
    stdout.write(f"  {len(filed)} documents")
