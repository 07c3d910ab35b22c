"""Every page each role reaches from its navigation: no serious or critical axe-core violation, and
no horizontal overflow on a tablet (768 px wide).

The demo data gives every list rows for every role (DESIGN's contract). For each demo user the test
starts at their home page and follows every same-site link, visiting each kind of page once (the
ids in a path do not make a new kind: /physicians/12/ and /physicians/40/ are one page), so a new
page linked from anywhere is checked without being listed here. axe-core is vendored under
tests/browser/vendor/ (from npm) and injected into each page; the page's own Content Security
Policy is bypassed for that injection only.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from .conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ROLES = ["msl", "msl2", "nurse", "nurse2", "manager", "admin"]
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}
# Not pages: downloads, feeds, JSON, sign-out, Django's own admin and the API's Swagger UI (not ours
# to restyle; test_api_docs.py checks that the latter works under the CSP).
SKIP = re.compile(
    r"(\.csv|\.ics|/recovery-codes/download/)$|^/accounts/logout/|^/admin/|^/api/|^/static/|/lookups/|/calendar/feed/"
)
MAX_PAGES = 150  # per role: a crawl that finds more kinds of page than that has run away


def _kind(path: str) -> str:
    """A page's kind: its path with every id replaced."""
    return re.sub(r"/\d+(?=/|$)", "/<id>", path)


def _links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIP.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result
        if v["impact"] in BLOCKING
    ]


def _overflow(page) -> int:
    """How many pixels the page is wider than the viewport (0: no horizontal scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def _crawl(browser, base_url: str, username: str) -> tuple[dict[str, list], dict[str, int], list[str]]:
    context = browser.new_context(base_url=base_url, viewport=TABLET, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, username, "demo")
    start = urlsplit(page.url)
    origin = f"{start.scheme}://{start.netloc}"
    queue = deque([start.path])
    seen = {_kind(start.path)}
    violations: dict[str, list] = {}
    overflows: dict[str, int] = {}
    visited: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        page.set_viewport_size(TABLET)
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        if response is None or response.status >= 400 or urlsplit(page.url).path.startswith("/accounts/login/"):
            continue  # a link the role may not follow (403/404) is not a page it reaches
        visited.append(url)
        if (extra := _overflow(page)) > 1:
            overflows[url] = extra
        page.set_viewport_size(DESKTOP)
        if found := _axe(page):
            violations[url] = found
        for link in _links(page, origin):
            kind = _kind(urlsplit(link).path)
            if kind not in seen:
                seen.add(kind)
                queue.append(link)
    context.close()
    return violations, overflows, visited


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_reaches_passes_axe_and_fits_a_tablet(browser, live_server, username):
    call_command("seed_demo", verbosity=0)
    violations, overflows, visited = _crawl(browser, live_server.url, username)
    report = [
        f"{url}: {v['impact']} {v['rule']} ({v['help']}) at {v['nodes']}"
        for url, found in violations.items()
        for v in found
    ]
    report += [f"{url}: {extra} px wider than a 768 px tablet" for url, extra in overflows.items()]
    # The crawl must really reach the product: each role's navigation leads to many kinds of page.
    assert len(visited) >= 10, visited
    assert not report, "\n".join(report)
