"""Uploading on the case page, on a consent, a coverage and an inquiry; downloading, previewing and
thumbnails through audited, scoped, hardened views; entered in error; the audit page."""

from __future__ import annotations

import io

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from PIL import Image

from documents import services
from documents.choices import DocumentKind
from documents.files import DOCX
from documents.models import Document
from patients.models import Consent
from tests.factories import ConsentFormFactory, UserFactory

from . import samples
from .conftest import file_on_case, file_on_inquiry, stored_files

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def upload_url(case, **query) -> str:
    url = reverse("documents:upload", args=[case.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def post_files(client, url, *uploads, kind=DocumentKind.MEDICAL_RECORD, htmx=True, **fields):
    data = {"doc-kind": kind, "doc-title": "", "doc-files": list(uploads), **fields}
    return client.post(url, data, **(HTMX if htmx else {}))


def access_entries(document):
    return LogEntry.objects.get_for_object(document).filter(action=LogEntry.Action.ACCESS)


# --- uploading ----------------------------------------------------------------------------------


def test_the_nurse_uploads_several_files_on_the_case_page(case, nurse, client_for):
    client = client_for(nurse)
    response = post_files(
        client, upload_url(case), samples.upload("record.pdf", samples.pdf()), samples.upload("card.png", samples.png())
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "case-changed"
    body = response.content.decode()
    assert body.startswith('\n<section id="documents"') or '<section id="documents"' in body[:200]
    assert "record" in body and "card" in body
    assert Document.objects.filter(case=case).count() == 2
    assert len(stored_files()) == 3  # two files and the image's thumbnail


def test_without_javascript_the_upload_redirects_to_the_case_page(case, nurse, client_for):
    response = post_files(client_for(nurse), upload_url(case), samples.upload("r.pdf", samples.pdf()), htmx=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:case_detail", args=[case.pk]) + "#documents"
    assert Document.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("htmx", [True, False])
def test_a_refused_upload_is_a_form_error_and_stores_nothing(case, nurse, client_for, htmx):
    response = post_files(
        client_for(nurse),
        upload_url(case),
        samples.upload("fine.pdf", samples.pdf()),
        samples.upload("invoice.pdf", samples.exe()),
        htmx=htmx,
    )
    assert response.status_code == 422
    assert "“invoice.pdf” was refused: it is a program" in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files() == []


def test_a_name_with_a_path_is_refused_even_though_django_would_strip_it(case, nurse, client_for):
    body, content_type = samples.multipart(
        {"doc-kind": "medical_record"}, [("doc-files", "../../etc/record.pdf", samples.pdf())]
    )
    response = client_for(nurse).generic("POST", upload_url(case), body, content_type=content_type, **HTMX)
    assert response.status_code == 422
    assert "its name contains a path separator" in response.content.decode()
    assert not Document.objects.exists()


@pytest.mark.parametrize(("length", "reason"), [(300, "its name is 300 characters long"), (2000, "far too long")])
def test_a_long_name_is_a_form_error_even_past_djangos_header_limit(case, nurse, length, reason):
    """Past 1 KB of part headers Django's parser gives up; the CSRF token (first in the form) and
    the reason survive, so a real browser's plain POST gets the form back with the reason."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(nurse)
    page = client.get(upload_url(case))
    token = page.cookies["csrftoken"].value
    name = "x" * (length - 4) + ".pdf"
    data = {
        "csrfmiddlewaretoken": token,
        "doc-kind": "medical_record",
        "doc-files": [samples.Sent(name, samples.pdf())],
    }
    response = client.post(upload_url(case), data)
    assert response.status_code == 422
    assert reason in response.content.decode()
    assert not Document.objects.exists()


def test_no_file_chosen_is_a_form_error(case, nurse, client_for):
    response = client_for(nurse).post(upload_url(case), {"doc-kind": "medical_record"}, **HTMX)
    assert response.status_code == 422
    assert "Choose at least one file to upload." in response.content.decode()


def test_the_signed_form_is_filed_on_its_consent(case, consent, nurse, client_for):
    client = client_for(nurse)
    page = client.get(upload_url(case, consent=consent.pk))
    assert page.status_code == 200
    assert "File the signed consent form" in page.content.decode()
    assert page.context["form"].initial["kind"] == DocumentKind.SIGNED_CONSENT
    response = post_files(
        client,
        upload_url(case),
        samples.upload("signed.pdf", samples.pdf()),
        kind=DocumentKind.SIGNED_CONSENT,
        htmx=False,
        **{"doc-consent": consent.pk},
    )
    assert response.status_code == 302
    assert Document.objects.get().consent == consent
    # The case page links each consent and coverage to its upload.
    assert (
        upload_url(case, consent=consent.pk)
        in client.get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    )


def test_the_insurance_card_is_filed_on_its_coverage(case, coverage, nurse, client_for):
    client = client_for(nurse)
    assert client.get(upload_url(case, coverage=coverage.pk)).status_code == 200
    response = post_files(
        client,
        upload_url(case),
        samples.upload("card.jpg", samples.jpeg()),
        kind=DocumentKind.INSURANCE_CARD,
        htmx=False,
        **{"doc-coverage": coverage.pk},
    )
    assert response.status_code == 302
    assert Document.objects.get().coverage == coverage


def test_another_cases_consent_is_refused(case, nurse, other_case, client_for):
    foreign = Consent.objects.create(case=other_case, procedure="X", form=ConsentFormFactory(), form_version="1.0")
    client = client_for(nurse)
    assert client.get(upload_url(case, consent=foreign.pk)).status_code == 404
    response = post_files(
        client,
        upload_url(case),
        samples.upload("signed.pdf", samples.pdf()),
        kind=DocumentKind.SIGNED_CONSENT,
        htmx=False,
        **{"doc-consent": foreign.pk},
    )
    assert response.status_code == 422
    assert "That consent is not on this case." in response.content.decode()
    assert not Document.objects.exists()


def test_the_response_letter_is_filed_on_the_inquiry(inquiry, msl, client_for):
    client = client_for(msl)
    page = client.get(reverse("physicians:inquiry_detail", args=[inquiry.pk])).content.decode()
    action = reverse("documents:inquiry_upload", args=[inquiry.pk])
    assert f'hx-post="{action}"' in page
    response = post_files(client, action, samples.upload("answer.docx", samples.docx()), kind="inquiry_response")
    assert response.status_code == 200
    document = Document.objects.get()
    assert (document.inquiry, document.case, document.content_type) == (inquiry, None, DOCX)
    assert "answer" in client.get(reverse("physicians:inquiry_detail", args=[inquiry.pk])).content.decode()


# --- serving ------------------------------------------------------------------------------------


def test_download_is_an_audited_attachment_with_the_same_bytes(case, nurse, client_for):
    data = samples.pdf()
    document = file_on_case(case, nurse, name="Discharge summary.txt", content=data)
    response = client_for(nurse).get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    # The extension is the one of what the bytes are, not of the name given.
    assert response["Content-Disposition"] == 'attachment; filename="Discharge summary.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert "no-store" in response["Cache-Control"]
    (entry,) = access_entries(document)
    assert entry.actor == nurse
    data = entry.additional_data
    assert data["kind"] == "document" and data["access"] == "download" and data["document_id"] == document.pk
    assert (data["patient_id"], data["case_id"], data["team_id"]) == (case.patient_id, case.pk, case.team_id)
    assert data["patients"] == {str(case.patient_id): [case.pk]}


def test_preview_is_inline_for_pdfs_and_images_only(case, nurse, client_for):
    client = client_for(nurse)
    pdf = file_on_case(case, nurse, name="r.pdf")
    response = client.get(reverse("documents:preview", args=[pdf.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].split(";")[0] == "sandbox"
    assert access_entries(pdf).get().additional_data["access"] == "preview"
    image = file_on_case(case, nurse, name="scan.png", content=samples.png())
    assert client.get(reverse("documents:preview", args=[image.pk]))["Content-Type"] == "image/png"
    letter = file_on_case(case, nurse, name="letter.docx", content=samples.docx())
    assert client.get(reverse("documents:preview", args=[letter.pk])).status_code == 404
    assert not access_entries(letter).exists()


def test_an_images_thumbnail_is_a_small_audited_png(case, nurse, client_for):
    document = file_on_case(case, nurse, name="card.tif", content=samples.tiff(size=(1200, 800)))
    response = client_for(nurse).get(reverse("documents:thumbnail", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"].startswith("sandbox")
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as thumb:
        assert thumb.size == (320, 213)
    assert access_entries(document).get().additional_data["access"] == "thumbnail"
    pdf = file_on_case(case, nurse)
    assert client_for(nurse).get(reverse("documents:thumbnail", args=[pdf.pk])).status_code == 404


# --- scope --------------------------------------------------------------------------------------

SERVING = ["documents:download", "documents:preview", "documents:thumbnail", "documents:entered_in_error"]


@pytest.mark.parametrize("name", SERVING)
def test_msls_and_other_teams_never_reach_a_case_document(
    name, case, nurse, msl, other_msl, other_nurse, other_manager, client_for
):
    document = file_on_case(case, nurse, name="card.png", content=samples.png())
    url = reverse(name, args=[document.pk])
    for outsider in (msl, other_msl, other_nurse, other_manager):
        assert client_for(outsider).get(url).status_code == 404, outsider
    assert not access_entries(document).exists()


def test_the_case_documents_views_refuse_msls_and_hide_from_other_teams(case, msl, other_nurse, client_for):
    for view in ("documents:upload", "documents:case_documents"):
        url = reverse(view, args=[case.pk])
        assert client_for(msl).get(url, **HTMX).status_code == 403
        assert client_for(other_nurse).get(url, **HTMX).status_code == 404
    response = post_files(client_for(other_nurse), upload_url(case), samples.upload("x.pdf", samples.pdf()))
    assert response.status_code == 404
    assert not Document.objects.exists()


def test_teammates_and_managers_read_the_case_documents(case, nurse, nurse_teammate, manager, client_for):
    document = file_on_case(case, nurse)
    for reader in (nurse_teammate, manager):
        assert client_for(reader).get(reverse("documents:download", args=[document.pk])).status_code == 200


def test_inquiry_documents_are_for_its_teams_medical_affairs_staff_only(
    inquiry, msl, msl_teammate, manager, other_msl, nurse, client_for
):
    document = file_on_inquiry(inquiry, msl)
    url = reverse("documents:download", args=[document.pk])
    for reader in (msl, msl_teammate, manager):
        assert client_for(reader).get(url).status_code == 200, reader
    for outsider in (nurse, other_msl):
        assert client_for(outsider).get(url).status_code == 404, outsider
    assert client_for(nurse).post(reverse("documents:inquiry_upload", args=[inquiry.pk])).status_code == 403
    assert client_for(other_msl).post(reverse("documents:inquiry_upload", args=[inquiry.pk])).status_code == 404


# --- entered in error ---------------------------------------------------------------------------


def test_entered_in_error_hides_the_document_but_managers_still_see_it(case, nurse, manager, client_for):
    document = file_on_case(case, nurse, name="Wrong patient scan.pdf")
    client = client_for(nurse)
    url = reverse("documents:entered_in_error", args=[document.pk])
    form = client.get(url, **HTMX)
    assert form.status_code == 200 and f"error{document.pk}-reason" in form.content.decode()
    response = client.post(url, {f"error{document.pk}-reason": "Scanned for the wrong patient"}, **HTMX)
    assert response.status_code == 200
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#documents", "outerHTML")
    assert "Wrong patient scan" not in response.content.decode()
    document.refresh_from_db()
    assert document.entered_in_error_reason == "Scanned for the wrong patient"
    # Hidden from the liaison: not on the case page, not downloadable.
    case_url = reverse("patients:case_detail", args=[case.pk])
    assert "Wrong patient scan" not in client.get(case_url).content.decode()
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 404
    # A manager sees that one is hidden, lists it with its reason, and can still open it.
    boss = client_for(manager)
    page = boss.get(case_url).content.decode()
    assert "Show 1 entered in error" in page and "Wrong patient scan" not in page
    listed = boss.get(reverse("documents:case_documents", args=[case.pk]), {"show": "all"}, **HTMX).content.decode()
    assert "Wrong patient scan" in listed and "Scanned for the wrong patient" in listed
    assert boss.get(reverse("documents:download", args=[document.pk])).status_code == 200


def test_entered_in_error_without_a_reason_changes_nothing(case, nurse, client_for):
    document = file_on_case(case, nurse)
    response = client_for(nurse).post(
        reverse("documents:entered_in_error", args=[document.pk]), {f"error{document.pk}-reason": ""}, **HTMX
    )
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not Document.objects.get(pk=document.pk).is_entered_in_error


def test_a_teammate_who_does_not_carry_the_case_cannot_mark_it(case, nurse, nurse_teammate, client_for):
    document = file_on_case(case, nurse)
    url = reverse("documents:entered_in_error", args=[document.pk])
    assert client_for(nurse_teammate).post(url, {f"error{document.pk}-reason": "x"}).status_code == 403
    assert not Document.objects.get(pk=document.pk).is_entered_in_error


# --- the pages that list documents --------------------------------------------------------------


def test_the_case_page_and_print_list_the_documents(case, nurse, client_for):
    file_on_case(case, nurse, name="Cardiology notes.pdf")
    file_on_case(case, nurse, name="Card front.png", content=samples.png(), kind=DocumentKind.INSURANCE_CARD)
    client = client_for(nurse)
    page = client.get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    assert "Cardiology notes" in page and "Card front" in page
    assert 'hx-encoding="multipart/form-data"' in page and "data-progress" in page
    printed = client.get(reverse("patients:case_print", args=[case.pk])).content.decode()
    assert "Medical record: Cardiology notes (PDF" in printed
    assert "Insurance card: Card front (PNG image" in printed


def test_the_phi_audit_page_shows_document_access_but_not_inquiry_letters(
    case, nurse, inquiry, msl, manager, client_for
):
    document = file_on_case(case, nurse, name="Echo report.pdf")
    letter = file_on_inquiry(inquiry, msl, name="Response letter.pdf")
    client_for(nurse).get(reverse("documents:download", args=[document.pk]))
    client_for(msl).get(reverse("documents:download", args=[letter.pk]))
    page = client_for(manager).get(reverse("patients:audit")).content.decode()
    assert "Document: Medical record: Echo report" in page
    assert "Response letter" not in page
    only_patient = client_for(manager).get(reverse("patients:audit"), {"patient": case.patient_id, "action": 3})
    assert "Echo report" in only_patient.content.decode()


# --- query counts -------------------------------------------------------------------------------

PER_REQUEST = 2  # session, user (with team)


@pytest.mark.parametrize("count", [1, 20])
def test_the_case_documents_section_query_count(count, case, nurse, client_for, django_assert_num_queries):
    for i in range(count):
        file_on_case(case, nurse, name=f"doc{i}.png", content=samples.png())
    client = client_for(nurse)
    url = reverse("documents:case_documents", args=[case.pk])
    client.get(url, **HTMX)
    # + the case (with its patient); its documents (with uploader, consent, coverage)
    with django_assert_num_queries(PER_REQUEST + 2):
        response = client.get(url, **HTMX)
    assert response.content.decode().count('class="document-row') == count


@pytest.mark.parametrize("count", [1, 20])
def test_the_inquiry_page_query_count(count, inquiry, msl, client_for, django_assert_num_queries):
    for i in range(count):
        file_on_inquiry(inquiry, msl, name=f"letter{i}.pdf")
    client = client_for(msl)
    url = reverse("physicians:inquiry_detail", args=[inquiry.pk])
    client.get(url)
    # + the inquiry (+physician, product, owner, team); follow-ups; its documents
    with django_assert_num_queries(PER_REQUEST + 3):
        response = client.get(url)
    assert response.content.decode().count('class="document-row') == count


def test_a_download_costs_a_few_queries(case, nurse, client_for, django_assert_num_queries):
    document = file_on_case(case, nurse)
    client = client_for(nurse)
    client.get(reverse("documents:download", args=[document.pk]))
    # + the document (with its case); the audit entry
    with django_assert_num_queries(PER_REQUEST + 2):
        client.get(reverse("documents:download", args=[document.pk]))


def test_services_are_what_the_views_call(case, nurse):
    """The views hold no rule of their own: the service refuses an MSL even if a view forgot to."""
    with pytest.raises(PermissionDenied):
        services.upload_documents(
            by=UserFactory(role="msl"), uploads=[samples.upload("a.pdf", samples.pdf())], kind="other", case=case
        )


def test_an_inquiry_letter_entered_in_error_leaves_the_inquiry_page(inquiry, msl, msl_teammate, client_for):
    letter = file_on_inquiry(inquiry, msl, name="Draft letter.pdf")
    url = reverse("documents:entered_in_error", args=[letter.pk])
    response = client_for(msl_teammate).post(url, {f"error{letter.pk}-reason": "Draft sent by mistake"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#inquiry-documents"
    assert "Draft letter" not in response.content.decode()
    assert Document.objects.get(pk=letter.pk).entered_in_error_by == msl_teammate
    page = client_for(msl).get(reverse("physicians:inquiry_detail", args=[inquiry.pk])).content.decode()
    assert "Draft letter" not in page and "No response letter filed yet." in page
