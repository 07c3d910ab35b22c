from django.apps import AppConfig


class PhysiciansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "physicians"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # What is said to and about physicians is change-audited with the acting user
        # (AuditlogMiddleware): every create, change and delete, from what to what. The
        # off-label and unsolicited flags of an interaction are fields like the others.
        auditlog.register(models.Interaction, m2m_fields={"products"})
        auditlog.register(models.Insight)
        auditlog.register(models.MedicalInquiry)
        # A physician's consent per channel keeps its history (shown on the profile).
        auditlog.register(models.ContactConsent, include_fields=["channel", "status", "recorded_on"])
