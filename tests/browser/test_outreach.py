from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from liaison_crm.lookups import MAX_RESULTS
from outreach import services
from outreach.models import FollowUp, OutreachEvent
from tests.factories import FollowUpFactory, UserFactory

from .conftest import login
from .tablet import demo_page, overflow, seed_demo

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_msl_completes_and_snoozes_follow_ups_in_place_and_sees_the_bell(page, msl):
    done = FollowUpFactory(owner=msl, title="Send the trial data", due_at=timezone.now() - dt.timedelta(hours=2))
    later = FollowUpFactory(owner=msl, title="Book the advisory board", due_at=timezone.now() + dt.timedelta(hours=1))
    services.notify(user=msl, title="Reminder one")
    services.notify(user=msl, title="Reminder two")
    login(page, "msl")
    page.goto("/outreach/follow-ups/")
    assert page.get_by_role("heading", name="Overdue").is_visible()
    # The bell loads by itself with the unread count.
    page.locator("#nav-bell .bell-badge").wait_for()
    assert page.locator("#nav-bell .bell-badge").inner_text() == "2"

    row = page.locator(f"#fu-{done.pk}")
    row.get_by_role("button", name="Complete").click()
    page.locator(f"#fu-{done.pk}.fu-done").wait_for()
    assert FollowUp.objects.get(pk=done.pk).status == "done"

    row = page.locator(f"#fu-{later.pk}")
    row.get_by_role("button", name="Snooze").click()
    # Opening the menu loads its date form (a GET); the snooze itself is the POST.
    row.get_by_label("Snooze until").wait_for()
    with page.expect_response(lambda r: "/snooze/" in r.url and r.request.method == "POST" and r.status == 200):
        row.get_by_role("button", name="1 week").click()
    later.refresh_from_db()
    assert later.due_at > timezone.now() + dt.timedelta(days=6)


def test_quick_add_from_the_follow_ups_page(page, nurse):
    login(page, "nurse")
    page.goto("/outreach/follow-ups/")
    page.get_by_label("Title").fill("Call the pharmacy")
    page.get_by_role("button", name="Add").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_text("Call the pharmacy").is_visible()
    assert FollowUp.objects.get().owner == nurse


def test_a_manager_reassigns_a_follow_up_by_typing_a_name_in_the_picker(page, manager, msl, msl_teammate, nurse):
    msl_teammate.first_name, msl_teammate.last_name = "Quentin", "Zabriskie"
    msl_teammate.save()
    # More people than the picker lists before one types: Quentin is found only by searching.
    for i in range(MAX_RESULTS + 2):
        UserFactory(team=msl.team, first_name=f"Abe{i:02d}", last_name="Early")
    fu = FollowUpFactory(owner=msl, title="Send the renal data", due_at=timezone.now() + dt.timedelta(hours=3))
    login(page, "manager")
    searched = []
    page.on("request", lambda r: searched.append(r.url) if "/outreach/lookups/assignees/" in r.url else None)
    page.goto("/outreach/follow-ups/")
    row = page.locator(f"#fu-{fu.pk}")
    row.get_by_role("button", name="Reassign").click()
    # The menu loads its form: a picker that holds only the current owner until one types.
    menu = row.locator("form.fu-menu-form")
    picker = page.locator(f"#reassign-owner-{fu.pk}-ts-control")  # Tom Select's input, once started
    picker.wait_for(state="attached")
    assert page.get_by_role("combobox", name="Reassign to").first.get_attribute("id") == picker.get_attribute("id")
    assert menu.locator("select option").count() == 2
    # Focus loads the first matches of nothing typed; wait for them, so that a slow answer to
    # that request cannot land after the search's (static/js/app.js adds both to the list).
    with page.expect_response(lambda r: "/outreach/lookups/assignees/?q=" in r.url and r.url.endswith("q=")):
        menu.locator(".ts-control").click()
    page.keyboard.type("Zab", delay=30)
    menu.locator(".ts-dropdown .option", has_text="Quentin Zabriskie").click()
    assert any("q=Zab" in url for url in searched), searched
    with page.expect_response(lambda r: f"/follow-ups/{fu.pk}/reassign/" in r.url and r.request.method == "POST"):
        menu.get_by_role("button", name="Reassign").click()
    page.locator(f"#fu-{fu.pk}", has_text="Quentin Zabriskie").wait_for()
    fu.refresh_from_db()
    assert fu.owner == msl_teammate


@pytest.mark.parametrize("username", ["manager", "msl", "nurse"])
def test_no_outreach_page_is_wider_than_a_tablet(browser, live_server, username):
    seed_demo()
    user = User.objects.get(username=username)
    event = OutreachEvent.objects.visible_to(user).order_by("pk").first()
    page = demo_page(browser, live_server, username)
    urls = [
        "/outreach/follow-ups/",
        "/outreach/follow-ups/?state=overdue",
        "/outreach/notifications/",
        "/outreach/calendar/",
        "/outreach/events/",
        "/outreach/events/new/",
        f"/outreach/events/{event.pk}/",
        f"/outreach/events/{event.pk}/edit/",
    ]
    wide = {}
    for url in urls:
        page.goto(url)
        if found := overflow(page):
            wide[url] = found
    # A row's menus open inside the page, whichever row (the last row's menus are at the edge).
    page.goto("/outreach/follow-ups/")
    row = page.locator(".fu-row:has(.fu-actions)").last
    for menu in ("Snooze", "Reassign"):
        button = row.get_by_role("button", name=menu)
        if button.count():
            button.click()
            row.locator(".dropdown-menu.show form.fu-menu-form").wait_for()
            if found := overflow(page):
                wide[f"{menu} menu"] = found
            page.keyboard.press("Escape")
    page.context.close()
    assert not wide, wide
