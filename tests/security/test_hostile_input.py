"""Hostile input through the real views: never a 500, never a write when refused, always escaped.

Every POST endpoint of the permission matrix is fuzzed with hypothesis. The field names are the
ones the application itself renders: every `<form method="post">` on the pages of the matrix is
parsed, so a new form or field is fuzzed without editing this file. Values are random text and a
list of hostile ones (NUL and other control characters, script tags, SQL fragments, huge strings,
impossible dates, out-of-range numbers, other teams' ids, unicode). A refused request (400, 409,
422) must leave every table as it was. The GET pages get the same treatment in their query string.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .test_permission_matrix import EXPECTED, FORBIDDEN, HIDDEN, NOT_ALLOWED, WRITE
from .world import World, build_world

pytestmark = pytest.mark.django_db

HOSTILE = [
    "",
    " ",
    "\x00",
    "abc\x00def",
    "\x01\x02\x07\x08\x1b[31m",
    "\r\n\t\x0b\x0c",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE physicians_physician; --",
    "1 OR 1=1",
    "' OR '1'='1",
    "%00",
    "%s%s%s%n",
    "{{ 7*7 }}{% debug %}",
    "../../../../etc/passwd",
    "x" * 20_000,
    "-1",
    "0",
    "-2147483649",
    "2147483648",
    "9223372036854775808",
    "1e309",
    "NaN",
    "-0.0",
    "2024-02-30",
    "0000-00-00",
    "9999-12-31",
    "10000-01-01",
    "1900-01-01T25:61",
    "2024-13-01T00:00",
    "\u202eevil\u202c",
    "\ufeff\u200b",
    "😀" * 100,
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "null",
    "true",
    "[]",
    "{}",
    "on",
]
REFUSALS = {400, 403, 404, 405, 409, 422}
NOT_COUNTED = {
    "auditlog.logentry", "sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog",
    # Signing the fuzzer's clients in writes these (the security log, the user's sessions).
    "accounts.securityevent", "usersessions.usersession",
}  # fmt: skip
MANAGEMENT = re.compile(r"-(TOTAL_FORMS|INITIAL_FORMS|MIN_NUM_FORMS|MAX_NUM_FORMS)$")


class FormCollector(HTMLParser):
    """action URL (or None for the page itself) → names of the fields of POST forms."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str | None, set[str]] = {}
        self.current: set[str] | None = None
        # Forms that load when their <details> is opened (hx-get, hx-trigger="toggle ...").
        self.lazy: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("hx-get") and "toggle" in (a.get("hx-trigger") or ""):
            self.lazy.add(a["hx-get"])
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self.current = self.forms.setdefault(a.get("action") or None, set())
            else:
                self.current = None
        elif (
            self.current is not None
            and tag in ("input", "select", "textarea", "button")
            and a.get("name") not in (None, "", "csrfmiddlewaretoken")
        ):
            self.current.add(a["name"])
        # htmx posts from outside a form (hx-post with hx-vals) carry the names in hx-include
        if tag != "form" and a.get("hx-post"):
            self.forms.setdefault(a["hx-post"], set())

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def _writer(table: dict) -> str | None:
    for role in ("nurse", "msl", "manager", "admin", "msl_other", "nurse_other", "manager_other"):
        if table[role] not in (FORBIDDEN, HIDDEN, NOT_ALLOWED):
            return role
    return None


def _client(world: World, role: str, *, raise_exceptions: bool = True) -> Client:
    client = Client(raise_request_exception=raise_exceptions)
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


_FIELDS: dict[str, set[str]] = {}


def _field_names(world: World) -> dict[str, set[str]]:
    """Every POST form the application renders to the roles of the matrix: URL name → fields.

    Collected once (the first test that needs it), by URL name so it holds for any world."""
    if _FIELDS:
        return _FIELDS
    forms: dict[str, set[str]] = {}
    for name, row in EXPECTED.items():
        if row.get is None or name in ("logout",):
            continue
        url = reverse(name, kwargs=row.kwargs(world))
        for role in ("nurse", "msl", "manager", "admin"):
            if row.get[role] != 200:
                continue
            response = _client(world, role).get(url)
            if response.streaming or "html" not in response.get("Content-Type", ""):
                continue
            collector = FormCollector()
            collector.feed(response.content.decode())
            for lazy_url in sorted(collector.lazy):  # as htmx fetches them when they are opened
                lazy = _client(world, role).get(lazy_url, HTTP_HX_REQUEST="true")
                if lazy.status_code == 200:
                    collector.feed(lazy.content.decode())
            for action, fields in collector.forms.items():
                try:
                    target = resolve(urlsplit(action or url).path).view_name
                except Resolver404:
                    continue
                forms.setdefault(target, set()).update(fields)
    _FIELDS.update(forms)
    return _FIELDS


def _counts() -> dict[str, int]:
    return {
        m._meta.label_lower: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.label_lower not in NOT_COUNTED and not m._meta.proxy
    }


POST_ROWS = [
    name
    for name, row in EXPECTED.items()
    if row.post is not None
    # Sign-in and out, and the names allauth reverses for pages fuzzed under their own names.
    and name
    not in ("login", "logout", "account_login", "account_logout", "account_change_password", "account_reset_password")
    and _writer(row.post) is not None
    # The API's bodies are JSON of a schema, not a page's form: tests/api/test_schemathesis.py
    # fuzzes every operation against it (its query strings are fuzzed here, with the pages').
    and not name.startswith("api:")
]


@pytest.fixture
def world() -> World:
    return build_world()


def value_strategy(ids: list[str]):
    # Beyond 64 bits, SQLite's driver raises OverflowError on `pk IN (...)` (ModelMultipleChoiceField):
    # a limitation of the development database only; PostgreSQL gets the huge numbers too.
    bits = 70 if connection.vendor == "postgresql" else 63
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(ids),
        st.text(max_size=200),
        st.integers(min_value=-(2**bits) + 1, max_value=2**bits - 1).map(str),
    )


@pytest.mark.parametrize("name", POST_ROWS)
def test_hostile_posts_never_500_and_write_nothing_when_refused(world, name):
    row = EXPECTED[name]
    role = _writer(row.post)
    url = reverse(name, kwargs=row.kwargs(world))
    fields = sorted(_field_names(world).get(name, set()))
    # Every id of the world: the right ones, other teams' ones, ones that do not exist.
    ids = [str(getattr(o, "pk", "")) for o in world.objects.values()] + ["999999", "0", "-5"]
    client = _client(world, role)

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(
        data=st.fixed_dictionaries({f: value_strategy(ids) for f in fields}),
        extra=st.dictionaries(st.sampled_from(["to", "owner", "days", "until", "next", "open"]), value_strategy(ids)),
        htmx=st.booleans(),
    )
    def check(data, extra, htmx):
        payload = {**extra, **data}
        before = _counts()
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response = client.post(url, payload, **headers)
        assert response.status_code < 500, f"POST {url} as {role} with {payload!r}: {response.status_code}"
        if response.status_code in REFUSALS:
            after = _counts()
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            assert not changed, f"POST {url} refused with {response.status_code} but wrote {changed}: {payload!r}"

    assert row.post[role] == WRITE or row.post[role] in (200, 302)
    check()


GET_PARAMS = [
    "q",
    "page",
    "sort",
    "tier",
    "specialty",
    "area",
    "owner",
    "institution",
    "not_contacted_days",
    "scope",
    "status",
    "theme",
    "product",
    "physician",
    "captured_by",
    "msl",
    "channel",
    "overdue",
    "priority",
    "date_from",
    "date_to",
    "team",
    "trial",
    "stage",
    "liaison",
    "program",
    "referral_physician",
    "referral_institution",
    "state",
    "range",
    "person",
    "kind",
    "unread",
    "user",
    "patient",
]
GET_ROWS = [
    name
    for name, row in EXPECTED.items()
    if row.get is not None and any(row.get[r] == 200 for r in ("manager", "admin", "nurse", "msl"))
]


@pytest.mark.parametrize("name", GET_ROWS)
def test_hostile_query_strings_never_500(world, name):
    row = EXPECTED[name]
    role = next(r for r in ("manager", "admin", "nurse", "msl", "anonymous") if row.get[r] == 200)
    url = reverse(name, kwargs=row.kwargs(world))
    client = _client(world, role)
    ids = [str(getattr(o, "pk", "")) for o in world.objects.values()]

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(params=st.dictionaries(st.sampled_from(GET_PARAMS), value_strategy(ids), max_size=6))
    def check(params):
        response = client.get(url, params)
        assert response.status_code < 500, f"GET {url} as {role} with {params!r}: {response.status_code}"
        if response.streaming:
            b"".join(response.streaming_content)

    check()


def test_every_post_endpoint_has_its_fields_found(world):
    """The fuzzer is only as good as the field names it found: each POST endpoint that takes a
    form must show up with its fields (a form-less action such as complete or read-all is fine)."""
    fields = _field_names(world)
    formless = {
        "outreach:follow_up_complete",
        "outreach:notifications_read_all",
        "outreach:calendar_regenerate",
        "outreach:calendar_revoke",
        "physicians:inquiry_close",
        "physicians:import_confirm",
        "outreach:notification_read",
        "patients:checklist_item",
        # Shown only once the evaluation checklist is complete (the world's case is just referred).
        "patients:eligibility",
        # Shown only for a consent to renew (the world's consent is pending: the page says why not).
        "patients:consent_reconsent",
        # Trial participation (issue 17): buttons without fields, and the steps the page shows
        # only later than the world's screening (consented: enrol; enrolled: complete, withdraw).
        "research:add_consent",
        "research:consented",
        "research:enrol",
        "research:complete",
        "research:withdraw",
        # Sign-in (issue 18): forms shown only behind a valid emailed link, during a sign-in
        # waiting for its code, or to a user with a second factor; buttons without fields.
        "password_reset_confirm",
        "invitation_accept",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "mfa_reauthenticate_webauthn",
        "mfa_generate_recovery_codes",
        "session_end",
        "user_action",
        # allauth's single-sign-on pages: a form only with a connected account, or a sign-up in
        # progress (redirects otherwise).
        "socialaccount_connections",
        "socialaccount_signup",
    }
    missing = sorted(n for n in POST_ROWS if n not in formless and not fields.get(n))
    assert not missing, f"no rendered form found for: {missing}"


def test_a_next_parameter_that_is_not_a_url_does_not_break_the_redirect(world):
    """Found by the fuzzer: next=abc made redirect() try to reverse a view named "abc" (500)."""
    fu = world.msl_follow_up
    response = _client(world, "msl").post(f"/outreach/follow-ups/{fu.pk}/complete/", {"next": "abc"})
    assert response.status_code == 302
    fu.refresh_from_db()
    assert fu.status == "done"


def test_a_forged_formset_size_is_refused_without_building_a_thousand_forms(world):
    """Found by the fuzzer: insights-TOTAL_FORMS=99999 built (and rendered) 1,010 forms per request."""
    from physicians.models import Interaction

    before = Interaction.objects.count()
    response = _client(world, "msl").post(
        f"/physicians/{world.physician.pk}/log/",
        {
            "channel": "in_person",
            "duration_minutes": "30",
            "insights-TOTAL_FORMS": "99999",
            "insights-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 422
    assert len(response.context["insights"].forms) <= 10
    assert Interaction.objects.count() == before


XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _assert_escaped(client: Client, url: str) -> None:
    body = client.get(url).content.decode()
    assert XSS not in body, url
    assert ESCAPED in body, url


def test_stored_values_render_escaped(world):
    from outreach.models import OutreachEvent
    from patients.models import Case
    from physicians.models import Institution, Physician

    msl, nurse = _client(world, "msl"), _client(world, "nurse")
    assert msl.post("/physicians/new/", {"first_name": XSS, "last_name": "Doe", "kol_tier": "0"}).status_code == 302
    physician = Physician.objects.get(first_name=XSS)
    _assert_escaped(msl, f"/physicians/{physician.pk}/")
    _assert_escaped(msl, f"/physicians/?scope=all&q={physician.last_name}")
    assert (
        msl.post(
            "/physicians/institutions/new/", {"name": XSS, "kind": "hospital", "city": "Boston", "country": "US"}
        ).status_code
        == 302
    )
    _assert_escaped(msl, f"/physicians/institutions/{Institution.objects.get(name=XSS).pk}/")
    response = msl.post(
        f"/physicians/{world.physician.pk}/log/",
        {
            "occurred_at": "2024-01-10T10:00",
            "channel": "phone",
            "duration_minutes": "20",
            "summary": XSS,
            "topics": XSS,
            "insights-TOTAL_FORMS": "1",
            "insights-INITIAL_FORMS": "0",
            "insights-0-theme": "safety",
            "insights-0-sentiment": "neutral",
            "insights-0-text": XSS,
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    interaction = world.physician.interactions.get(summary=XSS)
    _assert_escaped(msl, f"/physicians/interactions/{interaction.pk}/")
    _assert_escaped(msl, f"/physicians/insights/{interaction.insights.get().pk}/")
    _assert_escaped(msl, f"/physicians/{world.physician.pk}/")
    assert (
        msl.post("/outreach/follow-ups/add/", {"title": XSS, "due_at": "2030-01-01T09:00", "notes": XSS}).status_code
        == 302
    )
    _assert_escaped(msl, "/outreach/follow-ups/")
    assert (
        nurse.post(
            "/outreach/events/new/", {"title": XSS, "kind": "health_fair", "date": "2030-01-10", "contacts_made": "0"}
        ).status_code
        == 302
    )
    _assert_escaped(nurse, f"/outreach/events/{OutreachEvent.objects.get(title=XSS).pk}/")
    case = world.case
    assert nurse.post(f"/patients/cases/{case.pk}/medications/", {"med-name": XSS, "med-dose": "1 mg"}).status_code in (
        200,
        302,
    )
    assert nurse.post(
        f"/patients/cases/{case.pk}/communications/",
        {
            "comm-occurred_at": "2024-01-10T10:00",
            "comm-channel": "phone",
            "comm-parties": "liaison_patient",
            "comm-summary": XSS,
        },
    ).status_code in (200, 302)
    _assert_escaped(nurse, f"/patients/cases/{case.pk}/")
    assert Case.objects.filter(pk=case.pk, medications__name=XSS, communications__summary=XSS).exists()


@pytest.mark.parametrize("value", [" ", "abc", "1.5", "-1", "99999999999999999999999"])
def test_a_malformed_patient_id_on_the_referral_page_is_a_404(world, value):
    """Found by the fuzzer on PostgreSQL: ?patient=%20 raised ValueError (500)."""
    assert _client(world, "nurse").get("/patients/referrals/new/", {"patient": value}).status_code == 404


def test_a_nul_in_the_query_string_is_a_400(world):
    """Found on PostgreSQL: the referral-source search's ?q=a%00b was a 500 (NUL in a LIKE); the
    worklist's search is such a LIKE too."""
    response = _client(world, "nurse").get("/patients/", {"q": "a\x00b"})
    assert response.status_code == 400


def test_nul_characters_everywhere_are_refused_cleanly(world):
    """PostgreSQL refuses NUL in text: every query parameter and every form field carrying one
    must give a field error or be ignored, never a 500 (Django's ProhibitNullCharactersValidator
    covers CharField; lists, filters and the rest are checked here, deterministically)."""
    failures = []
    for name in GET_ROWS:
        row = EXPECTED[name]
        role = next(r for r in ("manager", "admin", "nurse", "msl", "anonymous") if row.get[r] == 200)
        url = reverse(name, kwargs=row.kwargs(world))
        response = _client(world, role, raise_exceptions=False).get(url, dict.fromkeys(GET_PARAMS, "a\x00b"))
        if response.status_code >= 500:
            failures.append(f"GET {url}: {response.status_code}")
    fields = _field_names(world)
    for name in POST_ROWS:
        row = EXPECTED[name]
        role = _writer(row.post)
        url = reverse(name, kwargs=row.kwargs(world))
        before = _counts()
        response = _client(world, role, raise_exceptions=False).post(url, dict.fromkeys(fields.get(name, ()), "\x00"))
        if response.status_code >= 500:
            failures.append(f"POST {url}: {response.status_code}")
        elif response.status_code in REFUSALS and _counts() != before:
            failures.append(f"POST {url}: refused but wrote")
    assert not failures, failures


# --- files: every upload form ---------------------------------------------------------------------


def _upload_forms(world: World) -> dict[str, tuple[str, str, dict, bool]]:
    """Every form that takes files: (role, URL, its other fields, sent by htmx)."""
    case_url = reverse("documents:upload", args=[world.case.pk])
    return {
        "case page": ("nurse", case_url, {"doc-kind": "medical_record"}, True),
        "consent": ("nurse", case_url, {"doc-kind": "signed_consent", "doc-consent": world.consent.pk}, False),
        "coverage": ("nurse", case_url, {"doc-kind": "insurance_card", "doc-coverage": world.coverage.pk}, False),
        "inquiry answer": (
            "msl",
            reverse("documents:inquiry_upload", args=[world.inquiry.pk]),
            {"doc-kind": "inquiry_response"},
            True,
        ),
    }


def _hostile_files():
    from tests.documents import samples

    return [
        ("virus.pdf", samples.exe, "it is a program"),
        ("page.html", samples.html, "it is HTML or other markup, which can carry script"),
        ("logo.svg", samples.svg, "it is SVG, which can carry script"),
        ("empty.pdf", lambda: b"", "the file is empty (0 bytes)"),
        ("big.pdf", samples.oversized, "it is 25.0 MB, over the limit of 20 MB"),
        ("broken.pdf", samples.broken_pdf, "it is not a readable PDF"),
        ("bomb.png", samples.png_bomb, "the image is too large to open safely"),
        ("scan.pdf.exe", samples.pdf, "double extension"),
        # Over Django's 1 KB limit on a part's headers: the parser stops (documents.uploads says why).
        ("x" * 9_996 + ".pdf", samples.pdf, "its name is far too long"),
    ]


HOSTILE_FILE_IDS = ["exe", "html", "svg", "empty", "25mb", "broken-pdf", "bomb", "double-ext", "long-name"]
UPLOAD_FORMS = ["case page", "consent", "coverage", "inquiry answer"]


@pytest.mark.parametrize("index", range(len(HOSTILE_FILE_IDS)), ids=HOSTILE_FILE_IDS)
@pytest.mark.parametrize("form", UPLOAD_FORMS)
def test_hostile_files_are_refused_by_every_upload_form_with_the_reason(world, form, index, settings):
    import html as html_lib
    from pathlib import Path

    from tests.documents import samples

    assert settings.DOCUMENT_MAX_MB == 20
    name, make, reason = _hostile_files()[index]
    role, url, fields, htmx = _upload_forms(world)[form]
    before = _counts()
    stored = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = _client(world, role).post(url, {**fields, "doc-files": [samples.Sent(name, make())]}, **headers)
    assert response.status_code == 422, response.content.decode()[:300]
    assert reason in html_lib.unescape(response.content.decode())
    assert _counts() == before
    assert {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()} == stored
