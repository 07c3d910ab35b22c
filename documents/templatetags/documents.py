"""The Documents sections that other apps' pages include with one line: the case page, its print
version, the inquiry page. Each reads its list in one query (documents.selectors)."""

from __future__ import annotations

from django import template

from .. import views

register = template.Library()


@register.simple_tag(takes_context=True)
def case_documents(context, case) -> views.CaseSection:
    return views.case_section(context["request"], case)


@register.simple_tag(takes_context=True)
def inquiry_documents(context, inquiry) -> views.InquirySection:
    return views.inquiry_section(context["request"], inquiry)
