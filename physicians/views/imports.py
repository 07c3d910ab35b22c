"""Physician import from an NPI-registry CSV or a saved NPPES Registry answer (JSON): upload, the checked report (polled while a worker
runs), confirmation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import medical_affairs_required

from .. import services
from ..forms import ImportUploadForm
from ..importer import ImportFileError, processed_rows
from ..models import PhysicianImport
from .common import form_page


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
    return form_page(
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
                f"{job.invalid_rows} rows rejected; {job.institutions_created} institutions added.",
            )
    return redirect("physicians:import_detail", pk=pk)
