"""Small files of every kind the upload forms meet, made here (no fixtures on disk): the allowed
types, and the hostile ones each refusal is tested with."""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile

MB = 1024 * 1024


def pdf(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=210, height=297)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _image(fmt: str, size=(40, 30), color=(200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def png(size=(40, 30)) -> bytes:
    return _image("PNG", size)


def jpeg(size=(40, 30)) -> bytes:
    return _image("JPEG", size)


def tiff(size=(40, 30)) -> bytes:
    return _image("TIFF", size)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCUMENT = (
    b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
    b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Discharge letter</w:t></w:r></w:p></w:body></w:document>'
)


def docx() -> bytes:
    return _zip({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml": _DOCUMENT})


def docm() -> bytes:
    """A Word document with macros."""
    return _zip({"[Content_Types].xml": _CONTENT_TYPES, "word/document.xml": _DOCUMENT, "word/vbaProject.bin": b"x"})


def plain_zip() -> bytes:
    return _zip({"notes.txt": b"not a word document"})


def text() -> bytes:
    return "Referral notes: patient stable, ambulating with a walker. Café, naïve: UTF-8.\n".encode()


def exe() -> bytes:
    """The start of a Windows program (MZ / PE)."""
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 46 + b"\x80\x00\x00\x00" + b"PE\x00\x00" * 8
    )


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56


def html() -> bytes:
    return b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(1)</script></svg>\n"
    )


def broken_pdf() -> bytes:
    return b"%PDF-1.7\n" + b"this is not a PDF body at all " * 20 + b"\n%%EOF\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 20_000) -> bytes:
    """A valid PNG of side × side one-bit pixels (400 million at the default): about 50 KB on
    disk, 50 MB of pixels to decode. Pillow refuses to open it (DecompressionBombError)."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def oversized(megabytes: int = 25) -> bytes:
    return b"a" * (megabytes * MB)


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


class Sent(io.BytesIO):
    """A file for Django's test client to send under exactly this name (an UploadedFile would cut
    a name to 255 characters before it is sent; a browser sends it whole)."""

    def __init__(self, name: str, content: bytes):
        super().__init__(content)
        self.name = name


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart body written by hand, so a file name can carry what Django's test client would
    strip (a path): (body, content type)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for field, filename, content in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
