"""No patient data ever reaches an MSL: crawl every page an MSL can reach from the home page.

With the demo data, log in as `msl` and as `msl2` (two medical-affairs teams), follow every link
(`<a href>`, htmx `hx-get`, redirects) within the site from `/`, GET CSV exports too, and look
for any patient's name, medical record number or date of birth (in the formats the templates
use) in every response. Then the same for the MSL's notifications, reminder emails and calendar.
"""

from __future__ import annotations

import html
import io
import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from outreach import services as outreach_services
from outreach.tasks import dispatch_due_reminders
from patients.models import Patient
from physicians.models import Physician, TrainingAttendee
from research.models import Participation

pytestmark = pytest.mark.django_db

MAX_PAGES = 400
LINK = re.compile(r"""(?:href|hx-get)\s*=\s*["']([^"'#][^"']*)["']""", re.I)
# Leaving the session or the application proper: never followed.
SKIP_PREFIXES = ("/admin/", "/accounts/logout/", "/static/", "/media/")


def _dob_formats(patient: Patient) -> set[str]:
    d = patient.date_of_birth
    return {
        d.isoformat(),  # |date:"Y-m-d", CSV
        f"{d:%m/%d/%Y}",
        f"{d:%B} {d.day}, {d.year}",  # Django's default DATE_FORMAT "N j, Y" for long months
        f"{d:%b}. {d.day}, {d.year}",  # "N j, Y" for abbreviated months ("Aug. 5, 1950")
    }


def _phi_needles() -> dict[str, str]:
    """Every patient's identifying strings → what it is, minus names other people share.

    A patient named like a physician or a user (the demo draws from common names) would match the
    physician's own pages: those names are left out, since the MRN and birth date still catch a leak.
    """
    other_people = {
        f"{first} {last}".lower()
        for first, last in list(Physician.objects.values_list("first_name", "last_name"))
        + list(User.objects.values_list("first_name", "last_name"))
    }
    other_people |= {n.lower() for n in TrainingAttendee.objects.values_list("name", flat=True)}
    needles: dict[str, str] = {}
    for p in Patient.objects.all():
        needles[p.mrn] = f"MRN of patient {p.pk}"
        for dob in _dob_formats(p):
            needles[dob] = f"birth date of patient {p.pk}"
        for name in (f"{p.first_name} {p.last_name}", f"{p.last_name}, {p.first_name}"):
            if f"{p.first_name} {p.last_name}".lower() not in other_people:
                needles[name] = f"name of patient {p.pk}"
    # Trial participants' subject ids (issue 17): the MSL side sees enrolment counts, never who.
    for pk, participant_id in Participation.objects.exclude(participant_id="").values_list("pk", "participant_id"):
        needles[participant_id] = f"participant id of participation {pk}"
    return needles


def _find_phi(text: str, needles: dict[str, str], haystack_re: re.Pattern) -> list[str]:
    return sorted({needles[m.group(0)] + f" ({m.group(0)!r})" for m in haystack_re.finditer(text)})


def _links(body: str) -> list[str]:
    return [html.unescape(m) for m in LINK.findall(body)]


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _crawl(client: Client) -> dict[str, str]:
    """BFS from /, bounded: kinds of page never seen (/physicians/N/ ...) first, then more records
    of a known kind, then query-string variants (filters, sorts, pages) of known paths."""
    seen: set[str] = {"/"}
    queues: tuple[deque[str], ...] = (deque(["/"]), deque(), deque())
    shapes: set[str] = set()
    paths: set[str] = set()
    pages: dict[str, str] = {}
    while any(queues) and len(pages) < MAX_PAGES:
        url = next(q for q in queues if q).popleft()
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        if response.status_code in (301, 302):
            found = [response["Location"]]
            body = ""
        else:
            body = (b"".join(response.streaming_content) if response.streaming else response.content).decode(
                "utf-8", "replace"
            )
            found = _links(body)
        pages[url] = body
        paths.add(urlsplit(url).path)
        shapes.add(_shape(urlsplit(url).path))
        for link in found:
            link, _ = urldefrag(link)
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not link.startswith("/") or link.startswith(SKIP_PREFIXES):
                continue
            if link in seen:
                continue
            seen.add(link)
            tier = 2 if parts.path in paths else 1 if _shape(parts.path) in shapes else 0
            queues[tier].append(link)
    return pages


@pytest.fixture
def demo(settings):
    call_command("seed_demo", stdout=io.StringIO())
    # Reminders fall due in the demo data: send them, so notifications and emails exist.
    mail.outbox.clear()
    dispatch_due_reminders()
    return _phi_needles()


@pytest.mark.parametrize("username", ["msl", "msl2"])
def test_no_patient_data_on_any_page_an_msl_reaches(demo, username):
    needles = demo
    assert needles, "the demo data has patients"
    pattern = re.compile("|".join(sorted(map(re.escape, needles), key=len, reverse=True)))
    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    pages = _crawl(client)
    # The crawl really went through the MSL's world (not a login page or a handful of links).
    visited_paths = {urlsplit(u).path for u in pages}
    for expected in ("/physicians/", "/physicians/interactions/", "/outreach/follow-ups/", "/outreach/notifications/"):
        assert expected in visited_paths, f"the crawl never reached {expected}"
    assert any(p.endswith(".csv") for p in visited_paths), "no CSV export was reached"
    # The trial sites whose enrolment is counted from the participations were read.
    counted = {f"/physicians/sites/{pk}/" for pk in Participation.objects.values_list("site_id", flat=True)}
    assert counted & visited_paths, "the crawl never reached a site with participations"
    assert Participation.objects.exclude(participant_id="").exists()
    assert len(pages) > 100
    leaks = {url: found for url, body in pages.items() if (found := _find_phi(body, needles, pattern))}
    assert not leaks, f"patient data shown to {username}: {leaks}"


def test_msl_notifications_emails_and_calendar_carry_no_patient_data(demo):
    needles = demo
    pattern = re.compile("|".join(sorted(map(re.escape, needles), key=len, reverse=True)))
    for username in ("msl", "msl2"):
        user = User.objects.get(username=username)
        assert user.notifications.exists(), "the MSL received reminders"
        for n in user.notifications.all():
            assert not _find_phi(f"{n.title}\n{n.body}\n{n.url}", needles, pattern), n.pk
        for message in mail.outbox:
            if user.email in message.to:
                bodies = [message.subject, message.body] + [a[0] for a in getattr(message, "alternatives", [])]
                assert not _find_phi("\n".join(bodies), needles, pattern), message.subject
        feed = outreach_services.regenerate_calendar_token(user=user)
        token = getattr(feed, "token", None) or user.calendar_feed.token
        response = Client().get(f"/outreach/calendar/{token}.ics")
        assert response.status_code == 200
        body = response.content.decode()
        assert "BEGIN:VEVENT" in body
        assert not _find_phi(body, needles, pattern)
