"""Filing, listing and serving documents. Thin: scope through `visible_to`, call a service, render.

Every response that carries a document's bytes starts from `Document.objects.visible_to` (a
document outside the user's scope is a 404: MSLs never reach a case's, clinical liaisons never an
inquiry's), writes an audit ACCESS entry (`log_document_access`), and is hardened: downloads are
attachments; inline previews (PDF and images only) and thumbnails are sent with `nosniff` and a
CSP sandbox, and none of them is cached.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditlog.signals import accessed
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import medical_affairs_required, phi_required
from patients import audit
from patients.choices import AccessKind
from patients.services import can_change_case
from patients.views.common import case_for, case_to_change, changed, log_access, save_form
from physicians.models import MedicalInquiry

from . import selectors, services
from .choices import CASE_KINDS, CONSENT_KINDS, COVERAGE_KINDS, INQUIRY_KINDS, DocumentKind
from .forms import EnteredInErrorForm, UploadForm
from .models import Document
from .uploads import upload_refusal

# What a served document may do in a browser: nothing (no script, no plugin, no same origin).
SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


def log_document_access(request: HttpRequest, document: Document, how: str) -> None:
    """The one place a document's bytes are recorded as read (who, when, which patient and team,
    how: download, preview or thumbnail): a case's document through the patients' PHI access
    entry (patients/audit.py, kind "document"); an inquiry's, which names no patient, as a plain
    access entry about the document."""
    document.audit_access = how
    if document.case_id is None:
        accessed.send(sender=Document, instance=document)
        return
    case = document.case
    shown = [(case.patient_id, case.pk, case.team_id)]
    audit.record_access(
        request, AccessKind.DOCUMENT, shown, instance=document, extra={"document_id": document.pk, "access": how}
    )


def _harden(response: HttpResponse) -> HttpResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_CSP
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _document(request: HttpRequest, pk: int) -> Document:
    return get_object_or_404(selectors.document_for(request.user, pk))


# --- the case page's section --------------------------------------------------------------------


@dataclass
class CaseSection:
    """What templates/documents/_documents_section.html shows: the list and the upload form."""

    case: object
    documents: selectors.DocumentList
    can_change: bool
    can_review: bool  # sees documents entered in error (managers, administrators)
    form: UploadForm | None

    @property
    def hidden_count(self) -> int:
        return len(self.documents.in_error)


def case_section(request: HttpRequest, case, *, show_all: bool = False, form: UploadForm | None = None) -> CaseSection:
    user = request.user
    can_review = user.is_manager or user.is_admin_role
    can_change = can_change_case(user, case)
    if form is None and can_change:
        form = UploadForm(kinds=CASE_KINDS, initial={"kind": DocumentKind.MEDICAL_RECORD})
    return CaseSection(
        case=case,
        documents=selectors.case_documents(case, user, show_all=show_all and can_review),
        can_change=can_change,
        can_review=can_review,
        form=form,
    )


def _render_section(request: HttpRequest, case, *, status: int = 200, **kwargs) -> HttpResponse:
    ctx = {"case": case, "docs": case_section(request, case, **kwargs)}
    return render(request, "documents/_documents_section.html", ctx, status=status)


@phi_required
@require_GET
def case_documents(request: HttpRequest, pk: int) -> HttpResponse:
    """The Documents section alone (htmx): `?show=all` adds, for managers, those entered in error."""
    case = case_for(request, pk)
    show_all = request.GET.get("show") == "all"
    if not request.htmx:
        return redirect(reverse("patients:case_detail", args=[case.pk]) + "#documents")
    return _render_section(request, case, show_all=show_all)


# --- filing -------------------------------------------------------------------------------------


def _attachment(case, source) -> tuple[object | None, object | None, str | None]:
    """The consent or coverage of `case` that `source` (?consent= / ?coverage=) names, or the error."""
    consent = coverage = None
    for name in ("consent", "coverage"):
        raw = (source.get(name) or source.get(f"doc-{name}") or "").strip()
        if not raw:
            continue
        related = case.consents if name == "consent" else case.coverages
        try:
            found = related.filter(pk=int(raw)).first()
        except (ValueError, OverflowError):
            found = None
        if found is None:
            return None, None, f"That {name} is not on this case."
        if name == "consent":
            consent = found
        else:
            coverage = found
    return consent, coverage, None


@phi_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    """File documents on a case (several at once), optionally on one of its consents or coverages
    (?consent=<id> / ?coverage=<id>). Refused: 422, the form with each file's reason; nothing stored."""
    case = case_to_change(request, pk)
    consent, coverage, wrong = _attachment(case, request.POST if request.method == "POST" else request.GET)
    if request.method == "POST" and not (consent or coverage or wrong):
        # The upload page's action names it too (?consent=): it survives a body that could not be read.
        consent, coverage, wrong = _attachment(case, request.GET)
    if wrong and request.method == "GET":
        raise Http404(wrong)
    kinds = CONSENT_KINDS if consent else COVERAGE_KINDS if coverage else CASE_KINDS
    first = DocumentKind.SIGNED_CONSENT if consent else DocumentKind.INSURANCE_CARD if coverage else None
    initial = {"kind": first or DocumentKind.MEDICAL_RECORD, "consent": getattr(consent, "pk", None)}
    initial["coverage"] = getattr(coverage, "pk", None)
    page_ctx = {"case": case, "consent": consent, "coverage": coverage, "title": f"File documents · case #{case.pk}"}
    if request.method == "GET":
        log_access(request, case, AccessKind.FRAGMENT)  # the page names the patient
        form = UploadForm(kinds=kinds, initial=initial)
        return render(request, "documents/upload.html", {**page_ctx, "form": form})

    form = UploadForm(request.POST, request.FILES, kinds=kinds)
    if wrong or upload_refusal(request):
        status = 422
        form.is_valid()
        form.add_error("files" if upload_refusal(request) else None, upload_refusal(request) or wrong)
    else:
        status = save_form(
            form,
            lambda data: services.upload_documents(
                by=request.user,
                uploads=data["files"],
                kind=data["kind"],
                title=data["title"],
                case=case,
                consent=consent,
                coverage=coverage,
            ),
        )
    if status is None:
        count = len(form.cleaned_data["files"])
        if request.htmx:
            return changed(_render_section(request, case))
        messages.success(request, f"{count} document{'s' if count != 1 else ''} filed.")
        return redirect(reverse("patients:case_detail", args=[case.pk]) + "#documents")
    if request.htmx and not (consent or coverage):
        return _render_section(request, case, status=status, form=form)
    log_access(request, case, AccessKind.FRAGMENT)
    return render(request, "documents/upload.html", {**page_ctx, "form": form}, status=status)


def _inquiry_for(request: HttpRequest, pk: int) -> MedicalInquiry:
    return get_object_or_404(MedicalInquiry.objects.visible_to(request.user).select_related("physician"), pk=pk)


@dataclass
class InquirySection:
    inquiry: object
    documents: selectors.DocumentList
    can_change: bool
    can_review: bool
    form: UploadForm | None


def inquiry_section(request: HttpRequest, inquiry, *, form: UploadForm | None = None) -> InquirySection:
    user = request.user
    can_change = services.can_file_on_inquiry(user, inquiry) and inquiry.status != "closed"
    if form is None and can_change:
        form = UploadForm(kinds=INQUIRY_KINDS)
    return InquirySection(
        inquiry=inquiry,
        documents=selectors.inquiry_documents(inquiry, user),
        can_change=can_change,
        can_review=user.is_manager or user.is_admin_role,
        form=form,
    )


@medical_affairs_required
@require_http_methods(["GET", "POST"])
def inquiry_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """File the response letter (or another document) on an inquiry: its answer step."""
    inquiry = _inquiry_for(request, pk)
    if not services.can_file_on_inquiry(request.user, inquiry):
        raise PermissionDenied("Only the medical-affairs staff of the inquiry's team may file its documents.")
    page_ctx = {"inquiry": inquiry, "title": "File the response letter"}
    if request.method == "GET":
        return render(request, "documents/inquiry_upload.html", {**page_ctx, "form": UploadForm(kinds=INQUIRY_KINDS)})
    form = UploadForm(request.POST, request.FILES, kinds=INQUIRY_KINDS)
    if upload_refusal(request):
        status = 422
        form.is_valid()
        form.add_error("files", upload_refusal(request))
    else:
        status = save_form(
            form,
            lambda data: services.upload_documents(
                by=request.user, uploads=data["files"], kind=data["kind"], title=data["title"], inquiry=inquiry
            ),
        )
    if status is None:
        if request.htmx:
            return render(request, "documents/_inquiry_section.html", {"docs": inquiry_section(request, inquiry)})
        messages.success(request, "Response filed.")
        return redirect(reverse("physicians:inquiry_detail", args=[inquiry.pk]) + "#inquiry-documents")
    if request.htmx:
        docs = inquiry_section(request, inquiry, form=form)
        return render(request, "documents/_inquiry_section.html", {"docs": docs}, status=status)
    return render(request, "documents/inquiry_upload.html", {**page_ctx, "form": form}, status=status)


# --- entered in error ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a document entered in error, with the reason: GET the form (loaded when its row's
    <details> opens), POST it. The document is kept; the list is re-rendered without it."""
    document = _document(request, pk)
    if not services.can_change_document(request.user, document):
        raise PermissionDenied("Only the liaison carrying the case, or a manager of the team, may do that.")
    template = "documents/_entered_in_error_form.html"
    prefix = f"error{document.pk}"  # several rows' forms may be open at once
    if request.method == "GET":
        form = EnteredInErrorForm(prefix=prefix)
        if not request.htmx:
            return render(request, "documents/entered_in_error.html", {"document": document, "form": form})
        return render(request, template, {"document": document, "form": form})
    form = EnteredInErrorForm(request.POST, prefix=prefix)
    status = save_form(
        form,
        lambda data: services.mark_entered_in_error(document=document, by=request.user, reason=data["reason"]),
    )
    if status is not None:
        if not request.htmx:
            page = "documents/entered_in_error.html"
            return render(request, page, {"document": document, "form": form}, status=status)
        return render(request, template, {"document": document, "form": form}, status=status)
    if document.case_id is not None:
        if not request.htmx:
            messages.success(request, f"“{document.title}” is marked entered in error.")
            return redirect(reverse("patients:case_detail", args=[document.case_id]) + "#documents")
        response = changed(_render_section(request, document.case))
        response["HX-Retarget"] = "#documents"
    else:
        if not request.htmx:
            messages.success(request, f"“{document.title}” is marked entered in error.")
            return redirect(reverse("physicians:inquiry_detail", args=[document.inquiry_id]) + "#inquiry-documents")
        inquiry = _inquiry_for(request, document.inquiry_id)
        response = render(request, "documents/_inquiry_section.html", {"docs": inquiry_section(request, inquiry)})
        response["HX-Retarget"] = "#inquiry-documents"
    response["HX-Reswap"] = "outerHTML"
    return response


# --- the bytes ----------------------------------------------------------------------------------


@require_GET
def download(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    log_document_access(request, document, "download")
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.download_name,
        content_type=document.content_type,
    )
    return _harden(response)


@require_GET
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The document inline, for pdf.js (PDF) or an <img> (images); nothing else is shown inline."""
    document = _document(request, pk)
    if not document.has_preview:
        raise Http404("Only PDFs and images have a preview.")
    log_document_access(request, document, "preview")
    response = FileResponse(
        document.file.open("rb"), filename=document.download_name, content_type=document.content_type
    )
    return _harden(response)


@require_GET
def thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    """An image's small PNG (made with Pillow at upload), for the case page."""
    document = _document(request, pk)
    if not document.thumbnail:
        raise Http404("Only images have a thumbnail.")
    log_document_access(request, document, "thumbnail")
    return _harden(FileResponse(document.thumbnail.open("rb"), content_type="image/png"))
