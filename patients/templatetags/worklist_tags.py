"""The worklist's rows, written in Python.

A nurse's worklist shows 25 cases a page, seven cells each. As template markup the rows were
about 2 ms of the template engine per page (bench/results.md), resolved variable by variable;
written here, as Django's admin writes its changelist rows (admin_list.items_for_result), they
are a fraction of that. tests/patients/test_worklist_rows.py holds the former markup and checks
the rows are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from liaison_crm.ui_tags import pk_urls

register = template.Library()

URGENT = '<span class="badge text-bg-danger">Urgent</span>'
STANDARD = '<span class="badge text-bg-light">Standard</span>'
OVERDUE = ' <span class="badge text-bg-warning" title="Longer in this stage than the target">Overdue</span>'


def worklist_row(case, detail: Callable[[int], str]) -> str:
    """One case (decorated by patients.selectors.decorate) as a worklist <tr>; every value escaped."""
    patient = case.patient
    overdue = bool(case.is_overdue)
    liaison = case.assigned_liaison
    return (
        f'<tr class="{"table-warning" if overdue else ""}">'
        f'<td><a href="{escape(detail(case.pk))}" class="fw-semibold">'
        f"{escape(patient.last_name)}, {escape(patient.first_name)}</a>"
        f'<div class="small text-body-secondary">MRN {escape(patient.mrn)}</div></td>'
        f"<td>{escape(case.program)}</td>"
        f"<td>{URGENT if case.priority == 'urgent' else STANDARD}</td>"
        f"<td>{case.age_in_stage.days} d{OVERDUE if overdue else ''}</td>"
        f'<td class="small">{escape(case.next_step)}</td>'
        f'<td class="small">{escape(liaison) if liaison else "—"}</td>'
        f'<td class="small">{escape(case.referral_source_display)}</td>'
        "</tr>"
    )


@register.simple_tag
def worklist_rows(cases: Iterable) -> SafeString:
    """{% worklist_rows group.cases %}: the <tr>s of one stage group."""
    detail = pk_urls("patients:case_detail")  # reversed once a page, not once a row
    return mark_safe("".join(worklist_row(case, detail) for case in cases))  # every value escaped in worklist_row
