from django.apps import AppConfig


class PhysiciansConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "physicians"
