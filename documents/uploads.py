"""Keep each uploaded file's name as the browser sent it, so that a name with a path or control
characters is refused with its reason (documents.files.check_name) instead of being silently cut
down to something else.

Django's multipart parser sanitises names before any application code sees them: it drops all up
to the last / or \\ and every non-printable character. This middleware (placed before
CsrfViewMiddleware, which is the first to read request.POST) has multipart requests parsed by the
same parser, which also records each file's name as sent: `upload.raw_name`. Nothing else about
parsing changes, and the sanitised name stays what Django and storage ever see.

A part whose headers exceed Django's 1 KB limit (a file name of a thousand characters or more) makes
Django's parser give up, and the request would be a bare 400. Here the fields read until then (the
CSRF token comes first) are kept, no file, and `request.upload_refusal` says why, so the upload
form can show the reason like any other refusal.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import ImmutableList, MultiValueDict

NAME_TOO_LONG = (
    "A file was refused: its name is far too long (over a thousand characters; at most 200 are allowed). "
    "Rename it and upload it again."
)


class NameKeepingParser(MultiPartParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.raw_names: list[tuple[str, str]] = []  # (the name Django keeps, the name as sent), in order
        self.refusal: str | None = None

    def sanitize_file_name(self, file_name):
        cleaned = super().sanitize_file_name(file_name)
        if cleaned:
            # What UploadedFile makes of it (its basename, at most 255 characters): how the file is found below.
            self.raw_names.append((UploadedFile(name=cleaned).name, file_name))
        return cleaned

    def parse(self):
        try:
            post, files = super().parse()
        except MultiPartParserError as exc:
            if "header size" not in str(exc):
                raise
            # The fields parsed before the oversized part (MultiPartParser fills _post as it reads).
            post = getattr(self, "_post", None) or QueryDict(mutable=True)
            post._mutable = False
            self.refusal = NAME_TOO_LONG
            return post, MultiValueDict()
        pending = list(self.raw_names)
        for field in files:
            for upload in files.getlist(field):
                for i, (kept, raw) in enumerate(pending):
                    if kept == upload.name:
                        upload.raw_name = raw
                        del pending[i]
                        break
        return post, files


def _parse_keeping_names(request: HttpRequest, META, post_data):
    """HttpRequest.parse_file_upload, with the name-keeping parser."""
    request.upload_handlers = ImmutableList(
        request.upload_handlers, warning="You cannot alter upload handlers after the upload has been processed."
    )
    parser = NameKeepingParser(META, post_data, request.upload_handlers, request.encoding)
    result = parser.parse()
    request.upload_refusal = parser.refusal
    return result


class KeepUploadNamesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            request.parse_file_upload = lambda META, post_data: _parse_keeping_names(request, META, post_data)
        return self.get_response(request)


def upload_refusal(request: HttpRequest) -> str | None:
    """Why the request's files could not be read at all (see above), or None."""
    return getattr(request, "upload_refusal", None)


def sent_name(upload) -> str:
    """The name of `upload` as the browser sent it (or its own name, for files made in Python)."""
    return getattr(upload, "raw_name", None) or upload.name or ""
