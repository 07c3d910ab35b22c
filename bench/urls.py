"""The benchmark's URLconf: the product's URLs, and two reference pages that only the benchmark serves.

The reference pages say what the 3x-floor budget leaves a page for its own work. Each goes
through the whole middleware stack as a signed-in user (session, user and team, CSRF, CSP,
audit, idle timeout) like every product page:
- `empty`: reads the user's team, as every page's top bar does, and answers a one-line text body;
- `layout`: renders the site's layout (base.html: top bar, messages) around no content.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from liaison_crm.urls import handler400, handler500
from liaison_crm.urls import urlpatterns as product_urlpatterns

__all__ = ["handler400", "handler500", "urlpatterns"]


def empty(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{request.user.team_id or 0}\n", content_type="text/plain")


def layout(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html", {"title": "Reference"})


urlpatterns = [
    path("bench/reference/empty/", empty, name="bench_empty"),
    path("bench/reference/layout/", layout, name="bench_layout"),
    *product_urlpatterns,
]
