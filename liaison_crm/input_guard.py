"""Refuse query strings carrying a NUL character before any view sees them.

PostgreSQL rejects NUL in text, so `?q=a%00b` reaching a `filter(name__icontains=q)` raised a
ValueError (a 500) in every list that reads its parameters directly. No legitimate URL carries
one: a 400 says so. Form fields are covered by Django's ProhibitNullCharactersValidator
(CharField) and by the other fields' own parsing.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


class RejectNulInQueryStringMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest("A parameter of this address contains a NUL character.")
        return self.get_response(request)
