"""Background work: validating and importing large physician files. Thin: an id in, a function called."""

from __future__ import annotations

from celery import shared_task

from .models import ImportStatus, PhysicianImport


@shared_task
def validate_physician_import(job_id: int) -> None:
    from .importer import validate_import

    job = PhysicianImport.objects.filter(pk=job_id, status=ImportStatus.VALIDATING).first()
    if job is not None:
        validate_import(job)


@shared_task
def apply_physician_import(job_id: int) -> None:
    from .importer import apply_import

    job = PhysicianImport.objects.filter(pk=job_id, status=ImportStatus.IMPORTING).first()
    if job is not None:
        apply_import(job)
