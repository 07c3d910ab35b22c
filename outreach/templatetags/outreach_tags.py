from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


def _url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


@register.simple_tag
def concern(fu) -> dict | None:
    """What a follow-up is about, as {label, url, icon}; a case by its number only."""
    if fu.physician_id:
        return {"label": str(fu.physician), "url": _url("physicians:detail", fu.physician_id), "icon": "person-badge"}
    if fu.case_id:
        return {
            "label": f"Case #{fu.case_id}",
            "url": _url("patients:case_detail", fu.case_id),
            "icon": "clipboard2-pulse",
        }
    if fu.inquiry_id:
        return {
            "label": f"Inquiry #{fu.inquiry_id}",
            "url": _url("physicians:inquiry_detail", fu.inquiry_id),
            "icon": "question-circle",
        }
    if fu.interaction_id:
        return {
            "label": f"Interaction #{fu.interaction_id}",
            "url": _url("physicians:interaction_detail", fu.interaction_id),
            "icon": "chat-dots",
        }
    return None
