"""Filing documents and marking them entered in error. Every write of a document goes through here.

An upload is all or nothing: every file is inspected from its bytes first (documents.files), and
one refusal refuses the lot, with each refused file and its reason, before anything is stored. A
document is never deleted: "entered in error" hides it from the default view, with a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from patients.services import can_change_case

from . import files
from .choices import CASE_KINDS, CONSENT_KINDS, COVERAGE_KINDS, INQUIRY_KINDS, DocumentKind
from .models import Document
from .uploads import sent_name

MAX_FILES = 10
MAX_REASON = 1000


def can_file_on_inquiry(user, inquiry) -> bool:
    """Medical-affairs staff of the inquiry's team (MSLs, their managers) and administrators."""
    if not user.is_authenticated or not user.sees_medical_affairs:
        return False
    return user.sees_team(inquiry.team_id)


def can_change_document(user, document: Document) -> bool:
    if document.case_id is not None:
        return can_change_case(user, document.case)
    return can_file_on_inquiry(user, document.inquiry)


def _check_target(*, by, kind: str, case, consent, coverage, inquiry) -> None:
    if (case is None) == (inquiry is None):
        raise ValidationError("A document is filed on a case or on an inquiry.")
    if case is not None:
        if not can_change_case(by, case):
            raise PermissionDenied(
                "Only the assigned liaison or a manager of the team may file documents on this case."
            )
        if consent is not None and coverage is not None:
            raise ValidationError("A document belongs to one consent or one coverage, not both.")
        if consent is not None and consent.case_id != case.pk:
            raise ValidationError({"consent": "That consent is not on this case."})
        if coverage is not None and coverage.case_id != case.pk:
            raise ValidationError({"coverage": "That coverage is not on this case."})
        allowed = CONSENT_KINDS if consent is not None else COVERAGE_KINDS if coverage is not None else CASE_KINDS
    else:
        if not can_file_on_inquiry(by, inquiry):
            raise PermissionDenied("Only the medical-affairs staff of the inquiry's team may file its documents.")
        if inquiry.status == "closed":
            raise ValidationError("The inquiry is closed: nothing more can be filed on it.")
        allowed = INQUIRY_KINDS
    if kind not in allowed:
        where = "a consent" if consent else "a coverage" if coverage else "a case" if case else "an inquiry"
        choices = ", ".join(DocumentKind(k).label.lower() for k in allowed)
        raise ValidationError({"kind": f"On {where} a document is one of: {choices}."})


def _title(title: str, name: str, index: int, count: int) -> str:
    title = (title or "").strip()
    if not title:
        return (PurePosixPath(name).stem or name)[:200]
    return title[:190] + (f" ({index} of {count})" if count > 1 else "")


@transaction.atomic
def upload_documents(
    *,
    by,
    uploads: Sequence,
    kind: str,
    title: str = "",
    case=None,
    consent=None,
    coverage=None,
    inquiry=None,
) -> list[Document]:
    """File `uploads` (Django File objects) on a case (optionally on one of its consents or
    coverages) or on an inquiry. Refused (ValidationError, nothing stored) when any file is
    refused, each with its reason under "files"."""
    _check_target(by=by, kind=kind, case=case, consent=consent, coverage=coverage, inquiry=inquiry)
    if not uploads:
        raise ValidationError({"files": "Choose at least one file."})
    if len(uploads) > MAX_FILES:
        raise ValidationError({"files": f"Upload at most {MAX_FILES} files at once ({len(uploads)} were chosen)."})
    inspected, refused = [], []
    for upload in uploads:
        try:
            inspected.append((upload, files.inspect(upload, name=sent_name(upload))))
        except ValidationError as exc:
            refused.extend(exc.messages)
    if refused:
        raise ValidationError({"files": refused})

    stored: list = []  # files written so far, removed again if the rows cannot be saved
    documents = []
    now = timezone.now()
    try:
        for index, (upload, info) in enumerate(inspected, start=1):
            document = Document(
                kind=kind,
                title=_title(title, info.name, index, len(inspected)),
                original_name=info.name,
                content_type=info.content_type,
                size=info.size,
                sha256=info.sha256,
                case=case,
                consent=consent,
                coverage=coverage,
                inquiry=inquiry,
                uploaded_by=by,
                uploaded_at=now,
            )
            upload.seek(0)
            document.file.save(info.name, upload, save=False)  # the key is random (models.document_key)
            stored.append(document.file)
            if info.thumbnail is not None:
                document.thumbnail.save("thumbnail.png", ContentFile(info.thumbnail), save=False)
                stored.append(document.thumbnail)
            document.full_clean(exclude=["case", "consent", "coverage", "inquiry", "uploaded_by"])
            document.save()
            documents.append(document)
    except BaseException:
        for field_file in stored:
            field_file.storage.delete(field_file.name)
        raise
    return documents


@transaction.atomic
def mark_entered_in_error(*, document: Document, by, reason: str) -> Document:
    """Hide a document filed by mistake from the default view, with the reason; it is kept (and
    the change audit-logged), and managers still see it."""
    if not can_change_document(by, document):
        raise PermissionDenied("Only the liaison carrying the case, or a manager of the team, may do that.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the document was entered in error."})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"Keep the reason under {MAX_REASON} characters."})
    locked = Document.objects.select_for_update().get(pk=document.pk)
    if locked.entered_in_error_at is not None:
        raise ValidationError(
            f"This document was already marked entered in error on {timezone.localtime(locked.entered_in_error_at):%Y-%m-%d %H:%M}."
        )
    document.entered_in_error_at = timezone.now()
    document.entered_in_error_by = by
    document.entered_in_error_reason = reason
    document.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])
    return document
