from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from .security import second_factor_passed, second_factor_required


def navigation(request: HttpRequest) -> dict:
    """The top bar's sections for the signed-in user's role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    if second_factor_required(user) and not second_factor_passed(request):
        # Until the second factor: no sections, no notification bell (its poll would be sent
        # to enrolment and reload the page, with a new secret), only sign-out.
        return {"nav_sections": [], "second_factor_required": True, "second_factor_pending": True}
    sections: list[tuple[str, str, str]] = []  # (label, url, url prefix that marks it active)
    # Everyone reads physicians: MSLs work them, liaisons look up referral sources.
    sections.append(("Physicians", reverse("physicians:list"), "/physicians/"))
    if user.sees_phi:
        sections.append(("Cases", reverse("patients:worklist"), "/patients/"))
    sections.append(("Follow-ups", reverse("outreach:follow_ups"), "/outreach/"))
    sections.append(("Dashboard", reverse("reporting:dashboard"), "/reporting/"))
    return {"nav_sections": sections, "second_factor_required": second_factor_required(user)}
