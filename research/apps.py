from django.apps import AppConfig


class ResearchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "research"
    verbose_name = "Trial participation"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from . import models

        # Screening, answers and every step of a participation are PHI: change-logged, naming the
        # patient, case and team like the case's own records (patients.models.AuditedCaseChild).
        for model in (models.Participation, models.ScreeningAnswer, models.ParticipationTransition):
            auditlog.register(model)
