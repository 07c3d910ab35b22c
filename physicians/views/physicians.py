"""The physician list (and its CSV), the profile, the physician form and the consent table."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import medical_affairs_required
from liaison_crm.csv_export import choice_label, csv_response, full_name
from liaison_crm.pagination import paginate

from .. import selectors, services
from ..choices import ConsentChannel, KolTier
from ..forms import ConsentForm, PhysicianForm
from ..models import Institution, Physician
from .common import RecordCreateView, RecordUpdateView


def physician_list(request: HttpRequest) -> HttpResponse:
    qs, filterset, scope, sort = selectors.physicians_for(request.user, request.GET, request)
    # Sorted by a team's last contact (a joined column), the database sorts the ids alone: with
    # every column of the physicians, their institutions and owners it took 130 ms at 50,000.
    page = paginate(qs, request.GET.get("page"), ids_first=sort.lstrip("-") == "last_interaction_at")
    institution = None
    institution_id = filterset.form.cleaned_data.get("institution") if filterset.form.is_valid() else None
    if institution_id:
        institution = Institution.objects.filter(pk=institution_id).first()
    return render(
        request,
        "physicians/physician_list.html",
        {
            "title": "Physicians",
            "page_obj": page,
            "filter": filterset,
            "scope": scope,
            "current_sort": sort,
            "institution": institution,
            "can_edit": request.user.sees_medical_affairs,
        },
    )


def physician_export(request: HttpRequest) -> StreamingHttpResponse:
    qs, _, _, _ = selectors.physicians_for(request.user, request.GET, request)
    header = [
        "NPI", "First name", "Last name", "Credential", "Specialty", "Organisation", "City", "State",
        "KOL tier", "Owning MSL", "Email", "Phone", "Last interaction",
    ]  # fmt: skip
    qs = qs.annotate(
        tier_label=choice_label("kol_tier", KolTier.choices),
        owner_name=full_name("owner__first_name", "owner__last_name"),
    )
    columns = (
        "npi", "first_name", "last_name", "credentials", "specialty", "institution__name", "institution__city",
        "institution__state", "tier_label", "owner_name", "email", "phone", "last_contact_at",
    )  # fmt: skip
    # Tuples straight from the database, labels and names included: a 50,000-row export spent
    # most of its time building objects, then reshaping rows in Python.
    rows = qs.values_list(*columns).iterator(chunk_size=2000)
    return csv_response(f"physicians-{timezone.localdate():%Y-%m-%d}.csv", header, rows)


def _consent_rows(physician: Physician) -> list[tuple]:
    """(channel, label, consent or None) for every channel, from the prefetched consents."""
    consents = {c.channel: c for c in physician.consents.all()}
    return [(value, label, consents.get(value)) for value, label in ConsentChannel.choices]


def _consent_history(consent_rows: list[tuple]) -> list[dict]:
    return selectors.consent_history([consent for _, _, consent in consent_rows if consent is not None])


def physician_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        physician = selectors.physician_for_profile(request.user, pk)
    except Physician.DoesNotExist:
        raise Http404("No such physician.") from None
    user = request.user
    consent_rows = _consent_rows(physician)
    return render(
        request,
        "physicians/physician_detail.html",
        {
            "title": physician.display_name,
            "physician": physician,
            "consent_rows": consent_rows,
            "consent_history": _consent_history(consent_rows),
            "timeline": selectors.timeline(user, physician),
            "next_contact": selectors.next_contact(user, physician),
            "medical": user.sees_medical_affairs,
            "can_log": user.is_msl,
            "consent_form": ConsentForm(),
        },
    )


class PhysicianCreate(RecordCreateView):
    model = Physician
    form_class = PhysicianForm
    title = "New physician"
    list_url_name = "physicians:list"
    detail_url_name = "physicians:detail"
    success_message = "{object} was added."

    def get_initial(self):
        return {"owner": self.request.user if self.request.user.is_msl else None}


class PhysicianEdit(RecordUpdateView):
    model = Physician
    form_class = PhysicianForm
    detail_url_name = "physicians:detail"
    success_message = "{object} was updated."


physician_create = medical_affairs_required(PhysicianCreate.as_view())
physician_edit = medical_affairs_required(PhysicianEdit.as_view())


@medical_affairs_required
@require_POST
def physician_consent(request: HttpRequest, pk: int) -> HttpResponse:
    physician = get_object_or_404(Physician.objects.visible_to(request.user), pk=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        services.set_consent(
            physician=physician,
            channel=form.cleaned_data["channel"],
            status=form.cleaned_data["status"],
            recorded_on=form.cleaned_data["recorded_on"],
        )
        if not request.htmx:
            messages.success(request, "Consent updated.")
            return redirect("physicians:detail", pk=pk)
    elif not request.htmx:
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect("physicians:detail", pk=pk)
    consent_rows = _consent_rows(physician)
    return render(
        request,
        "physicians/_consent_table.html",
        {
            "physician": physician,
            "consent_rows": consent_rows,
            "consent_history": _consent_history(consent_rows),
            "medical": True,
            "consent_form": form if not form.is_valid() else ConsentForm(),
        },
        status=200 if form.is_valid() else 422,
    )
