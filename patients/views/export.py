"""The worklist as CSV: the same filters and search, every matching case rather than one page.
Exporting patient rows is a PHI access: one entry lists every case and patient in the file."""

from __future__ import annotations

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import phi_required
from liaison_crm.csv_export import choice_label, csv_response, full_name

from .. import audit, selectors
from ..choices import AccessKind, Priority, Stage
from ..filters import CaseFilter
from ..models import Case

HEADER = [
    "Case", "MRN", "Last name", "First name", "Program", "Stage", "Priority", "Referred", "In stage since",
    "Liaison", "Team", "Referring physician", "Referring institution", "Admitted", "Discharged",
]  # fmt: skip
COLUMNS = (
    "pk", "patient__mrn", "patient__last_name", "patient__first_name", "program", "stage_label", "priority_label",
    "referral_received_at", "stage_changed_at", "liaison_name", "team__name", "physician_name",
    "referral_institution__name", "admitted_at", "discharged_at",
)  # fmt: skip


@phi_required
@require_GET
def worklist_export(request: HttpRequest) -> StreamingHttpResponse:
    user = request.user
    base = Case.objects.visible_to(user)
    case_filter = CaseFilter(request.GET, queryset=base, user=user)
    qs = case_filter.qs if case_filter.is_valid() else base.none()
    qs = qs.annotate(
        stage_rank=selectors.stage_rank(),
        stage_label=choice_label("stage", Stage.choices),
        priority_label=choice_label("priority", Priority.choices),
        liaison_name=full_name("assigned_liaison__first_name", "assigned_liaison__last_name"),
        physician_name=full_name("referral_physician__first_name", "referral_physician__last_name"),
    ).order_by("stage_rank", "-priority", "stage_changed_at", "pk")
    # Read whole before anything is sent, so that the access entry names exactly the cases in
    # the file (an export streamed first and logged after would miss a download cut short).
    rows = list(qs.values_list(*COLUMNS, "patient_id", "team_id"))
    audit.record_access(
        request,
        AccessKind.EXPORT,
        [(row[-2], row[0], row[-1]) for row in rows],
        model=Case,
        label=f"Worklist export: {len(rows)} cases",
    )
    filename = f"cases-{timezone.localdate():%Y-%m-%d}.csv"
    return csv_response(filename, HEADER, (row[:-2] for row in rows))
