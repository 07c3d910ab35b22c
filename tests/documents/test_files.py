"""What a file is comes from its bytes; each allowed type proves itself, everything else is
refused with a message that names the file and the reason."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from documents import files

from . import samples


@pytest.mark.parametrize(
    ("name", "make", "content_type"),
    [
        ("record.pdf", samples.pdf, files.PDF),
        ("card.png", samples.png, files.PNG),
        ("card.jpg", samples.jpeg, files.JPEG),
        ("fax.tif", samples.tiff, files.TIFF),
        ("letter.docx", samples.docx, files.DOCX),
        ("notes.txt", samples.text, files.TEXT),
    ],
)
def test_each_allowed_type_is_found_from_its_bytes(name, make, content_type):
    data = make()
    # The browser's header says otherwise: it is not read.
    result = files.inspect(samples.upload(name, data, content_type="text/html"))
    assert result.content_type == content_type
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_the_type_does_not_come_from_the_name():
    assert files.inspect(samples.upload("scan.txt", samples.pdf())).content_type == files.PDF
    assert files.inspect(samples.upload("no-extension", samples.png())).content_type == files.PNG


def test_an_image_gets_a_small_png_thumbnail():
    result = files.inspect(samples.upload("big.jpg", samples.jpeg(size=(1600, 1200))))
    with Image.open(io.BytesIO(result.thumbnail)) as thumb:
        assert thumb.format == "PNG"
        assert max(thumb.size) <= 320
    assert files.inspect(samples.upload("a.pdf", samples.pdf())).thumbnail is None


REFUSED = [
    ("virus.pdf", samples.exe, "it is a program (application/x-msdownload), not a document"),
    ("tool.pdf", samples.elf, "it is a program (application/x-executable)"),
    ("page.html", samples.html, "it is HTML or other markup, which can carry script"),
    ("page.pdf", samples.html, "it is HTML or other markup"),
    ("logo.svg", samples.svg, "it is SVG, which can carry script"),
    ("empty.pdf", lambda: b"", "the file is empty (0 bytes)"),
    ("broken.pdf", samples.broken_pdf, "it is not a readable PDF"),
    ("bomb.png", samples.png_bomb, "the image is too large to open safely"),
    ("macro.docx", samples.docm, "the Word document contains macros"),
    ("archive.docx", samples.plain_zip, "it is a zip archive, not a Word document"),
    ("utf16.txt", lambda: "Notes".encode("utf-16"), "text must be UTF-8 without NUL bytes"),
    ("run.txt", lambda: b"#!/bin/sh\necho hi\n", "it is a script"),
    ("photo.gif", lambda: b"GIF89a" + b"\x00" * 40, "its content is image/gif (.gif), which is not allowed"),
]


@pytest.mark.parametrize(("name", "make", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_contents_name_the_file_and_the_reason(name, make, reason):
    with pytest.raises(ValidationError) as exc:
        files.inspect(samples.upload(name, make()))
    (message,) = exc.value.messages
    assert message.startswith(f"“{name}” was refused: ")
    assert reason in message


def test_a_file_over_the_limit_is_refused_with_its_size_and_the_limit(settings):
    settings.DOCUMENT_MAX_MB = 1
    with pytest.raises(ValidationError, match=r"it is 1\.5 MB, over the limit of 1 MB"):
        files.inspect(samples.upload("big.pdf", b"%PDF-1.7\n" + b"0" * (3 * samples.MB // 2)))


def test_a_decompression_bomb_warning_is_a_refusal_too(settings):
    """Between MAX_IMAGE_PIXELS and twice that Pillow only warns: refused all the same."""
    with pytest.raises(ValidationError, match="too large to open safely"):
        files.inspect(samples.upload("bomb.png", samples.png_bomb(side=10_000)))  # 100 M pixels


NAMES = [
    ("../../etc/passwd.pdf", "its name contains a path separator"),
    ("C:\\Users\\x\\scan.pdf", "its name contains a path separator"),
    ("a&#47;b.pdf", "its name contains a path separator"),
    ("scan\x00.pdf", "control or invisible formatting characters"),
    ("scan\x07.pdf", "control or invisible formatting characters"),
    ("invoice\u202efdp.exe", "control or invisible formatting characters"),
    ("scan.pdf.exe", "double extension (.pdf.exe)"),
    ("letter.exe.pdf", "double extension (.exe.pdf)"),
    ("x" * 10_000 + ".pdf", "its name is 10,004 characters long; at most 200 are allowed"),
    (".pdf", "not a plain file name"),
    ("   ", "the file has no name"),
]


@pytest.mark.parametrize(("name", "reason"), NAMES, ids=range(len(NAMES)))
def test_names_with_paths_control_characters_or_double_extensions_are_refused(name, reason):
    with pytest.raises(ValidationError) as exc:
        files.inspect(samples.upload("upload.pdf", samples.pdf()), name=name)
    assert reason in exc.value.messages[0]
    assert "\x00" not in exc.value.messages[0] and "\u202e" not in exc.value.messages[0]


@pytest.mark.parametrize("name", ["report.v2.pdf", "Dr. Smith letter.pdf", "Scan 2024-05-01.pdf", "notes"])
def test_ordinary_names_with_dots_are_accepted(name):
    assert files.inspect(samples.upload("x.pdf", samples.pdf()), name=name).name == name
