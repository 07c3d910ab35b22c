"""The case page, its print version and the inquiry page issue the same number of queries with 1
document as with 20: the documents are read in one query, their previews load on their own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from documents.choices import DocumentKind

from . import samples
from .conftest import file_on_case

pytestmark = pytest.mark.django_db

PER_REQUEST = 2  # session, user (with team)
# The case page's own queries (tests/patients/test_queries.py names them), the documents among
# them; the page (not its print) also reads its trial steps.
CASE_PAGE = 10
TRIALS = 1


def _documents(case, nurse, consent, coverage, count: int) -> None:
    for i in range(count):
        if i % 3 == 0:
            file_on_case(case, nurse, name=f"record {i}.pdf")
        elif i % 3 == 1:
            file_on_case(case, nurse, name=f"card {i}.png", content=samples.png(), kind=DocumentKind.INSURANCE_CARD,
                         coverage=coverage)  # fmt: skip
        else:
            file_on_case(case, nurse, name=f"consent {i}.pdf", kind=DocumentKind.SIGNED_CONSENT, consent=consent)


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize("page", ["patients:case_detail", "patients:case_print"])
def test_case_page_query_count_does_not_grow_with_documents(
    count, page, case, consent, coverage, nurse, client_for, django_assert_num_queries
):
    _documents(case, nurse, consent, coverage, count)
    client = client_for(nurse)
    url = reverse(page, args=[case.pk])
    client.get(url)
    with django_assert_num_queries(PER_REQUEST + CASE_PAGE + TRIALS * (page == "patients:case_detail")):
        response = client.get(url)
    body = response.content.decode()
    assert body.count("SHA-256") >= count


@pytest.mark.parametrize("count", [1, 20])
def test_case_page_query_count_for_a_manager_with_documents_in_error(
    count, case, consent, coverage, nurse, manager, client_for, django_assert_num_queries
):
    from documents import services
    from documents.models import Document

    _documents(case, nurse, consent, coverage, count)
    services.mark_entered_in_error(document=Document.objects.first(), by=nurse, reason="Duplicate scan")
    client = client_for(manager)
    url = reverse("patients:case_detail", args=[case.pk])
    client.get(url)
    # + managed teams (scope) and the assignment picker's label (tests/patients/test_queries.py)
    with django_assert_num_queries(PER_REQUEST + CASE_PAGE + TRIALS + 2):
        response = client.get(url)
    assert "Show 1 entered in error" in response.content.decode()
