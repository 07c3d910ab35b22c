"""A small HTTP client for the stress tests: sessions with cookies and Django's CSRF dance."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: object = None


@dataclass
class Response:
    status: int
    body: str
    url: str


class Session:
    def __init__(self, base_url: str, timeout: float = 30):
        self.base_url = base_url
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def _csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None) -> Response:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode() if method == "POST" else None
        req = urllib.request.Request(self.base_url + path, data=body, method=method)
        req.add_header("Referer", self.base_url + "/")
        if method == "POST":
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
            req.add_header("X-CSRFToken", self._csrf())
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return Response(resp.status, resp.read().decode("utf-8", "replace"), resp.geturl())
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read().decode("utf-8", "replace"), req.full_url)

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict | None = None, **kw) -> Response:
        data = dict(data or {})
        data.setdefault("csrfmiddlewaretoken", self._csrf())
        return self.request("POST", path, data, **kw)

    def login(self, username: str, password: str = "demo") -> None:
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"username": username, "password": password})
        if response.status != 302:
            raise AssertionError(f"login as {username} failed: {response.status}")

    def csrf_from(self, path: str) -> str:
        """Fetch a page so the CSRF cookie is set; return the form's token too."""
        page = self.get(path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        return match.group(1) if match else self._csrf()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wait_until_up(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up within {timeout}s")


class _FormParser(HTMLParser):
    """The fields of every <form> of a page, with the values a browser would submit untouched."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_multiple = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}}
            )
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.setdefault(name, []).append(a.get("value", "on"))
                return
            fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._select_first = name, None
            self._select_multiple = "multiple" in a
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self.forms[-1]["fields"][self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            # A browser sends a single select's first option when none is selected, and nothing
            # for a multiple select with none selected (a picker renders only chosen options).
            if not self._select_multiple:
                self.forms[-1]["fields"].setdefault(self._select, self._select_first or "")
            self._select = None
        elif tag == "textarea" and self._textarea:
            fields = self.forms[-1]["fields"]
            fields[self._textarea] = fields[self._textarea].removeprefix("\n")  # as browsers do
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data


def form_fields(html: str, action: str) -> dict:
    """The fields of the form posting to `action` (a path), as a browser would send them."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if form["action"].split("?")[0] == action:
            return dict(form["fields"])
    # A form without an action posts to the page it is on (fetched from `action`).
    for form in parser.forms:
        if form["action"] == "" and form["method"] == "post":
            return dict(form["fields"])
    raise AssertionError(f"no form posting to {action} in the page")


def select_options(html: str, name: str) -> list[str]:
    """The non-empty option values of the <select name=...> of a page."""
    match = re.search(rf'<select[^>]*name="{re.escape(name)}".*?</select>', html, re.S)
    return [v for v in re.findall(r'<option value="([^"]*)"', match.group(0)) if v] if match else []
