"""The Celery application: `celery -A liaison_crm.celery:app worker --beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liaison_crm.settings")

app = Celery("liaison_crm")
# All CELERY_* settings in liaison_crm/settings.py (JSON only, time limits, acks_late, beat).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
