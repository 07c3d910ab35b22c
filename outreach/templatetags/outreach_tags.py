from __future__ import annotations

from django import template
from django.urls import NoReverseMatch
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from liaison_crm.ui_tags import pk_url
from outreach.selectors import Assignees

register = template.Library()


def _url(name: str, pk: int) -> str:
    try:
        return pk_url(name, pk)
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


@register.simple_tag
def assignee_options(assignees, selected_id) -> str:
    """The reassign select's <option>s, built in Python: a row per follow-up times a template
    per person was most of the follow-ups page's rendering time."""
    options = getattr(assignees, "options", None)
    if options is None:
        options = [
            (
                a.pk,
                format_html('<option value="{}"', a.pk),
                format_html(">{}</option>", a.get_full_name() or a.username),
            )
            for a in assignees
        ]
        if isinstance(assignees, Assignees):
            assignees.options = options
    return mark_safe(
        "".join(f"{head}{' selected' if pk == selected_id else ''}{tail}" for pk, head, tail in options)
    )  # every part went through format_html
