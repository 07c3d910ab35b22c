from django.apps import AppConfig


class OutreachConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outreach"
    verbose_name = "Follow-ups and outreach"

    def ready(self) -> None:
        # Apps above outreach (physicians, patients) register their service-level rules in a
        # `rules` module; outreach never imports them by name.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("rules")

        from . import signals  # noqa: F401  (connects the service-level cache's invalidation)
