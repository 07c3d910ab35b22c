"""The upload-to-download journey in real Chromium: the nurse drops a PDF on the case page, watches
it upload, sees its first page drawn by pdf.js, and downloads the same bytes."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from documents.models import Document
from tests.documents import samples
from tests.factories import CaseFactory

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

DROP = """([data, name]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type: "application/pdf" }));
  return transfer;
}"""


def test_nurse_drops_a_pdf_sees_its_preview_and_downloads_the_same_bytes(page, nurse):
    case = CaseFactory(assigned_liaison=nurse, patient__first_name="Ada", patient__last_name="Lovelace")
    data = samples.pdf(pages=3)
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    login(page, "nurse")
    page.goto(f"/patients/cases/{case.pk}/")
    form = page.locator("#documents form[data-upload]")
    form.scroll_into_view_if_needed()

    # Drag and drop: a DataTransfer carrying the file, dragged over and dropped on the form.
    transfer = page.evaluate_handle(DROP, [base64.b64encode(data).decode(), "Echo report.pdf"])
    form.dispatch_event("dragover", {"dataTransfer": transfer})
    expect(form).to_have_class("document-upload border rounded p-2 mt-3 drop-active")
    form.dispatch_event("drop", {"dataTransfer": transfer})
    expect(form.locator("[data-chosen]")).to_contain_text("Echo report.pdf")

    # The progress bar follows htmx's upload progress events.
    page.evaluate(
        """() => { window.progress = [];
        document.addEventListener("htmx:xhr:progress", () => {
          const bar = document.querySelector("#documents [data-progress]");
          if (bar) { window.progress.push([bar.hidden, bar.value]); }
        }); }"""
    )
    page.get_by_label("Kind of document").select_option("medical_record")
    page.get_by_role("button", name="Upload").click()

    row = page.locator("#documents .document-row", has_text="Echo report")
    expect(row).to_be_visible()
    assert page.evaluate("window.progress").count([False, 100]) >= 1
    document = Document.objects.get()
    assert (document.case_id, document.content_type, document.original_name) == (
        case.pk,
        "application/pdf",
        "Echo report.pdf",
    )

    # The first page, drawn by pdf.js (loaded as a module, its worker from our own origin, under the CSP).
    row.scroll_into_view_if_needed()
    canvas = row.locator("canvas.pdf-preview")
    expect(canvas).to_have_attribute("data-rendered", "true", timeout=15_000)
    assert canvas.evaluate("c => c.width > 64 || c.height > 0")
    # Something was drawn: not every pixel is transparent.
    assert canvas.evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0)"
    )

    with page.expect_download() as info:
        row.get_by_role("link", name="Download Echo report").click()
    download = info.value
    assert download.suggested_filename == "Echo report.pdf"
    assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert not [p for p in problems if "Content Security Policy" in p or "pdf" in p.lower()], problems
