"""Documents filed where the work happens: a case's medical records, signed consents, insurance
cards and letters (PHI), and the response letter of a medical inquiry.

The bytes live in Django's default storage (local files or S3, see settings) under a random key;
what the user called the file is kept as `original_name` for display only. A document is never
deleted: one filed by mistake is marked "entered in error" with a reason, hidden from the default
view and kept. This app sits below `patients` and `physicians`: it points at their models by
string and imports neither, so their services and selectors may read documents.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import DocumentKind
from .files import IMAGE_TYPES, PDF, TYPES


def document_key(instance: Document, filename: str) -> str:
    """A random storage key, never derived from the name the user gave."""
    token = uuid.uuid4().hex
    return f"documents/{token[:2]}/{token}"


def thumbnail_key(instance: Document, filename: str) -> str:
    token = uuid.uuid4().hex
    return f"thumbnails/{token[:2]}/{token}"


class DocumentQuerySet(models.QuerySet):
    def visible_to(self, user) -> DocumentQuerySet:
        """A case's documents are PHI: the clinical liaisons of the case's team and their managers,
        never MSLs. An inquiry's are the medical-affairs staff's of the inquiry's team, never
        clinical liaisons'. Entered in error: managers and administrators only."""
        if not user.is_authenticated:
            return self.none()
        scope = user.scope_team_ids
        allowed = Q(pk__in=[])
        if user.sees_phi:
            allowed |= Q(case__isnull=False) if scope is None else Q(case__team__in=scope)
        if user.sees_medical_affairs:
            allowed |= Q(inquiry__isnull=False) if scope is None else Q(inquiry__team__in=scope)
        qs = self.filter(allowed)
        if not (user.is_manager or user.is_admin_role):
            qs = qs.current()
        return qs

    def current(self) -> DocumentQuerySet:
        """Not entered in error: the default view."""
        return self.filter(entered_in_error_at__isnull=True)


class Document(models.Model):
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    original_name = models.CharField("file name as uploaded", max_length=200)
    file = models.FileField(upload_to=document_key)
    # A small PNG of an image (Pillow, at upload); a PDF's first page is drawn by pdf.js instead.
    thumbnail = models.FileField(upload_to=thumbnail_key, blank=True)
    content_type = models.CharField(max_length=100, help_text="Found from the bytes, not the name or the browser.")
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    sha256 = models.CharField("SHA-256", max_length=64)

    # Where it is filed: a case (and maybe one of its consents or coverages), or an inquiry.
    case = models.ForeignKey(
        "patients.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="documents", db_index=False
    )
    consent = models.ForeignKey(
        "patients.Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    coverage = models.ForeignKey(
        "patients.InsuranceCoverage", on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    inquiry = models.ForeignKey(
        "physicians.MedicalInquiry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
        db_index=False,
    )

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_in_error_reason = models.TextField(blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [
            # A case's or an inquiry's documents, newest first (the case page, the inquiry page).
            models.Index(fields=["case", "-uploaded_at"], name="document_case_date_idx"),
            models.Index(fields=["inquiry", "-uploaded_at"], name="document_inquiry_date_idx"),
            # "Does this case have a medical record?" (the evaluation checklist).
            models.Index(
                fields=["case", "kind"], name="document_case_kind_idx", condition=Q(entered_in_error_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False, inquiry__isnull=True) | Q(case__isnull=True, inquiry__isnull=False),
                name="document_filed_on_a_case_or_an_inquiry",
            ),
            models.CheckConstraint(
                condition=Q(consent__isnull=True, coverage__isnull=True)
                | Q(case__isnull=False, consent__isnull=True)
                | Q(case__isnull=False, coverage__isnull=True),
                name="document_on_one_consent_or_coverage_of_its_case",
            ),
            models.CheckConstraint(
                condition=Q(entered_in_error_at__isnull=True) | ~Q(entered_in_error_reason=""),
                name="document_entered_in_error_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    def get_additional_data(self) -> dict:
        """What each audit entry about the document says (the managers' audit page filters on it):
        the patient, case and team for a case's document, the inquiry and team for an inquiry's,
        and for an ACCESS entry how it was read (`audit_access`: download, preview, thumbnail)."""
        data: dict = {"document_id": self.pk}
        if self.case_id is not None:
            case = self.case  # loaded with the document (views select it; services pass it)
            data.update(patient_id=case.patient_id, case_id=case.pk, team_id=case.team_id)
        elif self.inquiry_id is not None:
            data.update(inquiry_id=self.inquiry_id, team_id=self.inquiry.team_id)
        access = getattr(self, "audit_access", None)
        if access:
            data["access"] = access
        return data

    @property
    def type_label(self) -> str:
        return TYPES[self.content_type].label if self.content_type in TYPES else self.content_type

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES

    @property
    def is_pdf(self) -> bool:
        return self.content_type == PDF

    @property
    def has_preview(self) -> bool:
        """Only PDFs and images are shown inline (pdf.js, or the Pillow thumbnail)."""
        return self.is_pdf or self.is_image

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None

    @property
    def download_name(self) -> str:
        """The name it downloads under: the uploaded name's stem with the extension of what the
        bytes are, so a file is never saved under a misleading extension."""
        stem = PurePosixPath(self.original_name).stem or "document"
        extension = TYPES[self.content_type].extension if self.content_type in TYPES else "bin"
        return f"{stem}.{extension}"
