from django.apps import AppConfig


class PatientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "patients"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # Every create, change, delete (and, through `accessed`, every view) of PHI is logged
        # with the acting user (AuditlogMiddleware).
        for model in (
            models.Patient,
            models.Case,
            models.CaseTransition,
            models.Evaluation,
            models.Medication,
            models.InsuranceCoverage,
            models.TreatmentPlan,
            models.Consent,
            models.Communication,
        ):
            auditlog.register(model)
        auditlog.register(models.ConsentForm)
