from __future__ import annotations

import pytest

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_nurse_logs_in_through_the_form_and_sees_her_home(page, nurse):
    login(page, "nurse")
    assert page.url.endswith("/patients/")
    assert page.get_by_role("navigation", name="Main navigation").is_visible()
    assert page.get_by_text(nurse.get_full_name()).first.is_visible()


def test_a_wrong_password_keeps_the_user_on_the_login_page(page, msl):
    login(page, "msl", "not-the-password")
    assert "/accounts/login/" in page.url
    assert page.get_by_text("Please enter a correct username and password").is_visible()
