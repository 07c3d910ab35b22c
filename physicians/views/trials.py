"""Clinical trials and their sites: lists, pages, forms, and a site's status steps."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import medical_affairs_required, trials_required
from liaison_crm.pagination import paginate

from .. import selectors, services
from ..filters import SiteFilter, TrialFilter
from ..forms import SiteForm, SiteStatusForm, TrialForm
from ..models import ClinicalTrial, TrialSite
from .common import RecordCreateView, RecordUpdateView


@trials_required
def trial_list(request: HttpRequest) -> HttpResponse:
    qs = ClinicalTrial.objects.visible_to(request.user).select_related("product")
    filterset = TrialFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("protocol_number", "id"), request.GET.get("page"))
    return render(
        request, "physicians/trial_list.html", {"title": "Clinical trials", "page_obj": page, "filter": filterset}
    )


@trials_required
def trial_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trial = get_object_or_404(ClinicalTrial.objects.visible_to(request.user).select_related("product"), pk=pk)
    sites = list(
        selectors.with_enrolment(TrialSite.objects.visible_to(request.user).filter(trial=trial))
        .select_related("institution", "principal_investigator")
        .order_by("institution__name")
    )
    criteria = list(trial.criteria.order_by("kind", "position"))
    ctx = {
        "title": str(trial),
        "trial": trial,
        "sites": sites,
        "inclusion": [c for c in criteria if c.kind == "inclusion"],
        "exclusion": [c for c in criteria if c.kind == "exclusion"],
        "irb_approvals": list(trial.irb_approvals.select_related("recorded_by")),
    }
    return render(request, "physicians/trial_detail.html", ctx)


class TrialCreate(RecordCreateView):
    model = ClinicalTrial
    form_class = TrialForm
    title = "New clinical trial"
    list_url_name = "physicians:trials"
    detail_url_name = "physicians:trial_detail"


class TrialEdit(RecordUpdateView):
    model = ClinicalTrial
    form_class = TrialForm
    title = "Edit {object.protocol_number}"
    detail_url_name = "physicians:trial_detail"


trial_create = medical_affairs_required(TrialCreate.as_view())
trial_edit = medical_affairs_required(TrialEdit.as_view())


@trials_required
def site_list(request: HttpRequest) -> HttpResponse:
    qs = TrialSite.objects.visible_to(request.user).select_related("trial", "institution", "principal_investigator")
    filterset = SiteFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("trial__protocol_number", "institution__name", "id"), request.GET.get("page"))
    page.object_list = selectors.add_enrolment(list(page.object_list))
    return render(request, "physicians/site_list.html", {"title": "Trial sites", "page_obj": page, "filter": filterset})


SITE_RELATED = ("trial", "trial__product", "institution", "principal_investigator")


def _site_for(request, pk: int) -> TrialSite:
    return get_object_or_404(TrialSite.objects.visible_to(request.user).select_related(*SITE_RELATED), pk=pk)


@trials_required
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site_for(request, pk)
    nxt = services.next_site_status(site.status)
    return render(
        request,
        "physicians/site_detail.html",
        {
            "title": str(site),
            "site": site,
            "next_status": nxt,
            "next_label": dict(services.SiteStatus.choices).get(nxt) if nxt else None,
            "steps": [
                (s, s.label, services.SITE_ORDER.index(s) <= services.SITE_ORDER.index(site.status))
                for s in services.SITE_ORDER
            ],
            "status_form": SiteStatusForm.for_step(nxt) if nxt else None,
            "enrolment": selectors.site_enrolment_by_period(site, timezone.localdate()),
        },
    )


class SiteCreate(RecordCreateView):
    model = TrialSite
    form_class = SiteForm
    title = "New trial site"
    list_url_name = "physicians:sites"
    detail_url_name = "physicians:site_detail"


class SiteEdit(RecordUpdateView):
    model = TrialSite
    form_class = SiteForm
    select_related = SITE_RELATED
    detail_url_name = "physicians:site_detail"


site_create = medical_affairs_required(SiteCreate.as_view())
site_edit = medical_affairs_required(SiteEdit.as_view())


@medical_affairs_required
@require_POST
def site_advance(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site_for(request, pk)
    form = SiteStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the status to move to.")
        return redirect("physicians:site_detail", pk=pk)
    try:
        site = services.advance_site_status(
            site=site, to=form.cleaned_data["to"], by=request.user, activated_on=form.cleaned_data.get("activated_on")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Site is now {site.get_status_display().lower()}.")
    return redirect("physicians:site_detail", pk=pk)
