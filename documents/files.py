"""What an uploaded file is, found from its bytes, and whether it may be kept.

The name the user gave and the Content-Type the browser sent are never trusted: the type comes
from the bytes (`filetype` for the binary formats), and each allowed type must prove itself: a
PDF parses with pypdf, an image opens and verifies with Pillow (a decompression bomb is refused,
never decoded), a DOCX is a zip with `[Content_Types].xml` and `word/document.xml` and no macros,
plain text is UTF-8 without NUL bytes and is not markup (HTML and SVG can carry script). Every
refusal is a ValidationError whose message names the file and the reason.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import struct
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"


@dataclass(frozen=True)
class FileType:
    label: str
    extension: str  # what a download of it is named with


TYPES: dict[str, FileType] = {
    PDF: FileType("PDF", "pdf"),
    PNG: FileType("PNG image", "png"),
    JPEG: FileType("JPEG image", "jpg"),
    TIFF: FileType("TIFF image", "tif"),
    DOCX: FileType("Word document", "docx"),
    TEXT: FileType("plain text", "txt"),
}
IMAGE_TYPES = frozenset({PNG, JPEG, TIFF})
ALLOWED = "PDF, PNG, JPEG, TIFF, DOCX or plain text"

MAX_NAME_LENGTH = 200
THUMBNAIL_BOX = (320, 320)
SNIFF_BYTES = 8192  # what filetype reads to match a signature

# Extensions that, before the last one, make a name misleading ("scan.pdf.exe", "letter.exe.pdf").
_EXTENSIONS = {
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "dll", "cpl", "jar", "js", "jse", "vbs", "vbe",
    "wsf", "wsh", "ps1", "psm1", "sh", "bash", "zsh", "py", "pl", "rb", "php", "app", "apk", "bin",
    "html", "htm", "xhtml", "svg", "svgz", "xml", "hta", "lnk", "iso", "img", "dmg",
    "pdf", "png", "jpg", "jpeg", "tif", "tiff", "gif", "bmp", "webp", "heic",
    "doc", "docx", "docm", "rtf", "odt", "txt", "csv", "xls", "xlsx", "xlsm", "ppt", "pptx",
    "zip", "rar", "7z", "gz", "tar", "tgz",
}  # fmt: skip

# Markup a browser would run if it ever rendered the file (after leading whitespace), in the spirit
# of the WHATWG MIME-sniffing rules for HTML, plus XML and SVG.
_MARKUP_START = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg|\?xml|!--|a\s|b\W|br\W|div|font|h1|p\W|style|table|title|img|object|embed|form)",
    re.IGNORECASE,
)
_SCRIPT_ANYWHERE = re.compile(rb"<\s*(?:script|svg|iframe|object|embed)\b|javascript:", re.IGNORECASE)

# Programs that `filetype` does not name (it knows PE and ELF): Mach-O and Java classes.
_PROGRAM_MAGIC = (
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
_PROGRAM_MIMES = {
    "application/x-msdownload",
    "application/x-executable",
    "application/vnd.microsoft.portable-executable",
}


@dataclass(frozen=True)
class Inspected:
    """An accepted upload: what it is, found from its bytes."""

    name: str
    content_type: str
    size: int
    sha256: str
    thumbnail: bytes | None  # a PNG, for images


def max_bytes() -> int:
    return settings.DOCUMENT_MAX_MB * 1024 * 1024


def _refuse(name: str, reason: str) -> ValidationError:
    shown = name if len(name) <= 60 else name[:57] + "…"
    return ValidationError(f"“{shown}” was refused: {reason}.", code="refused")


def check_name(name: str) -> str:
    """The name as given, if it is a plain file name; the reason otherwise."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in name)
    unescaped = html.unescape(name)
    if not name.strip():
        raise _refuse("(no name)", "the file has no name")
    if len(name) > MAX_NAME_LENGTH:
        raise _refuse(shown, f"its name is {len(name):,} characters long; at most {MAX_NAME_LENGTH} are allowed")
    if "/" in unescaped or "\\" in unescaped:
        raise _refuse(shown, "its name contains a path separator (/ or \\); give a plain file name")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in unescaped):
        raise _refuse(shown, "its name contains control or invisible formatting characters")
    if unescaped.strip(" .") == "" or unescaped.startswith("."):
        raise _refuse(shown, "its name is not a plain file name")
    suffixes = [s.lower().lstrip(".") for s in PurePosixPath(unescaped).suffixes]
    if len(suffixes) >= 2 and suffixes[-2] in _EXTENSIONS:
        raise _refuse(
            shown, f"its name has a double extension (.{suffixes[-2]}.{suffixes[-1]}), which can disguise a file"
        )
    return name.strip()


def _sha256(upload: File) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _read_all(upload: File) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _check_pdf(name: str, data: bytes) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refuse(name, "the PDF is encrypted with a password; upload an unprotected copy")
        if len(reader.pages) == 0:
            raise _refuse(name, "the PDF has no pages")
        reader.pages[0].mediabox  # noqa: B018 - the first page must be readable (the preview shows it)
    except ValidationError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError) as exc:
        raise _refuse(name, f"it is not a readable PDF ({exc.__class__.__name__})") from None


def _image(name: str, data: bytes, content_type: str) -> bytes:
    """Open and verify the image (decompression bombs refused, never decoded); its thumbnail."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    expected = {PNG: "PNG", JPEG: "JPEG", TIFF: "TIFF"}[content_type]
    with warnings.catch_warnings():
        # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: both are refusals here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected:
                    raise _refuse(name, f"its content is {image.format}, not {expected}")
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", THUMBNAIL_BOX)  # JPEG: decode at a fraction of the size
                image = ImageOps.exif_transpose(image)
                image.thumbnail(THUMBNAIL_BOX)
                if image.mode not in ("RGB", "RGBA", "L", "LA"):
                    image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
                out = io.BytesIO()
                image.save(out, "PNG", optimize=True)
                return out.getvalue()
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(
                name, "the image is too large to open safely (more pixels than a scan needs: a decompression bomb?)"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
            raise _refuse(name, f"it is not a readable {expected} image ({exc.__class__.__name__})") from None


def _check_docx(name: str, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _refuse(name, f"it is not a readable DOCX ({exc.__class__.__name__})") from None
    if "[Content_Types].xml" not in names or "word/document.xml" not in names:
        raise _refuse(name, "it is a zip archive, not a Word document (no word/document.xml)")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse(name, "the Word document contains macros")


def _check_text(name: str, data: bytes) -> None:
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, data.index(b"\x00"), data.index(b"\x00") + 1, "NUL byte")
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(
            name, f"its content is not one of the allowed types ({ALLOWED}; text must be UTF-8 without NUL bytes)"
        ) from None
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head[:4].lower() == b"<svg" or b"<svg" in data[:4096].lower():
        raise _refuse(name, "it is SVG, which can carry script")
    if _MARKUP_START.match(head) or _SCRIPT_ANYWHERE.search(data):
        raise _refuse(name, "it is HTML or other markup, which can carry script")
    if head.startswith(b"#!"):
        raise _refuse(name, "it is a script (it starts with #!)")


def inspect(upload: File, *, name: str | None = None) -> Inspected:
    """Accept `upload` or raise a ValidationError naming the file and why.

    `name` is the name as the browser sent it (documents.uploads keeps it before Django strips
    path components and control characters); by default the upload's own name."""
    name = check_name(name if name is not None else (upload.name or ""))
    size = upload.size or 0
    if size == 0:
        raise _refuse(name, "the file is empty (0 bytes)")
    if size > max_bytes():
        raise _refuse(
            name, f"it is {filesizeformat(size)}, over the limit of {settings.DOCUMENT_MAX_MB} MB".replace("\xa0", " ")
        )
    data = _read_all(upload)
    head = data[:SNIFF_BYTES]
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else None
    thumbnail = None
    if mime in _PROGRAM_MIMES or head.startswith(_PROGRAM_MAGIC):
        raise _refuse(name, f"it is a program ({mime or 'executable'}), not a document; allowed: {ALLOWED}")
    if mime == PDF:
        _check_pdf(name, data)
        content_type = PDF
    elif mime in IMAGE_TYPES:
        thumbnail = _image(name, data, mime)
        content_type = mime
    elif mime in (DOCX, "application/zip"):
        _check_docx(name, data)
        content_type = DOCX
    elif mime is not None:
        raise _refuse(name, f"its content is {mime} (.{kind.extension}), which is not allowed; allowed: {ALLOWED}")
    else:
        _check_text(name, data)
        content_type = TEXT
    return Inspected(name=name, content_type=content_type, size=size, sha256=_sha256(upload), thumbnail=thumbnail)
