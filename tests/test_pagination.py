"""The project's paginator: no COUNT, one query per page, deep pages by id, 404 past the end."""

from __future__ import annotations

import pytest
from django.http import Http404

from liaison_crm.pagination import paginate
from physicians.models import Institution

pytestmark = pytest.mark.django_db


@pytest.fixture
def institutions():
    return [Institution.objects.create(name=f"Hospital {i:02d}", city="Boston") for i in range(7)]


def test_pages_in_order_with_one_query_each(institutions, django_assert_num_queries):
    qs = Institution.objects.order_by("name")
    with django_assert_num_queries(1):
        first = paginate(qs, None, per_page=3)
    assert [i.name for i in first] == ["Hospital 00", "Hospital 01", "Hospital 02"]
    assert first.has_next() and not first.has_previous()
    with django_assert_num_queries(1):  # a deep page reads its ids and rows in one statement
        third = paginate(qs, "3", per_page=3)
    assert [i.name for i in third] == ["Hospital 06"]
    assert not third.has_next() and third.has_previous() and third.previous_page_number() == 2


@pytest.mark.parametrize("raw", ["x", "-4", "0", "", "1.5"])
def test_malformed_page_numbers_are_the_first_page(institutions, raw):
    assert paginate(Institution.objects.order_by("name"), raw, per_page=3).number == 1


@pytest.mark.parametrize("raw", ["4", "99999999999999999999999"])
def test_a_page_past_the_end_is_a_404(institutions, raw):
    with pytest.raises(Http404):
        paginate(Institution.objects.order_by("name"), raw, per_page=3)
