"""Rows of the physician, interaction and inquiry lists and of the insight review queue, written
in Python.

`{% load physician_tags %}`, then `{% physician_rows page_obj %}` / `{% interaction_rows page_obj %}`
/ `{% inquiry_rows page_obj %}` inside the table's <tbody>, and `{% insight_review_rows page_obj %}`
for the review queue's cards (`{% insight_review_row insight %}` for one card: the htmx response of
a review action, physicians/_insight_review_row.html).

As `{% for %}` loops in the templates, the 25 rows of a page took about 2.2 ms on /physicians/
and 1.8 ms on /physicians/interactions/ (70-90 µs a row: Variable resolution, `|date`,
`|default`, `|truncatechars`, autoescaping), a quarter to a third of each page's time above its
database floor (bench/, issue #7). As Django's admin does for its changelist rows
(admin_list.items_for_result), the rows are written here: every value escaped by format_html,
the detail URLs reversed once a page (ui_tags.pk_urls), the current time zone read once a page.
They take about 0.7 ms a page, most of it Django's escaping. The markup is the one the loops
wrote; tests/physicians/test_list_rows.py compares the two.

The same held for the inquiry list (2.7 ms for its 25 rows) and the review queue, whose card was an
{% include %} a row (about 160 µs each, 4 ms a page); tests/physicians/test_review_rows.py compares
those with the former loop and card template.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from liaison_crm.dates import iso_datetime, ymd, ymd_hm
from liaison_crm.ui_tags import csrf_input, pk_urls
from physicians.choices import InquiryPriority, InsightStatus
from physicians.models import Insight, Interaction, MedicalInquiry, Physician

register = template.Library()

DASH = "—"  # what `|default:"—"` writes for a blank value
INACTIVE = mark_safe(' <span class="badge text-bg-secondary">inactive</span>')
NEVER = mark_safe('<span class="text-body-secondary">never</span>')
UNSOLICITED = mark_safe(' <span class="badge text-bg-warning">unsolicited</span>')
TOPICS_SHOWN = 80  # characters, as `|truncatechars:80`
QUESTION_SHOWN = 80  # an inquiry's question, as `|truncatechars:80`
INSIGHT_TEXT_SHOWN = 400  # an insight's text on the review card, as `|truncatechars:400`
OVERDUE_ROW = mark_safe(' class="row-overdue"')
OVERDUE = mark_safe(' <span class="badge badge-overdue">overdue</span>')
URGENT = mark_safe('<span class="badge text-bg-danger">Urgent</span>')
STANDARD = mark_safe("Standard")
# The review card's buttons by status; a status without buttons (closed) has no review form.
REVIEW_BUTTONS = {
    InsightStatus.NEW: mark_safe(
        '<button class="btn btn-sm btn-outline-primary" name="to" value="under_review">Start review</button>'
    ),
    InsightStatus.UNDER_REVIEW: mark_safe(
        '<button class="btn btn-sm btn-primary" name="to" value="actioned">Actioned</button> '
        '<button class="btn btn-sm btn-outline-secondary" name="to" value="closed"'
        ' data-confirm="Close this insight without action?">Close</button>'
    ),
    InsightStatus.ACTIONED: mark_safe(
        '<button class="btn btn-sm btn-outline-secondary" name="to" value="closed">Close</button>'
    ),
}


def _name_link(url: str, physician: Physician) -> SafeString:
    """`<a href="…">Last, First</a>`, as both lists link a physician."""
    return format_html('<a href="{}">{}, {}</a>', url, physician.last_name, physician.first_name)


def _physician_row(p: Physician, detail: Callable[[int], str], tz: dt.tzinfo) -> SafeString:
    name = _name_link(detail(p.pk), p)
    if p.credentials:
        name += format_html(' <span class="small text-body-secondary">{}</span>', p.credentials)
    if not p.is_active:
        name += INACTIVE
    institution = p.institution
    where = (
        format_html('{}<span class="d-block small text-body-secondary">{}</span>', institution.name, institution.city)
        if institution
        else DASH
    )
    if p.last_interaction_at:
        local = timezone.localtime(p.last_interaction_at, tz)
        last = format_html('<time datetime="{}">{}</time>', iso_datetime(local), ymd(local))
    else:
        last = NEVER
    owner = p.owner.get_full_name() if p.owner else ""
    return format_html(
        "<tr{}><td>{}</td>"
        '<td class="font-monospace small">{}</td>'
        "<td>{}</td>"
        "<td>{}</td>"
        '<td><span class="badge tier-badge tier-{}">{}</span></td>'
        "<td>{}</td>"
        "<td>{}</td></tr>",
        "" if p.is_active else mark_safe(' class="text-body-secondary"'),
        name,
        p.npi or DASH,
        p.specialty or DASH,
        where,
        p.kol_tier,
        p.get_kol_tier_display(),
        owner or DASH,
        last,
    )


@register.simple_tag
def physician_rows(physicians: Iterable[Physician]) -> SafeString:
    """The <tr> of each physician of /physicians/ (select_related institution and owner)."""
    detail = pk_urls("physicians:detail")
    tz = timezone.get_current_timezone()
    return mark_safe("".join(_physician_row(p, detail, tz) for p in physicians))


def _interaction_row(
    i: Interaction, detail: Callable[[int], str], physician_detail: Callable[[int], str], tz: dt.tzinfo
) -> SafeString:
    return format_html(
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}{}</td><td>{}</td><td class="small">{}</td></tr>',
        detail(i.pk),
        ymd_hm(timezone.localtime(i.occurred_at, tz)),
        _name_link(physician_detail(i.physician_id), i.physician),
        i.get_channel_display(),
        UNSOLICITED if i.unsolicited_request else "",
        i.msl.get_full_name(),
        Truncator(i.topics).chars(TOPICS_SHOWN),
    )


def _rows_linking_physicians(items: Iterable, row: Callable[..., SafeString], detail_name: str) -> SafeString:
    """The rows of a list whose rows link to their own page and to their physician's: both URLs
    reversed, and the time zone read, once a page."""
    detail = pk_urls(detail_name)
    physician_detail = pk_urls("physicians:detail")
    tz = timezone.get_current_timezone()
    return mark_safe("".join(row(item, detail, physician_detail, tz) for item in items))  # rows: format_html


@register.simple_tag
def interaction_rows(interactions: Iterable[Interaction]) -> SafeString:
    """The <tr> of each interaction of /physicians/interactions/ (select_related physician, msl)."""
    return _rows_linking_physicians(interactions, _interaction_row, "physicians:interaction_detail")


def _inquiry_row(
    q: MedicalInquiry, detail: Callable[[int], str], physician_detail: Callable[[int], str], tz: dt.tzinfo
) -> SafeString:
    overdue = q.is_overdue
    product = q.product.name if q.product else ""
    return format_html(
        "<tr{}>"
        '<td><a href="{}">{}</a></td>'
        "<td>{}</td>"
        '<td class="small">{}</td>'
        "<td>{}</td>"
        "<td>{}</td>"
        "<td>{}{}</td>"
        '<td><span class="badge status-{}">{}</span></td>'
        "<td>{}</td></tr>",
        OVERDUE_ROW if overdue else "",
        detail(q.pk),
        ymd(timezone.localtime(q.received_at, tz)),
        _name_link(physician_detail(q.physician_id), q.physician),
        Truncator(q.question).chars(QUESTION_SHOWN),
        product or DASH,
        URGENT if q.priority == InquiryPriority.URGENT else STANDARD,
        ymd(timezone.localtime(q.due_at, tz)),
        OVERDUE if overdue else "",
        q.status,
        q.get_status_display(),
        q.owner.get_full_name() if q.owner else "",
    )


@register.simple_tag
def inquiry_rows(inquiries: Iterable[MedicalInquiry]) -> SafeString:
    """The <tr> of each inquiry of /physicians/inquiries/ (select_related physician, product, owner)."""
    return _rows_linking_physicians(inquiries, _inquiry_row, "physicians:inquiry_detail")


class _ReviewCard:
    """What every card of a page shares: the URLs (reversed once), the time zone, the page's error
    and its csrf input, written the first time a card has a form (as {% csrf_token %}, which reads
    the lazy token, and so asks for the cookie, only when it is rendered)."""

    def __init__(self, context: template.Context):
        self.detail = pk_urls("physicians:insight_detail")
        self.transition = pk_urls("physicians:insight_transition")
        self.tz = timezone.get_current_timezone()
        self.error = context.get("error")
        token = context.get("csrf_token")
        self.csrf = functools.cache(lambda: mark_safe(csrf_input(token)))

    def __call__(self, insight: Insight) -> SafeString:
        pk = int(insight.pk)
        title = format_html(
            '<a class="fw-semibold" href="{}">{}{}</a>',
            self.detail(pk),
            insight.get_theme_display(),
            format_html(" · {}", insight.product.name) if insight.product else "",
        )
        note = (
            format_html('<p class="small mb-2"><strong>Review note:</strong> {}</p>', insight.review_note)
            if insight.review_note
            else ""
        )
        error = (
            format_html('<div class="alert alert-danger py-1 small" role="alert">{}</div>', self.error)
            if self.error
            else ""
        )
        buttons = REVIEW_BUTTONS.get(insight.status)
        form = ""
        if buttons is not None:
            url = self.transition(pk)
            form = format_html(
                '<form method="post" action="{}" hx-post="{}" hx-target="#insight-{}" hx-swap="outerHTML"'
                ' class="row g-2 align-items-end">{}'
                '<div class="col-md-8"><label class="form-label small" for="note-{}">Review note</label> '
                '<textarea id="note-{}" name="note" rows="1" class="form-control form-control-sm"></textarea></div>'
                '<div class="col-md-4 d-flex flex-wrap gap-1">{}</div></form>',
                url,
                url,
                pk,
                self.csrf(),
                pk,
                pk,
                buttons,
            )
        return format_html(
            '<div class="card mb-2" id="insight-{}"><div class="card-body">'
            '<div class="d-flex flex-wrap justify-content-between gap-2"><div>{} '
            '<span class="badge status-{}">{}</span>'
            '<div class="small text-body-secondary">{} · {} · {}</div></div></div>'
            '<p class="mb-2 mt-1">{}</p>{}{}{}</div></div>',
            pk,
            title,
            insight.status,
            insight.get_status_display(),
            insight.physician.display_name,
            insight.captured_by.get_full_name(),
            ymd(timezone.localtime(insight.captured_at, self.tz)),
            Truncator(insight.text).chars(INSIGHT_TEXT_SHOWN),
            note,
            error,
            form,
        )


@register.simple_tag(takes_context=True)
def insight_review_rows(context: template.Context, insights: Iterable[Insight]) -> SafeString:
    """The card of each insight of the review queue (select_related physician, product, captured_by),
    with the review form of its status; `error` and `csrf_token` from the page."""
    card = _ReviewCard(context)
    return mark_safe("".join(card(insight) for insight in insights))


@register.simple_tag(takes_context=True)
def insight_review_row(context: template.Context, insight: Insight) -> SafeString:
    """One review card: the htmx response of a review action (`error` and `csrf_token` from it)."""
    return _ReviewCard(context)(insight)
