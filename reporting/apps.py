from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .expressions import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="reporting_sqlite_median")
