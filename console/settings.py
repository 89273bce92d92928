"""Settings, every one from the environment with a safe default.

Out of the box: SQLite under DATA_DIR, Celery tasks run in-process (no Redis), and the built-in
Kubernetes API simulator when no cluster is configured. Production sets SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and KUBECONFIG (or runs in-cluster).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data")).resolve()


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if not DEBUG:
        # Left empty so offline tools (`manage.py reachability ...`) run without one; Django
        # refuses to serve requests without it and `check --deploy` reports it.
        return ""
    # Development only: keep one generated key per data directory so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "console.core",
    "console.policies",
    "console.tenancy",
    "console.traffic",
    "console.reachability",
    "console.history",
    "console.members",
    "console.guardrails",
    "console.sso",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "console.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: the language (cookie, then Accept-Language) is known
    # before CommonMiddleware and the views run.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "console.core.middleware.RequestSizeLimitMiddleware",
    "console.core.middleware.StrictFormEncodingMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Once the user is known: the language saved on their account wins over LocaleMiddleware's
    # cookie and Accept-Language.
    "console.core.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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
                "console.core.context_processors.console",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'console.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # A file, not memory, so a separately started Celery worker sees the test database too.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-console.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # A Redis outage makes the cache a miss (logged once) instead of failing every page; short
    # socket timeouts keep a Redis that does not answer from stalling requests.
    CACHES = {"default": {"BACKEND": "console.core.cache.DegradingRedisCache",
                          "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: with no broker configured, tasks run in the web process so nothing else is needed.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True  # tasks are idempotent: a redelivered message converges, never duplicates
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600"))}
# A running job without a heartbeat for this long is taken over by another delivery.
JOB_STALE_SECONDS = float(os.environ.get("JOB_STALE_SECONDS", "60"))
# Worker liveness: each Celery worker refreshes a Redis key every WORKER_HEARTBEAT_INTERVAL
# seconds that expires after WORKER_HEARTBEAT_TTL; /healthz and the job cards read it. A queued
# job waiting longer than WORKER_WAIT_WARNING_SECONDS with no live worker says so.
WORKER_HEARTBEAT_TTL = float(os.environ.get("WORKER_HEARTBEAT_TTL", "30"))
WORKER_HEARTBEAT_INTERVAL = float(os.environ.get("WORKER_HEARTBEAT_INTERVAL", "10"))
WORKER_WAIT_WARNING_SECONDS = float(os.environ.get("WORKER_WAIT_WARNING_SECONDS", "5"))
ISOLATION_WRITE_CONCURRENCY = int(os.environ.get("ISOLATION_WRITE_CONCURRENCY", "8"))
CELERY_BEAT_SCHEDULE = {
    "reconcile-cluster": {
        "task": "console.tasks.reconcile_cluster",
        "schedule": float(os.environ.get("RECONCILE_INTERVAL_SECONDS", "300")),
    },
    "evaluate-guardrails": {
        "task": "console.tasks.evaluate_guardrails",
        "schedule": float(os.environ.get("GUARDRAILS_INTERVAL_SECONDS", "60")),
    },
}

# Cluster access: KUBECONFIG (+ KUBE_CONTEXT), in-cluster service account, or KUBE_API_URL.
KUBECONFIG = os.environ.get("KUBECONFIG", "")
KUBE_CONTEXT = os.environ.get("KUBE_CONTEXT", "")
KUBE_API_URL = os.environ.get("KUBE_API_URL", "")
KUBE_REQUEST_TIMEOUT = float(os.environ.get("KUBE_REQUEST_TIMEOUT", "10"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Single sign-on with OpenID Connect (README, "Single sign-on"): off unless OIDC_ISSUER and
# OIDC_CLIENT_ID are set. Local accounts keep working beside it.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "single sign-on")
OIDC_GROUP_ROLES = os.environ.get("OIDC_GROUP_ROLES", "")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
OIDC_USERNAME_CLAIM = os.environ.get("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile groups")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "RS256")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "10"))
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "console.sso.backend.OIDCBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Two languages: English (the default) and Simplified Chinese. LocaleMiddleware picks one from
# the language cookie that the header's switcher sets (kept a year), else Accept-Language.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Collected files are served in production (STATIC_MANIFEST=1, after `collectstatic`); in
# development and tests WhiteNoise serves straight from the finders.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or (
    str(DATA_DIR / "collected-static") if env_bool("STATIC_MANIFEST") else None)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_MANIFEST") else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not env_bool("STATIC_MANIFEST")

# Uploads and editor content: one NetworkPolicy never needs more than this.
MAX_YAML_BYTES = int(os.environ.get("MAX_YAML_BYTES", str(1024 * 1024)))
# Form data may be well over MAX_YAML_BYTES (a form-encoded draft can take three times its size),
# so a too-large draft is still read and the editor answers with its own message, draft kept;
# a larger request gets a 413 (console.core.middleware.RequestSizeLimitMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * MAX_YAML_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_YAML_BYTES + 64 * 1024

# Transport security: strict unless DEBUG; a TLS-terminating proxy sets SECURE_PROXY_SSL_HEADER.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy of every response (console/core/middleware.py). No inline scripts:
# page scripts are static files. CSP_SCRIPT_SRC replaces the script sources (e.g. to add
# hashes while an inline script is being moved out); CSP_REPORT_ONLY=1 only reports.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": os.environ.get("CSP_SCRIPT_SRC", "'self'"),
    "style-src": "'self' 'unsafe-inline'",  # style= attributes and <style> blocks in templates
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"kubernetes": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
