"""Liaison CRM settings.

Every value comes from the environment (or a `.env` file beside manage.py) through
django-environ. The defaults serve a developer on a fresh clone: SQLite, DEBUG on, an
embedded Celery broker on the filesystem. A malformed value raises ImproperlyConfigured
naming the variable, so a typo never silently turns a security setting off.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    # Not env.str(): django-environ answers an empty value with the default, and an empty
    # MFA_REQUIRED_ROLES must mean "nobody" (DESIGN's contract).
    return os.environ.get(name)


def env_bool(name: str, default: bool) -> bool:
    """A boolean that is neither true nor false is a configuration error, not False."""
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off).")


def env_int(name: str, default: int) -> int:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated; set but empty is the empty list."""
    raw = _raw(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

if DEBUG:
    # A development secret, stable across restarts of this checkout but never shipped.
    SECRET_KEY = env.str("SECRET_KEY", default="dev-insecure-" + "x" * 50)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "auditlog",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "accounts",
    "outreach",
    "physicians",
    "patients",
    "reporting",
    "documents",
    "research",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "liaison_crm.input_guard.RejectNulInQueryStringMiddleware",
    # Before CSRF, the first to read request.POST: uploaded files keep their names as sent.
    "documents.uploads.KeepUploadNamesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    # allauth's pending sign-in (the second-factor step) and the user's sessions; then the
    # second-factor requirement, which sends a user who must enrol to enrolment.
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.AccessAssignedMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "liaison_crm.middleware.DatabaseUnavailableMiddleware",
    # Axes must come last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "liaison_crm.urls"
WSGI_APPLICATION = "liaison_crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # No JIT: on the dashboards' aggregates it compiled for ~50 ms per query to save a few (bench/results.md).
    # cursor_tuple_fraction=1: the only server-side cursors here are exports (and Django's select
    # options), which read every row; the default 0.1 plans them for the first rows and made the
    # KOL export 1.5x slower than the same SELECT (bench/results.md).
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off -c cursor_tuple_fraction=1")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and beat share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_DATA_DIR = Path(env.str("CELERY_DATA_DIR", default=str(BASE_DIR / ".celery")))

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "liaison_crm.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "liaison",
            "TIMEOUT": 300,
            # The cache is an accelerator: a Redis outage must not take pages down.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
else:
    # A file cache, not a per-process one: the web server and the worker must see the same
    # values (a physician import's progress is written by the worker, polled by the page).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(CELERY_DATA_DIR / "cache"),
            "TIMEOUT": 300,
        }
    }
    # The embedded broker: kombu's filesystem transport, so a worker and beat run with no server.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "store_processed": False,
    }
    # Producers (web) and consumers (worker, beat) both need the folders before they connect.
    for _folder in ("queue", "control"):
        (CELERY_DATA_DIR / _folder).mkdir(parents=True, exist_ok=True)

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DATA_DIR / "beat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "dispatch-due-reminders": {
        "task": "outreach.tasks.dispatch_due_reminders",
        "schedule": timedelta(minutes=1),
    },
    "escalate-overdue-follow-ups": {
        "task": "outreach.tasks.escalate_overdue",
        "schedule": timedelta(minutes=5),
    },
    "run-service-level-rules": {
        "task": "outreach.tasks.run_service_level_rules",
        "schedule": timedelta(minutes=15),
    },
    "send-daily-digests": {
        "task": "outreach.tasks.send_daily_digests",
        "schedule": crontab(minute=0),  # hourly; each user gets theirs at DIGEST_HOUR
    },
}

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, with the signed-in user's team loaded in the same query (accounts/backends.py).
    "accounts.backends.TeamModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 is not in requirements; PBKDF2 (Django's default, 1M+ iterations) is the strong default.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
# Lock the account and the address independently: either reaching the limit locks.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0) or None

# Password reset links (Django's own views) last an hour; invitations a week. Either works once.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_MINUTES", 60) * 60
INVITATION_TIMEOUT = env_int("INVITATION_DAYS", 7) * 86400
# Reset requests per address and per client (django-ratelimit, through the cache).
PASSWORD_RESET_RATE_PER_ADDRESS = env.str("PASSWORD_RESET_RATE_PER_ADDRESS", default="3/h")
PASSWORD_RESET_RATE_PER_CLIENT = env.str("PASSWORD_RESET_RATE_PER_CLIENT", default="10/h")

# --- Second factor (django-allauth's mfa) ----------------------------------------------------
# Roles that must sign in with a second factor; empty turns the requirement off (demos, outside
# checks). `make run` sets it empty for the demo users (scripts/run-dev).
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", ["clinical_liaison", "manager", "admin"])
# Passkeys and security keys (WebAuthn) confirm a sign-in as a code does; they are added from the
# second-factor page once the authenticator app is on (the requirement enrols the app).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False  # the password comes first, always
# WebAuthn needs HTTPS, except on localhost: allow plain HTTP there while developing.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Liaison CRM")
MFA_RECOVERY_CODE_COUNT = 10
MFA_FORMS = {
    "authenticate": "accounts.forms.SecondFactorForm",
    "reauthenticate": "accounts.forms.SecondFactorReauthenticateForm",
    "activate_totp": "accounts.forms.EnrolAuthenticatorForm",
}
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
# --- Single sign-on: OpenID Connect (allauth's openid_connect provider) -----------------------
# The identity provider is found by discovery from OIDC_ISSUER; the authorization code flow runs
# with PKCE, and the ID token's signature, issuer and audience are checked (accounts.oidc).
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").rstrip("/")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_NAME = env.str("OIDC_NAME", default="single sign-on")  # the login page's "Sign in with <name>"
# Users are matched by verified email; one with no account is created only when this is on.
OIDC_CREATE_USERS = env_bool("OIDC_CREATE_USERS", False)
# Role and team from a claim: OIDC_ROLE_CLAIM names it, OIDC_ROLE_MAP maps its values, as JSON:
# {"crm-msl-east": {"role": "msl", "team": "MA East"}, ...}. No match: an admin assigns them.
OIDC_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="")
OIDC_ROLE_MAP = env.json("OIDC_ROLE_MAP", default={})
OIDC_PROVIDER_ID = "sso"


def oidc_providers(issuer: str, client_id: str, secret: str, name: str) -> dict:
    """SOCIALACCOUNT_PROVIDERS for one OpenID Connect provider (none when no issuer is set)."""
    if not issuer:
        return {}
    app = {
        "provider_id": OIDC_PROVIDER_ID,
        "name": name,
        "client_id": client_id,
        "secret": secret,
        "settings": {"server_url": issuer, "oauth_pkce_enabled": True},
    }
    return {"openid_connect": {"OAUTH_PKCE_ENABLED": True, "APPS": [app]}}


def allow_form_action(policy: dict, url: str) -> dict:
    """The Content Security Policy with `url`'s origin allowed as a form's destination: the sign-in
    and sign-out forms post here and are redirected to the identity provider, which form-action
    governs too."""
    parts = urlsplit(url)
    directives = {**policy["DIRECTIVES"]}
    directives["form-action"] = [*directives["form-action"], f"{parts.scheme}://{parts.netloc}"]
    return {**policy, "DIRECTIVES": directives}


SOCIALACCOUNT_PROVIDERS = oidc_providers(OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_NAME)
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # accounts.adapters matches by verified email itself
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_QUERY_EMAIL = True

# Sessions keep their own last activity (IdleTimeoutMiddleware); allauth tracking it would
# write a row on every request.
USERSESSIONS_TRACK_ACTIVITY = False

# Idle expiry is enforced by accounts.middleware.IdleTimeoutMiddleware; background polls do
# not count as activity. The cookie itself lives for a working day at most.
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_COOKIE_AGE = env_int("SESSION_MAX_AGE_HOURS", 12) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- REST API (/api/v1/, Django REST framework; liaison_crm/api/) ---------------------------
REST_FRAMEWORK = {
    # The browser session (with CSRF) for the pages' own scripts; personal tokens for the rest.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "liaison_crm.api.permissions.TokenScope",
        "liaison_crm.api.permissions.RoleSees",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "liaison_crm.api.throttling.TokenRateThrottle",
        "liaison_crm.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "liaison_crm.api.pagination.CursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["liaison_crm.api.filters.FilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "liaison_crm.api.exceptions.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per minute, counted in the cache (Redis when REDIS_URL is set): per token, per signed-in
# user whichever way they came (token or session).
API_THROTTLE_RATES = {
    "token": env.str("API_THROTTLE_TOKEN", default="600/min"),
    "user": env.str("API_THROTTLE_USER", default="1200/min"),
}
# Personal API tokens for the roles that must sign in with a second factor (a token skips it).
API_TOKENS_FOR_MFA_ROLES = env_bool("API_TOKENS_FOR_MFA_ROLES", True)
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365)
SPECTACULAR_SETTINGS = {
    "TITLE": "Liaison CRM API",
    "DESCRIPTION": (
        "The records a user sees in Liaison CRM, with the writes their role may make. Authenticate "
        "with a personal token (`Authorization: Bearer <token>`, made on /accounts/api-tokens/) or "
        "the browser session with its CSRF token."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema names every resource and field: for signed-in users, as every page is.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from static/vendor/swagger-ui (npm swagger-ui-dist), no CDN; the split view's
    # script is a file too, so the page keeps the CSP without inline scripts.
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui/favicon-32x32.png",
    # Choice sets that share a field name across apps (status, kind, channel) get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "InteractionChannelEnum": "physicians.choices.Channel",
        "InsightStatusEnum": "physicians.choices.InsightStatus",
        "InquiryStatusEnum": "physicians.choices.InquiryStatus",
        "ProductStatusEnum": "physicians.choices.ProductStatus",
        "TrialStatusEnum": "physicians.choices.TrialStatus",
        "SiteStatusEnum": "physicians.choices.SiteStatus",
        "InstitutionKindEnum": "physicians.choices.InstitutionKind",
        "PhysicianConsentStatusEnum": "physicians.choices.ConsentStatus",
        "FollowUpStatusEnum": "outreach.models.FollowUpStatus",
        "NotificationKindEnum": "outreach.models.Notification.Kind",
        "CaseStageEnum": "patients.choices.Stage",
        "PatientConsentKindEnum": "patients.choices.ConsentKind",
        "PatientConsentStatusEnum": "patients.choices.ConsentStatus",
        "CommunicationChannelEnum": "patients.choices.CommChannel",
        "DocumentKindEnum": "documents.choices.DocumentKind",
    },
}

# --- Security (production) -------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp), in development too so a violation shows up early: no
# inline or third-party scripts at all; htmx is told not to inject its own <style> (base.html).
# Inline *styles* stay allowed for progress bars and Bootstrap's positioning.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if OIDC_ISSUER:
    CONTENT_SECURITY_POLICY = allow_form_action(CONTENT_SECURITY_POLICY, OIDC_ISSUER)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Email -----------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Liaison CRM <noreply@liaison-crm.local>")
# Absolute base of links in reminder and digest emails (a worker has no request to build them from).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Follow-ups (outreach/conf.py reads these) ------------------------------------------------
DIGEST_HOUR = env_int("DIGEST_HOUR", 7)
FOLLOW_UP_ESCALATE_AFTER_HOURS = env_int("FOLLOW_UP_ESCALATE_AFTER_HOURS", 24)

# --- I18N, static ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))

# --- Documents (PHI: medical records, consents, insurance cards, letters) ---------------------
# The default storage holds them under random keys and nothing serves it: no URL maps MEDIA_URL,
# every download goes through documents.views (scoped, audited). Local files under MEDIA_ROOT
# by default; S3-compatible object storage (django-storages) when a bucket or STORAGE_URL is set,
# so several web servers share one store.
DOCUMENT_MAX_MB = env_int("DOCUMENT_MAX_MB", 20)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Written files and folders are for the server's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700


def s3_storage_options(url: str) -> dict:
    """S3Storage options from STORAGE_URL: `s3://KEY:SECRET@BUCKET` (AWS; `?region=` optional) or
    `s3+http://KEY:SECRET@HOST:PORT/BUCKET` / `s3+https://...` (any S3-compatible server).
    `?location=prefix/` puts the keys under a prefix."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    scheme = parts.scheme.lower()
    options = {
        "access_key": unquote(parts.username or "") or None,
        "secret_key": unquote(parts.password or "") or None,
        "region_name": query.get("region") or None,
        "location": query.get("location", ""),
    }
    if scheme == "s3":
        options["bucket_name"] = parts.hostname
    elif scheme in ("s3+http", "s3+https"):
        options["endpoint_url"] = f"{scheme.removeprefix('s3+')}://{parts.hostname}" + (
            f":{parts.port}" if parts.port else ""
        )
        options["bucket_name"] = parts.path.strip("/")
    else:
        raise ImproperlyConfigured(f"STORAGE_URL={url!r}: use s3://, s3+http:// or s3+https://.")
    if not options["bucket_name"]:
        raise ImproperlyConfigured(f"STORAGE_URL={url!r} names no bucket.")
    return options


def s3_storage(options: dict) -> dict:
    """The STORAGES entry of an S3 bucket: private objects (no public ACL), read only by the server
    itself through signed requests; a key is never reused."""
    private = {"default_acl": None, "querystring_auth": True, "file_overwrite": False}
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**options, **private}}


STORAGE_URL = env.str("STORAGE_URL", default="")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if STORAGE_URL:
    _document_storage = s3_storage(s3_storage_options(STORAGE_URL))
elif AWS_STORAGE_BUCKET_NAME:
    _document_storage = s3_storage(
        {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "location": env.str("AWS_LOCATION", default=""),
        }
    )
else:
    _document_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STORAGES = {
    "default": _document_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# django-auditlog: the actor comes from AuditlogMiddleware; PHI access entries are written
# by the patients app itself.
AUDITLOG_INCLUDE_ALL_MODELS = False

PAGE_SIZE = env_int("PAGE_SIZE", 25)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
