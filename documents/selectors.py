"""Read-side queries: a case's or an inquiry's documents for one user, and what other apps ask of
documents (the evaluation checklist's "medical records reviewed" evidence)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User

from .choices import DocumentKind
from .models import Document

PEOPLE = ("uploaded_by", "entered_in_error_by")


# The name under which case querysets carry medical_record_filed() (the worklist, the case page).
HAS_MEDICAL_RECORD = "has_medical_record"


def _medical_records(case) -> QuerySet[Document]:
    return Document.objects.current().filter(case=case, kind=DocumentKind.MEDICAL_RECORD)


def medical_record_filed() -> Exists:
    """For `.annotate(**{HAS_MEDICAL_RECORD: medical_record_filed()})` on cases: whether each has a
    medical-record document, in the cases' own query (on document_case_kind_idx)."""
    return Exists(_medical_records(OuterRef("pk")))


def has_medical_record(case) -> bool:
    """At least one medical-record document on the case (entered in error does not count): the
    annotation when the case came with it, else one query."""
    known = getattr(case, HAS_MEDICAL_RECORD, None)
    return known if known is not None else _medical_records(case).exists()


def _listed(qs: QuerySet[Document]) -> QuerySet[Document]:
    """Everything a document's row shows, in one query: who filed it (by name only), on what."""
    return qs.select_related(*PEOPLE, "consent", "coverage").defer(*User.unshown(*PEOPLE))


@dataclass
class DocumentList:
    """The documents of a case or an inquiry as one user sees them: `current` (the default
    view), and for managers the ones entered in error (`in_error`), shown when `show_all`."""

    current: list[Document] = field(default_factory=list)
    in_error: list[Document] = field(default_factory=list)
    show_all: bool = False

    @property
    def shown(self) -> list[Document]:
        if not self.show_all:
            return self.current
        return sorted(self.current + self.in_error, key=lambda d: (d.uploaded_at, d.pk), reverse=True)

    def __len__(self) -> int:
        return len(self.current)


def _split(documents: list[Document], show_all: bool) -> DocumentList:
    result = DocumentList(show_all=show_all)
    for document in documents:
        (result.in_error if document.is_entered_in_error else result.current).append(document)
    return result


def case_documents(case, user, *, show_all: bool = False) -> DocumentList:
    """The case's documents for `user`, newest first: one query, whatever their number."""
    qs = _listed(Document.objects.visible_to(user).filter(case=case))
    return _split(list(qs), show_all)


def inquiry_documents(inquiry, user, *, show_all: bool = False) -> DocumentList:
    qs = _listed(Document.objects.visible_to(user).filter(inquiry=inquiry))
    return _split(list(qs), show_all)


def document_for(user, pk: int) -> QuerySet[Document]:
    """The document `pk` if `user` may see it (an empty queryset otherwise): for get_object_or_404.
    Its case (with the patient and team ids the audit entry names) or inquiry comes with it."""
    return Document.objects.visible_to(user).select_related("case", "inquiry").filter(pk=pk)
