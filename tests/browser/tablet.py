"""Tablet width (issue 14): a page fits a 768 px wide viewport without horizontal page scrolling.

Wide tables may scroll inside their own `.table-responsive` box; the page itself may not.
"""

from __future__ import annotations

import io

from django.core.management import call_command

TABLET = {"width": 768, "height": 1024}

# What sticks out of the viewport, to say why a page overflows (the assertion is on scrollWidth).
PAST_THE_EDGE = """() => {
  const width = window.innerWidth;
  const inScroller = (el) => el.closest('.table-responsive') !== null;
  const out = [];
  document.querySelectorAll('body *').forEach((el) => {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5 && !inScroller(el)) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
    }
  });
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, past: out.slice(0, 8)};
}"""


def seed_demo() -> None:
    """The demo data (the contract's users, password `demo`): real names and real table widths."""
    call_command("seed_demo", stdout=io.StringIO())


def demo_page(browser, live_server, username: str):
    """A new tablet-sized browser page, signed in as a demo user."""
    context = browser.new_context(base_url=live_server.url, viewport=TABLET)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("domcontentloaded")
    return page


def overflow(page) -> dict | None:
    """None when the page fits the viewport's width; otherwise what sticks out."""
    page.wait_for_load_state("load")
    found = page.evaluate(PAST_THE_EDGE)
    return None if found["scrollWidth"] <= found["innerWidth"] else found
