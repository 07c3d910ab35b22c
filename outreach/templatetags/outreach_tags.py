from __future__ import annotations

import datetime as dt

from django import template
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from liaison_crm.dates import day_month_hm, ymd_hm
from liaison_crm.ui_tags import csrf_input, pk_url
from outreach.models import FollowUpStatus
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


# --- A follow-up row ------------------------------------------------------------------------------
# The follow-ups page shows up to 40 rows, each with three forms. As an included template a row
# cost ~175 µs of the template engine (7 of the page's ~28 ms, bench/results.md); written here, as
# Django's admin writes its changelist rows (admin_list.items_for_result), it costs a tenth.
# tests/outreach/test_follow_up_row.py holds the former template and checks the markup is the same.
ROW_FORM = '<form method="post" action="{url}" hx-post="{url}" hx-target="#fu-{pk}" hx-swap="outerHTML"{cls}>{csrf}'
SNOOZE_MENU = (
    '<div class="dropdown"><button class="btn btn-sm btn-outline-secondary dropdown-toggle" type="button" '
    'data-bs-toggle="dropdown" aria-expanded="false"><i class="bi bi-alarm" aria-hidden="true"></i> Snooze</button>'
    '<div class="dropdown-menu p-2">{days_form}'
    '<button type="submit" name="days" value="1" class="btn btn-sm btn-light text-start">1 day</button>'
    '<button type="submit" name="days" value="7" class="btn btn-sm btn-light text-start">1 week</button>'
    '</form><hr class="my-2">{until_form}'
    '<label class="visually-hidden" for="snooze-until-{pk}">Snooze until</label>'
    '<input type="date" name="until" id="snooze-until-{pk}" class="form-control form-control-sm" required>'
    '<button type="submit" class="btn btn-sm btn-primary">Set</button></form></div></div>'
)


def _when(value: dt.datetime) -> tuple[str, str]:
    """`value|date:"Y-m-d H:i"` and `value|date:"D j M, H:i"` in the current time zone."""
    local = timezone.localtime(value)
    return ymd_hm(local), day_month_hm(local)


def follow_up_row(fu, *, now, people: bool, assignees, csrf_token, row_error: str = "") -> SafeString:
    """One follow-up as the <li> of a follow-up list, with its Complete, Snooze and Reassign forms.
    Every value is escaped where it is written (escape()); the fixed markup is this module's."""
    pk = int(fu.pk)
    status = fu.status
    if status == FollowUpStatus.OPEN:
        full, short = _when(fu.due_at)
        overdue = "fu-overdue" if fu.due_at < now else ""
        meta = f'<span class="{overdue}" title="{full}"><i class="bi bi-clock" aria-hidden="true"></i> {short}</span>'
    elif status == FollowUpStatus.DONE:
        done_at = _when(fu.completed_at)[1] if fu.completed_at else ""
        meta = f'<i class="bi bi-check2-circle" aria-hidden="true"></i> Done {done_at}'
    else:
        meta = escape(fu.get_status_display())
    about = concern(fu)
    if about:
        label = escape(about["label"])
        if about["url"]:
            label = f'<a href="{escape(about["url"])}">{label}</a>'
        meta += f' · <i class="bi bi-{escape(about["icon"])}" aria-hidden="true"></i> {label}'
    if people:
        meta += f' · <i class="bi bi-person" aria-hidden="true"></i> {escape(fu.owner)}'
    if fu.escalated_at and status == FollowUpStatus.OPEN:
        meta += ' · <span class="badge text-bg-warning">Escalated</span>'
    error = f'<div class="text-danger small mt-1" role="alert">{escape(row_error)}</div>' if row_error else ""
    actions = ""
    if status == FollowUpStatus.OPEN:
        csrf = csrf_input(csrf_token)
        complete_url = escape(pk_url("outreach:follow_up_complete", pk))
        snooze_url = escape(pk_url("outreach:follow_up_snooze", pk))
        parts = [
            ROW_FORM.format(url=complete_url, pk=pk, cls="", csrf=csrf),
            '<button type="submit" class="btn btn-sm btn-success"><i class="bi bi-check2" aria-hidden="true"></i>'
            " Complete</button></form>",
            SNOOZE_MENU.format(
                pk=pk,
                days_form=ROW_FORM.format(url=snooze_url, pk=pk, cls=' class="d-flex flex-column gap-1"', csrf=csrf),
                until_form=ROW_FORM.format(url=snooze_url, pk=pk, cls=' class="d-flex gap-1"', csrf=csrf),
            ),
        ]
        if len(assignees) > 1:
            reassign_url = escape(pk_url("outreach:follow_up_reassign", pk))
            parts += [
                ROW_FORM.format(url=reassign_url, pk=pk, cls=' class="d-flex gap-1"', csrf=csrf),
                f'<label class="visually-hidden" for="reassign-{pk}">Reassign to</label>'
                f'<select name="owner" id="reassign-{pk}" class="form-select form-select-sm">',
                assignee_options(assignees, fu.owner_id),
                '</select><button type="submit" class="btn btn-sm btn-outline-primary">Reassign</button></form>',
            ]
        actions = f'<div class="fu-actions">{"".join(parts)}</div>'
    done = " fu-done" if status == FollowUpStatus.DONE else ""
    # Every value above went through escape().
    return mark_safe(
        f'<li class="list-group-item fu-row{done}" id="fu-{pk}" data-follow-up="{pk}"><div class="fu-main">'
        f'<div class="fu-title fw-semibold text-truncate">{escape(fu.title)}</div>'
        f'<div class="small text-body-secondary">{meta}</div>{error}</div>{actions}</li>'
    )


@register.simple_tag(name="follow_up_row", takes_context=True)
def follow_up_row_tag(context, fu) -> SafeString:
    """{% follow_up_row fu %}: the row, with `now`, `people`, `assignees` and `row_error` from the page."""
    return follow_up_row(
        fu,
        now=context["now"],
        people=bool(context.get("people")),
        assignees=context.get("assignees") or (),
        csrf_token=context.get("csrf_token"),
        row_error=context.get("row_error") or "",
    )
