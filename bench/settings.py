"""Settings for benchmark runs: the project's settings, production-like where it matters for speed.

bench.env.configure() sets the environment (DATABASE_URL of the bench database, DEBUG off, a
throwaway SECRET_KEY) before this module is imported.
"""

import warnings

from liaison_crm.settings import *  # noqa: F403

# Static files are not part of what is measured: no collectstatic, and no warning about it.
warnings.filterwarnings("ignore", message="No directory at")

# No collectstatic for a benchmark: plain storage, templates still resolve {% static %}.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Quiet logs: a million-row benchmark must not measure the console.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django.request": {"level": "ERROR"}, "axes": {"level": "ERROR"}},
}
# The product's URLs plus the benchmark's two reference pages (bench/urls.py).
ROOT_URLCONF = "bench.urls"
