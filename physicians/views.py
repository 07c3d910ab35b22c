"""Pages of the medical-affairs side. Thin: scope with `visible_to`, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.forms import Form
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import manager_required, medical_affairs_required, require
from liaison_crm.csv_export import choice_label, csv_response, full_name, yes_no
from liaison_crm.pagination import paginate

from . import selectors, services
from .choices import Channel, ConsentChannel, InquiryStatus, InsightStatus, KolTier
from .filters import (
    InquiryFilter,
    InsightFilter,
    InstitutionFilter,
    InteractionFilter,
    ProductFilter,
    SiteFilter,
    TrainingFilter,
    TrialFilter,
)
from .forms import (
    AttendeeFormSet,
    ConsentForm,
    FollowUpForm,
    ImportUploadForm,
    InlineInsightFormSet,
    InquiryAnswerForm,
    InquiryForm,
    InsightForm,
    InsightReviewForm,
    InstitutionForm,
    InteractionForm,
    PhysicianForm,
    ProductForm,
    SiteForm,
    SiteStatusForm,
    TrainingForm,
    TrialForm,
)
from .importer import ImportFileError, processed_rows
from .models import (
    ClinicalTrial,
    Insight,
    Institution,
    Interaction,
    MedicalInquiry,
    Physician,
    PhysicianImport,
    Product,
    TrainingSession,
    TrialSite,
)

msl_required = require(lambda u: u.is_msl, "Only Medical Science Liaisons record visits, insights and inquiries.")


def _apply_errors(form: Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: field errors where the field exists."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _form_page(request, template: str, context: dict, *, invalid: bool = False) -> HttpResponse:
    return render(request, template, context, status=422 if invalid else 200)


# --- Physicians -------------------------------------------------------------------------------


def physician_list(request: HttpRequest) -> HttpResponse:
    qs, filterset, scope, sort = selectors.physicians_for(request.user, request.GET, request)
    page = paginate(qs, request.GET.get("page"))
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
        "institution__state", "tier_label", "owner_name", "email", "phone", "last_interaction_at",
    )  # fmt: skip
    # Tuples straight from the database, labels and names included: a 50,000-row export spent
    # most of its time building objects, then reshaping rows in Python.
    rows = qs.values_list(*columns).iterator(chunk_size=2000)
    return csv_response(f"physicians-{timezone.localdate():%Y-%m-%d}.csv", header, rows)


@medical_affairs_required
def interaction_export(request: HttpRequest) -> StreamingHttpResponse:
    """The interaction list as filtered, streamed: call reports for medical affairs leadership."""
    qs = Interaction.objects.visible_to(request.user)
    filterset = InteractionFilter(request.GET, queryset=qs, request=request)
    header = ["Date and time", "Physician", "NPI", "MSL", "Team", "Channel", "Duration (min)", "Topics",
              "Unsolicited request", "Off-label discussed", "Summary"]  # fmt: skip
    ordered = filterset.qs.order_by("-occurred_at", "-id").annotate(
        physician_name=full_name("physician__first_name", "physician__last_name"),
        msl_name=full_name("msl__first_name", "msl__last_name"),
        channel_label=choice_label("channel", Channel.choices),
        unsolicited=yes_no("unsolicited_request"),
        off_label=yes_no("off_label_discussed"),
    )
    columns = (
        "occurred_at", "physician_name", "physician__npi", "msl_name", "team__name", "channel_label",
        "duration_minutes", "topics", "unsolicited", "off_label", "summary",
    )  # fmt: skip
    rows = ordered.values_list(*columns).iterator(chunk_size=2000)
    return csv_response(f"interactions-{timezone.localdate():%Y-%m-%d}.csv", header, rows)


def physician_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        physician = selectors.physician_for_profile(request.user, pk)
    except Physician.DoesNotExist:
        from django.http import Http404

        raise Http404("No such physician.") from None
    user = request.user
    consents = {c.channel: c for c in physician.consents.all()}
    consent_rows = [(value, label, consents.get(value)) for value, label in ConsentChannel.choices]
    return render(
        request,
        "physicians/physician_detail.html",
        {
            "title": physician.display_name,
            "physician": physician,
            "consent_rows": consent_rows,
            "timeline": selectors.timeline(user, physician),
            "next_contact": selectors.next_contact(user, physician),
            "medical": user.sees_medical_affairs,
            "can_log": user.is_msl,
            "consent_form": ConsentForm(),
        },
    )


@medical_affairs_required
def physician_create(request: HttpRequest) -> HttpResponse:
    form = PhysicianForm(request.POST or None, initial={"owner": request.user if request.user.is_msl else None})
    if request.method == "POST" and form.is_valid():
        physician = form.save()
        messages.success(request, f"{physician} was added.")
        return redirect("physicians:detail", pk=physician.pk)
    return _form_page(
        request,
        "physicians/form.html",
        {"title": "New physician", "form": form, "cancel_url": reverse("physicians:list")},
        invalid=request.method == "POST",
    )


@medical_affairs_required
def physician_edit(request: HttpRequest, pk: int) -> HttpResponse:
    physician = get_object_or_404(Physician.objects.visible_to(request.user), pk=pk)
    form = PhysicianForm(request.POST or None, instance=physician)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{physician} was updated.")
        return redirect("physicians:detail", pk=physician.pk)
    return _form_page(
        request,
        "physicians/form.html",
        {"title": f"Edit {physician}", "form": form, "cancel_url": reverse("physicians:detail", args=[pk])},
        invalid=request.method == "POST",
    )


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
    consents = {c.channel: c for c in physician.consents.all()}
    return render(
        request,
        "physicians/_consent_table.html",
        {
            "physician": physician,
            "consent_rows": [(v, label, consents.get(v)) for v, label in ConsentChannel.choices],
            "medical": True,
            "consent_form": form if not form.is_valid() else ConsentForm(),
        },
        status=200 if form.is_valid() else 422,
    )


# --- Interactions -----------------------------------------------------------------------------


@medical_affairs_required
def interaction_list(request: HttpRequest) -> HttpResponse:
    qs = Interaction.objects.visible_to(request.user).select_related("physician", "msl", "team")
    filterset = InteractionFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("-occurred_at", "-id"), request.GET.get("page"))
    return render(
        request, "physicians/interaction_list.html", {"title": "Interactions", "page_obj": page, "filter": filterset}
    )


@msl_required
def interaction_log(request: HttpRequest, pk: int) -> HttpResponse:
    physician = get_object_or_404(Physician.objects.visible_to(request.user).select_related("institution"), pk=pk)
    form = InteractionForm(request.POST or None, physician=physician)
    insights = InlineInsightFormSet(request.POST or None, prefix="insights")
    if request.method == "POST" and form.is_valid() and insights.is_valid():
        data = form.cleaned_data
        try:
            interaction = services.log_interaction(
                physician=physician,
                msl=request.user,
                occurred_at=data["occurred_at"],
                channel=data["channel"],
                duration_minutes=data["duration_minutes"],
                products=data["products"],
                topics=data["topics"],
                summary=data["summary"],
                unsolicited_request=data["unsolicited_request"],
                off_label_discussed=data["off_label_discussed"],
                trial_site=data["trial_site"],
                insights=[f.cleaned_data for f in insights.forms if f.has_changed() and f.cleaned_data],
                follow_up_days=data.get("follow_up_days"),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            n = interaction.insights.count()
            messages.success(
                request, f"Interaction logged{f' with {n} insight' + ('s' if n != 1 else '') if n else ''}."
            )
            return redirect("physicians:detail", pk=physician.pk)
    return _form_page(
        request,
        "physicians/interaction_form.html",
        {"title": f"Log an interaction with {physician}", "physician": physician, "form": form, "insights": insights},
        invalid=request.method == "POST",
    )


def _interaction_for(request, pk: int) -> Interaction:
    return get_object_or_404(
        Interaction.objects.visible_to(request.user).select_related(
            "physician", "physician__institution", "msl", "team", "trial_site__trial", "trial_site__institution"
        ),
        pk=pk,
    )


@medical_affairs_required
def interaction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = _interaction_for(request, pk)
    return render(
        request,
        "physicians/interaction_detail.html",
        {
            "title": str(interaction),
            "interaction": interaction,
            "products": list(interaction.products.all()),
            "insights": list(interaction.insights.select_related("product")),
            "can_edit": interaction.msl_id == request.user.pk,
        },
    )


@medical_affairs_required
def interaction_edit(request: HttpRequest, pk: int) -> HttpResponse:
    interaction = _interaction_for(request, pk)
    if interaction.msl_id != request.user.pk:
        raise PermissionDenied("Only the MSL who logged this interaction may edit it.")
    form = InteractionForm(
        request.POST or None, instance=interaction, physician=interaction.physician, with_follow_up=False
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        products = data.pop("products")
        try:
            services.update_interaction(interaction=interaction, by=request.user, products=products, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Interaction updated.")
            return redirect("physicians:interaction_detail", pk=pk)
    return _form_page(
        request,
        "physicians/form.html",
        {"title": "Edit interaction", "form": form, "cancel_url": reverse("physicians:interaction_detail", args=[pk])},
        invalid=request.method == "POST",
    )


# --- Insights ---------------------------------------------------------------------------------


@medical_affairs_required
def insight_list(request: HttpRequest) -> HttpResponse:
    qs = Insight.objects.visible_to(request.user).select_related("physician", "product", "captured_by")
    filterset = InsightFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("-captured_at", "-id"), request.GET.get("page"))
    return render(request, "physicians/insight_list.html", {"title": "Insights", "page_obj": page, "filter": filterset})


@manager_required
def insight_review_queue(request: HttpRequest) -> HttpResponse:
    """Managers: insights waiting for review (new, then under review), oldest first."""
    qs = (
        Insight.objects.visible_to(request.user)
        .filter(status__in=[InsightStatus.NEW, InsightStatus.UNDER_REVIEW])
        .select_related("physician", "product", "captured_by")
    )
    filterset = InsightFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("captured_at", "id"), request.GET.get("page"))
    return render(
        request,
        "physicians/insight_review.html",
        {"title": "Insight review queue", "page_obj": page, "filter": filterset, "review_form": InsightReviewForm()},
    )


@msl_required
def insight_capture(request: HttpRequest, pk: int) -> HttpResponse:
    physician = get_object_or_404(Physician.objects.visible_to(request.user), pk=pk)
    form = InsightForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.capture_insight(physician=physician, captured_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Insight captured.")
            return redirect("physicians:detail", pk=pk)
    return _form_page(
        request,
        "physicians/form.html",
        {
            "title": f"Capture an insight from {physician}",
            "form": form,
            "cancel_url": reverse("physicians:detail", args=[pk]),
        },
        invalid=request.method == "POST",
    )


def _insight_for(request, pk: int) -> Insight:
    return get_object_or_404(
        Insight.objects.visible_to(request.user).select_related(
            "physician", "product", "captured_by", "reviewer", "interaction__physician", "team"
        ),
        pk=pk,
    )


@medical_affairs_required
def insight_detail(request: HttpRequest, pk: int) -> HttpResponse:
    insight = _insight_for(request, pk)
    transitions = (
        services.INSIGHT_TRANSITIONS.get(insight.status, ()) if services.can_review(request.user, insight) else ()
    )
    return render(
        request,
        "physicians/insight_detail.html",
        {
            "title": str(insight),
            "insight": insight,
            "transitions": [(t, InsightStatus(t).label) for t in transitions],
            "review_form": InsightReviewForm(),
            "can_edit": insight.captured_by_id == request.user.pk and insight.status == InsightStatus.NEW,
        },
    )


@medical_affairs_required
def insight_edit(request: HttpRequest, pk: int) -> HttpResponse:
    insight = _insight_for(request, pk)
    if insight.captured_by_id != request.user.pk:
        raise PermissionDenied("Only the MSL who captured this insight may edit it.")
    form = InsightForm(request.POST or None, instance=insight)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_insight(insight=insight, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Insight updated.")
            return redirect("physicians:insight_detail", pk=pk)
    return _form_page(
        request,
        "physicians/form.html",
        {"title": "Edit insight", "form": form, "cancel_url": reverse("physicians:insight_detail", args=[pk])},
        invalid=request.method == "POST",
    )


@manager_required
@require_POST
def insight_transition(request: HttpRequest, pk: int) -> HttpResponse:
    insight = _insight_for(request, pk)
    form = InsightReviewForm(request.POST)
    form.is_valid()
    error = None
    try:
        insight = services.transition_insight(
            insight=insight,
            to=request.POST.get("to", ""),
            reviewer=request.user,
            note=form.cleaned_data.get("note", ""),
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        return render(
            request,
            "physicians/_insight_review_row.html",
            {"insight": insight, "error": error, "review_form": InsightReviewForm()},
            status=422 if error else 200,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Insight moved to {insight.get_status_display().lower()}.")
    return redirect("physicians:insight_detail", pk=pk)


# --- Inquiries --------------------------------------------------------------------------------


@medical_affairs_required
def inquiry_list(request: HttpRequest) -> HttpResponse:
    qs = MedicalInquiry.objects.visible_to(request.user).select_related("physician", "product", "owner")
    filterset = InquiryFilter(request.GET, queryset=qs, request=request)
    # Open first (soonest due first), then the rest newest first.
    ordered = filterset.qs.annotate(
        open_first=Case(When(status=InquiryStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("open_first", "due_at", "-received_at", "id")
    page = paginate(ordered, request.GET.get("page"))
    return render(
        request,
        "physicians/inquiry_list.html",
        {"title": "Medical inquiries", "page_obj": page, "filter": filterset, "now": timezone.now()},
    )


@msl_required
def inquiry_create(request: HttpRequest, pk: int) -> HttpResponse:
    physician = get_object_or_404(Physician.objects.visible_to(request.user), pk=pk)
    form = InquiryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            inquiry = services.record_inquiry(physician=physician, owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Inquiry recorded, due {timezone.localtime(inquiry.due_at):%Y-%m-%d}.")
            return redirect("physicians:inquiry_detail", pk=inquiry.pk)
    return _form_page(
        request,
        "physicians/form.html",
        {
            "title": f"Record an inquiry from {physician}",
            "form": form,
            "cancel_url": reverse("physicians:detail", args=[pk]),
        },
        invalid=request.method == "POST",
    )


def _inquiry_for(request, pk: int) -> MedicalInquiry:
    return get_object_or_404(
        MedicalInquiry.objects.visible_to(request.user).select_related("physician", "product", "owner", "team"),
        pk=pk,
    )


def _inquiry_page(request, inquiry, *, answer_form=None, follow_up_form=None, status=200) -> HttpResponse:
    from outreach.models import FollowUp

    follow_ups = list(FollowUp.objects.visible_to(request.user).filter(inquiry=inquiry).select_related("owner"))
    return render(
        request,
        "physicians/inquiry_detail.html",
        {
            "title": str(inquiry),
            "inquiry": inquiry,
            "answer_form": answer_form or InquiryAnswerForm(),
            "follow_up_form": follow_up_form or FollowUpForm(),
            "follow_ups": follow_ups,
            "can_act": request.user.is_msl or request.user.is_manager or request.user.is_admin_role,
        },
        status=status,
    )


@medical_affairs_required
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _inquiry_page(request, _inquiry_for(request, pk))


@medical_affairs_required
def inquiry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry_for(request, pk)
    form = InquiryForm(request.POST or None, instance=inquiry)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_inquiry(inquiry=inquiry, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Inquiry updated.")
            return redirect("physicians:inquiry_detail", pk=pk)
    return _form_page(
        request,
        "physicians/form.html",
        {"title": "Edit inquiry", "form": form, "cancel_url": reverse("physicians:inquiry_detail", args=[pk])},
        invalid=request.method == "POST",
    )


@medical_affairs_required
@require_POST
def inquiry_answer(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry_for(request, pk)
    form = InquiryAnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer_inquiry(inquiry=inquiry, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Answer recorded.")
            return redirect("physicians:inquiry_detail", pk=pk)
    return _inquiry_page(request, inquiry, answer_form=form, status=422)


@medical_affairs_required
@require_POST
def inquiry_close(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry_for(request, pk)
    try:
        services.close_inquiry(inquiry=inquiry, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Inquiry closed.")
    return redirect("physicians:inquiry_detail", pk=pk)


@medical_affairs_required
@require_POST
def inquiry_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry_for(request, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.inquiry_follow_up(
                inquiry=inquiry, owner=request.user, days=form.cleaned_data["days"], title=form.cleaned_data["title"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Follow-up added.")
            return redirect("physicians:inquiry_detail", pk=pk)
    return _inquiry_page(request, inquiry, follow_up_form=form, status=422)


# --- Trainings --------------------------------------------------------------------------------


@medical_affairs_required
def training_list(request: HttpRequest) -> HttpResponse:
    qs = TrainingSession.objects.visible_to(request.user).select_related("trainer", "team")
    filterset = TrainingFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("-held_on", "-id"), request.GET.get("page"))
    return render(
        request,
        "physicians/training_list.html",
        {"title": "Sales-team trainings", "page_obj": page, "filter": filterset},
    )


def _training_form_page(request, session: TrainingSession | None) -> HttpResponse:
    if session is None and not request.user.is_msl:
        raise PermissionDenied("Only an MSL (the trainer) records a training session.")
    form = TrainingForm(request.POST or None, instance=session)
    attendees = AttendeeFormSet(request.POST or None, instance=session or TrainingSession(), prefix="attendees")
    if request.method == "POST" and form.is_valid() and attendees.is_valid():
        with transaction.atomic():
            obj = form.save(commit=False)
            if session is None:
                obj.trainer = request.user
                obj.team_id = request.user.team_id
            obj.save()
            form.save_m2m()
            attendees.instance = obj
            attendees.save()
        messages.success(request, "Training session saved.")
        return redirect("physicians:training_detail", pk=obj.pk)
    return _form_page(
        request,
        "physicians/training_form.html",
        {
            "title": "Edit training session" if session else "New training session",
            "form": form,
            "attendees": attendees,
            "cancel_url": reverse("physicians:training_detail", args=[session.pk])
            if session
            else reverse("physicians:trainings"),
        },
        invalid=request.method == "POST",
    )


@medical_affairs_required
def training_create(request: HttpRequest) -> HttpResponse:
    return _training_form_page(request, None)


def _training_for(request, pk: int) -> TrainingSession:
    return get_object_or_404(TrainingSession.objects.visible_to(request.user).select_related("trainer", "team"), pk=pk)


@medical_affairs_required
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = _training_for(request, pk)
    attendees = list(session.attendees.all())
    scored = [a for a in attendees if a.score_before is not None and a.score_after is not None]
    gain = round(sum(a.score_after - a.score_before for a in scored) / len(scored), 1) if scored else None
    return render(
        request,
        "physicians/training_detail.html",
        {
            "title": str(session),
            "session": session,
            "products": list(session.products.all()),
            "attendees": attendees,
            "attended": sum(1 for a in attendees if a.attended),
            "gain": gain,
            "can_edit": session.trainer_id == request.user.pk or request.user.is_manager or request.user.is_admin_role,
        },
    )


@medical_affairs_required
def training_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _training_for(request, pk)
    if not (session.trainer_id == request.user.pk or request.user.is_manager or request.user.is_admin_role):
        raise PermissionDenied("Only the trainer or a manager may edit this session.")
    return _training_form_page(request, session)


# --- Trials and sites -------------------------------------------------------------------------


@medical_affairs_required
def trial_list(request: HttpRequest) -> HttpResponse:
    qs = ClinicalTrial.objects.visible_to(request.user).select_related("product")
    filterset = TrialFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("protocol_number", "id"), request.GET.get("page"))
    return render(
        request, "physicians/trial_list.html", {"title": "Clinical trials", "page_obj": page, "filter": filterset}
    )


@medical_affairs_required
def trial_detail(request: HttpRequest, pk: int) -> HttpResponse:
    trial = get_object_or_404(ClinicalTrial.objects.visible_to(request.user).select_related("product"), pk=pk)
    sites = list(
        TrialSite.objects.visible_to(request.user)
        .filter(trial=trial)
        .select_related("institution", "principal_investigator")
        .order_by("institution__name")
    )
    return render(request, "physicians/trial_detail.html", {"title": str(trial), "trial": trial, "sites": sites})


def _simple_form(request, form_class, *, instance=None, title: str, cancel_url: str, success) -> HttpResponse:
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        obj = form.save()
        messages.success(request, f"{obj} saved.")
        return redirect(success(obj))
    return _form_page(
        request,
        "physicians/form.html",
        {"title": title, "form": form, "cancel_url": cancel_url},
        invalid=request.method == "POST",
    )


@medical_affairs_required
def trial_create(request: HttpRequest) -> HttpResponse:
    return _simple_form(
        request,
        TrialForm,
        title="New clinical trial",
        cancel_url=reverse("physicians:trials"),
        success=lambda o: reverse("physicians:trial_detail", args=[o.pk]),
    )


@medical_affairs_required
def trial_edit(request: HttpRequest, pk: int) -> HttpResponse:
    trial = get_object_or_404(ClinicalTrial.objects.visible_to(request.user), pk=pk)
    return _simple_form(
        request,
        TrialForm,
        instance=trial,
        title=f"Edit {trial.protocol_number}",
        cancel_url=reverse("physicians:trial_detail", args=[pk]),
        success=lambda o: reverse("physicians:trial_detail", args=[o.pk]),
    )


@medical_affairs_required
def site_list(request: HttpRequest) -> HttpResponse:
    qs = TrialSite.objects.visible_to(request.user).select_related("trial", "institution", "principal_investigator")
    filterset = SiteFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("trial__protocol_number", "institution__name", "id"), request.GET.get("page"))
    return render(request, "physicians/site_list.html", {"title": "Trial sites", "page_obj": page, "filter": filterset})


def _site_for(request, pk: int) -> TrialSite:
    return get_object_or_404(
        TrialSite.objects.visible_to(request.user).select_related(
            "trial", "trial__product", "institution", "principal_investigator"
        ),
        pk=pk,
    )


@medical_affairs_required
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
            "status_form": SiteStatusForm(initial={"to": nxt}),
        },
    )


@medical_affairs_required
def site_create(request: HttpRequest) -> HttpResponse:
    return _simple_form(
        request,
        SiteForm,
        title="New trial site",
        cancel_url=reverse("physicians:sites"),
        success=lambda o: reverse("physicians:site_detail", args=[o.pk]),
    )


@medical_affairs_required
def site_edit(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site_for(request, pk)
    return _simple_form(
        request,
        SiteForm,
        instance=site,
        title=f"Edit {site}",
        cancel_url=reverse("physicians:site_detail", args=[pk]),
        success=lambda o: reverse("physicians:site_detail", args=[o.pk]),
    )


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


# --- Institutions and products ----------------------------------------------------------------


def institution_list(request: HttpRequest) -> HttpResponse:
    qs = Institution.objects.visible_to(request.user)
    filterset = InstitutionFilter(request.GET, queryset=qs, request=request)
    qs, sort = selectors.apply_sort(filterset.qs, request.GET.get("sort"), ("name", "city", "state"), "name")
    page = paginate(qs, request.GET.get("page"))
    return render(
        request,
        "physicians/institution_list.html",
        {
            "title": "Institutions",
            "page_obj": page,
            "filter": filterset,
            "current_sort": sort,
            "can_edit": request.user.sees_medical_affairs,
        },
    )


def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    institution = get_object_or_404(Institution.objects.visible_to(request.user), pk=pk)
    limit = 50
    physicians = list(
        Physician.objects.visible_to(request.user)
        .filter(institution=institution)
        .select_related("owner")
        .order_by("last_name", "first_name", "id")[: limit + 1]
    )
    sites = (
        list(
            TrialSite.objects.visible_to(request.user)
            .filter(institution=institution)
            .select_related("trial", "principal_investigator")
        )
        if request.user.sees_medical_affairs
        else []
    )
    return render(
        request,
        "physicians/institution_detail.html",
        {
            "title": str(institution),
            "institution": institution,
            "physicians": physicians[:limit],
            "more_physicians": len(physicians) > limit,
            "sites": sites,
            "can_edit": request.user.sees_medical_affairs,
        },
    )


@medical_affairs_required
def institution_create(request: HttpRequest) -> HttpResponse:
    return _simple_form(
        request,
        InstitutionForm,
        title="New institution",
        cancel_url=reverse("physicians:institutions"),
        success=lambda o: reverse("physicians:institution_detail", args=[o.pk]),
    )


@medical_affairs_required
def institution_edit(request: HttpRequest, pk: int) -> HttpResponse:
    institution = get_object_or_404(Institution.objects.visible_to(request.user), pk=pk)
    return _simple_form(
        request,
        InstitutionForm,
        instance=institution,
        title=f"Edit {institution}",
        cancel_url=reverse("physicians:institution_detail", args=[pk]),
        success=lambda o: reverse("physicians:institution_detail", args=[o.pk]),
    )


@medical_affairs_required
def product_list(request: HttpRequest) -> HttpResponse:
    qs = Product.objects.visible_to(request.user).select_related("therapeutic_area")
    filterset = ProductFilter(request.GET, queryset=qs, request=request)
    page = paginate(filterset.qs.order_by("name", "id"), request.GET.get("page"))
    return render(request, "physicians/product_list.html", {"title": "Products", "page_obj": page, "filter": filterset})


@medical_affairs_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.visible_to(request.user).select_related("therapeutic_area"), pk=pk)
    trials = list(ClinicalTrial.objects.visible_to(request.user).filter(product=product))
    return render(
        request, "physicians/product_detail.html", {"title": str(product), "product": product, "trials": trials}
    )


@medical_affairs_required
def product_create(request: HttpRequest) -> HttpResponse:
    return _simple_form(
        request,
        ProductForm,
        title="New product",
        cancel_url=reverse("physicians:products"),
        success=lambda o: reverse("physicians:product_detail", args=[o.pk]),
    )


@medical_affairs_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.visible_to(request.user), pk=pk)
    return _simple_form(
        request,
        ProductForm,
        instance=product,
        title=f"Edit {product}",
        cancel_url=reverse("physicians:product_detail", args=[pk]),
        success=lambda o: reverse("physicians:product_detail", args=[o.pk]),
    )


# --- Import -----------------------------------------------------------------------------------


@medical_affairs_required
def import_upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.start_import(user=request.user, filename=upload.name, raw=upload.read())
        except (ImportFileError, ValidationError) as exc:
            form.add_error("file", str(exc) if isinstance(exc, ImportFileError) else exc.messages)
        else:
            return redirect("physicians:import_detail", pk=job.pk)
    recent = list(PhysicianImport.objects.visible_to(request.user).defer("content", "errors")[:5])
    return _form_page(
        request,
        "physicians/import_upload.html",
        {"title": "Import physicians", "form": form, "recent": recent},
        invalid=request.method == "POST",
    )


def _import_for(request, pk: int) -> PhysicianImport:
    job = get_object_or_404(PhysicianImport.objects.visible_to(request.user).defer("content"), pk=pk)
    job.live_processed = processed_rows(job)
    return job


@medical_affairs_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_for(request, pk)
    return render(request, "physicians/import_detail.html", {"title": "Import physicians", "job": job})


@medical_affairs_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled by htmx while a worker validates or imports; swaps in the report when done."""
    job = _import_for(request, pk)
    return render(request, "physicians/_import_status.html", {"job": job})


@medical_affairs_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_for(request, pk)
    try:
        job = services.confirm_import(job=job, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if job.status == "done":
            messages.success(
                request,
                f"Imported: {job.created_count} physicians added, {job.updated_count} updated, "
                f"{job.institutions_created} institutions added.",
            )
    return redirect("physicians:import_detail", pk=pk)
