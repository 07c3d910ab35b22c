from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "documents"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # Uploads and "entered in error" are change-logged; every download, preview and thumbnail
        # is an ACCESS entry (documents.audit), naming the patient and team like the case's records.
        auditlog.register(models.Document, exclude_fields=["file", "thumbnail"])
