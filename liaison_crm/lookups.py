"""Type-ahead pickers for choices that run to hundreds or thousands (people, physicians,
institutions, products, trial sites).

A `Lookup` is one list a user may pick from. It serves two things from the same queryset, so a
picker never offers what the form would refuse:

- its JSON endpoint (`lookup.view`, routed by the app that owns it): at most `MAX_RESULTS`
  matches for `?q=`, `{"results": [{"value": "12", "text": "Smith, Jane"}]}`;
- the form field or filter that validates the choice (`lookup.queryset(request)` or the same
  function the lookup calls).

The widget (`liaison_crm.widgets.LookupSelect`) renders only the chosen option(s); Tom Select
(static/vendor/tom-select, started by static/js/app.js) asks the endpoint as the user types.
Each lookup's queryset starts from the model's `visible_to(user)` (or, for people, from the
teams the user may see), so the endpoint answers nothing outside the user's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

MAX_RESULTS = 20
MAX_QUERY = 100  # characters of ?q= that are searched; a longer paste is cut, not a 400


def name_prefix_q(q: str, first: str = "first_name", last: str = "last_name") -> Q:
    """`Jane Smith` matches first and last name; one word matches either name's beginning."""
    words = q.split()
    if len(words) >= 2:
        return Q(**{f"{first}__istartswith": words[0], f"{last}__istartswith": " ".join(words[1:])}) | Q(
            **{f"{last}__istartswith": q}
        )
    return Q(**{f"{last}__istartswith": q}) | Q(**{f"{first}__istartswith": q})


def search_people(qs: QuerySet, q: str) -> QuerySet:
    """People by the beginning of their first or last name, or their username."""
    return qs.filter(name_prefix_q(q) | Q(username__istartswith=q))


@dataclass(frozen=True)
class Lookup:
    """One pickable list: what a user may choose (`queryset`), how `?q=` narrows it (`search`),
    in what order the matches come (`order_by`) and how each is labelled (`label`)."""

    url_name: str
    queryset: Callable[[HttpRequest], QuerySet]
    search: Callable[[QuerySet, str], QuerySet]
    order_by: tuple[str, ...]
    label: Callable[[Model], str] = str
    # Who may ask at all; anyone else gets a 403 (the queryset scopes what the others see).
    allowed: Callable[[object], bool] = field(default=lambda user: True)

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def matches(self, request: HttpRequest, q: str) -> list[dict[str, str]]:
        qs = self.queryset(request)
        q = q.strip()[:MAX_QUERY]
        if q:
            qs = self.search(qs, q)
        return [{"value": str(obj.pk), "text": self.label(obj)} for obj in qs.order_by(*self.order_by)[:MAX_RESULTS]]

    def view(self, request: HttpRequest) -> JsonResponse:
        if not self.allowed(request.user):
            raise PermissionDenied("Your role cannot pick from this list.")
        return JsonResponse({"results": self.matches(request, request.GET.get("q", ""))})

    def as_view(self) -> Callable[[HttpRequest], JsonResponse]:
        return require_GET(self.view)
