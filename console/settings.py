"""Kiln's one settings module, driven by environment variables (see ``.env.example``).

Defaults are the embedded ones: SQLite and files under ``KILN_DATA_DIR`` (``var/``), Redis at
``REDIS_URL``. Production deployments set ``DATABASE_URL`` to PostgreSQL and ``SECRET_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from console.env import env_bool, env_decimal, env_float, env_int, env_list, env_str, secret_key
from console.storage_settings import default_storage_setting, media_root

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("KILN_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
# prometheus-client's multi-process mode (metrics/prom.py): every process of this data dir (gunicorn's
# workers, the Celery worker) writes its samples here, and /metrics sums them. Set before it is imported.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(DATA_DIR / "prometheus"))
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
KILN_PORT = env_int("KILN_PORT", 8000, minimum=1, maximum=65535)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", ".localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Served over HTTPS (behind a TLS-terminating proxy that sets X-Forwarded-Proto): secure cookies, HSTS, redirects.
# Off by default: `make run` serves plain HTTP on 127.0.0.1, where HSTS would lock browsers out.
KILN_HTTPS = env_bool("KILN_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if KILN_HTTPS else None
SECURE_SSL_REDIRECT = KILN_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # probes from inside the deployment speak plain HTTP
SESSION_COOKIE_SECURE = KILN_HTTPS
CSRF_COOKIE_SECURE = KILN_HTTPS
SECURE_HSTS_SECONDS = env_int("KILN_HSTS_SECONDS", 31536000 if KILN_HTTPS else 0, minimum=0, maximum=10 ** 9)
SECURE_HSTS_INCLUDE_SUBDOMAINS = KILN_HTTPS
SECURE_HSTS_PRELOAD = env_bool("KILN_HSTS_PRELOAD", False)  # consent to browsers' preload lists: an operator's choice
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "console.admin_site.KilnAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # DRF's plaintext tokens: installed only so that apitokens' migration 0002 can move them (hashed) into
    # apitokens.ApiToken and empty its table. Nothing else uses it; its admin is unregistered (apitokens/admin.py).
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "iam",
    "functions",
    "invoker",
    "httpapi",
    "storage",
    "queues",
    "tables",
    "topics",
    "logs",
    "events",
    "buses",
    "aws",
    "metrics",
    "apitokens",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Requests signed with AWS Signature V4 go to the AWS-compatible endpoint before anything else sees them.
    "aws.router.AwsRouterMiddleware",
    # Static files from STATIC_ROOT in every way Kiln is started (console/staticfiles.py), not DEBUG's view.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "httpapi.middleware.GatewayHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "console.security.ContentSecurityPolicyMiddleware",
]

# Django's ModelBackend, refusing sign-in for an account or address with too many recent failures (console/security.py).
AUTHENTICATION_BACKENDS = ["console.security.ThrottledModelBackend"]

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
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'kiln.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, health-checking a persistent connection at most once per grace period (core/db/postgresql).
    DATABASES["default"]["ENGINE"] = "core.db.postgresql"
KILN_DB_HEALTH_CHECK_GRACE_SECONDS = env_float("KILN_DB_HEALTH_CHECK_GRACE_SECONDS", 1.0, minimum=0.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside the writer, IMMEDIATE
    # transactions take the write lock up front instead of failing on upgrade, and the timeout
    # makes a writer wait for another instead of raising "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("KILN_STATIC_ROOT", str(DATA_DIR / "static"))).resolve()
STATICFILES_DIRS = [BASE_DIR / "console" / "static"]
# Blobs (code zips, layers, bucket objects) through Django's storage API (console/storage_settings.py): KILN_STORAGE
# "filesystem" keeps them under KILN_MEDIA_ROOT (a shared mount with several hosts), "s3" in an S3-compatible store.
MEDIA_ROOT = media_root(DATA_DIR)
STORAGES = {
    "default": default_storage_setting(),
    # Hashed names (far-future caching by WhiteNoise) and gzip/brotli variants made at collection.
    "staticfiles": {"BACKEND": "console.staticfiles.StaticStorage"},  # WhiteNoise's, compressing faster
}
# WhiteNoise caches hashed names for a year (immutable) and unhashed ones for 60 s.

LOGIN_URL = "admin:login"

# Request bodies: the largest legitimate one is a 50 MB zip sent as base64 inside JSON (~67 MB).
# Each endpoint enforces its own, smaller limit with a clear error; this only stops abuse.
DATA_UPLOAD_MAX_MEMORY_SIZE = 72 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "console.api_auth.KilnTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["restapi.permissions.ModelPermissions"],  # each view names its model permissions
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "restapi.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "restapi.schema.KilnAutoSchema",  # error responses documented too
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kiln API",
    "DESCRIPTION": "Self-hosted functions in the manner of AWS Lambda.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery and Redis -------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
# kombu's Redis transport, keeping one client per channel instead of building one per publish (console/broker.py).
CELERY_BROKER_TRANSPORT = "console.broker:Transport" if CELERY_BROKER_URL.startswith("redis://") else None
CELERY_TASK_IGNORE_RESULT = True  # the database row is the result; Redis keys wake waiters
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Celery's Django fix-up closes the database connection around every task unless this is set: a new
# PostgreSQL connection per invocation cost ~6 ms of a warm invoke (docs/benchmarks.md). Connections are
# instead recycled by Django's own rules (CONN_MAX_AGE, health checks) before each task (invoker/worker.py).
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_ROUTES = {
    "invoker.tasks.invoke": {"queue": "invoke"},
    "invoker.tasks.*": {"queue": "control"},
    "metrics.tasks.*": {"queue": "control"},
    "topics.tasks.*": {"queue": "control"},  # SNS deliveries (an HTTP/S one may hold its thread up to 15 s)
}
CELERY_TASK_DEFAULT_QUEUE = "control"
CELERY_BEAT_SCHEDULE = {
    # A reap that waited out its period in the queue (no worker was up) is dropped: the next one comes 15 s later.
    "reap-invocations": {"task": "invoker.tasks.reap_invocations", "schedule": 15.0, "options": {"expires": 14.0}},
    "sample-async-metrics": {"task": "invoker.tasks.sample_async_metrics", "schedule": 60.0},
    "prune-metrics": {"task": "metrics.tasks.prune", "schedule": 3600.0},
    "settle-event-source-mappings": {"task": "events.tasks.settle_mappings", "schedule": 30.0},
    "sweep-sqs-mappings": {"task": "events.tasks.sweep_sqs", "schedule": 30.0},
    "sweep-sns-deliveries": {"task": "topics.tasks.sweep", "schedule": 30.0},
    "purge-expired-sessions": {"task": "iam.tasks.purge_sessions", "schedule": 3600.0},
    # EventBridge schedules: one indexed query per second; each tick fires once (buses/services.py).
    "fire-event-bus-schedules": {"task": "buses.tasks.fire_due_schedules", "schedule": 1.0},
    "sweep-event-bus-deliveries": {"task": "buses.tasks.sweep_deliveries", "schedule": 30.0},
    "logs-apply-retention": {"task": "logs.tasks.apply_retention", "schedule": 3600.0},
    "logs-deliver-invocation-logs": {"task": "logs.tasks.deliver_invocation_logs", "schedule": 5.0},
    "expire-table-items": {"task": "tables.tasks.expire_items", "schedule": 30.0},
    "sweep-dynamodb-mappings": {"task": "events.tasks.sweep_dynamodb", "schedule": 30.0},
    "trim-table-streams": {"task": "tables.tasks.trim_streams", "schedule": 600.0},
}

# --- Kiln -------------------------------------------------------------------------------------
KILN_REGION = env_str("KILN_REGION", "us-east-1")
KILN_ACCOUNT_ID = env_str("KILN_ACCOUNT_ID", "000000000000")
# Key material for access-key secrets at rest (iam/crypto.py); SECRET_KEY when unset.
KILN_KMS_KEY = env_str("KILN_KMS_KEY", "")
# Where a worker unpacks code and layers and keeps its environments' private directories.
KILN_WORK_DIR = Path(env_str("KILN_WORK_DIR", str(DATA_DIR / "work"))).resolve()
# How a worker names its host in its heartbeat and in the invocations it runs (invoker/workers.py); default: the hostname.
KILN_WORKER_HOST = env_str("KILN_WORKER_HOST", "")
# "auto": bubblewrap when it works here, else no functions start (said on /healthz); "process": plain
# processes with rlimits only, NOT isolated (loudly reported); "bwrap": bubblewrap or fail at start.
KILN_SANDBOX = env_str("KILN_SANDBOX", "auto")
# "allow": functions with network "outbound" reach other hosts (never this host); "deny": no function does.
KILN_SANDBOX_EGRESS = env_str("KILN_SANDBOX_EGRESS", "allow")
KILN_ENV_IDLE_SECONDS = env_float("KILN_ENV_IDLE_SECONDS", 600.0, minimum=1.0)
# Keep a runtime started ahead of need per kind of environment recently cold-started (invoker/prewarm.py).
KILN_PREWARM = env_bool("KILN_PREWARM", True)
# Those runtimes (Python, Node.js) load the AWS SDK while they wait, so a handler's boto3 / v3 client
# import costs its cold start nothing (invoker/sdkpreload.py; ~45 MB more per Python spare, ~25 MB per Node.js one).
KILN_PREWARM_SDK = env_bool("KILN_PREWARM_SDK", True)
# Remount the cgroup2 hierarchy with favordynmods at worker start (when root): cgroup moves ~0.1 ms
# instead of an RCU grace period per cold start (invoker/cgroups.py).
KILN_CGROUP_FAVORDYNMODS = env_bool("KILN_CGROUP_FAVORDYNMODS", True)
KILN_WORKER_MEMORY_MB = env_int("KILN_WORKER_MEMORY_MB", 8192, minimum=128)
# How long past the function's timeout a synchronous caller waits for a worker to finish the row.
KILN_SYNC_WAIT_MARGIN_SECONDS = env_float("KILN_SYNC_WAIT_MARGIN_SECONDS", 15.0, minimum=0.0)
# Synchronous calls go straight to a worker's call threads and are recorded once, when they end (invoker/calls.py);
# off: every call is written queued first and sent through Celery, like an asynchronous one.
KILN_DIRECT_CALLS = env_bool("KILN_DIRECT_CALLS", True)
KILN_CALL_THREADS = env_int("KILN_CALL_THREADS", 8, minimum=1)  # per worker process
# Delays before the retries of an asynchronous invocation whose function failed (Lambda: 1 and 2 minutes).
KILN_ASYNC_RETRY_DELAYS = [float(x) for x in env_list("KILN_ASYNC_RETRY_DELAYS", ["60", "120"])]
KILN_ACCOUNT_CONCURRENCY = env_int("KILN_ACCOUNT_CONCURRENCY", 1000, minimum=1)
# SQS event source mapping polls running at once across the workers: each holds a worker thread while its batch runs,
# so this stays below the worker threads that run the functions (events/sqs.py).
KILN_SQS_POLLERS_MAX = env_int("KILN_SQS_POLLERS_MAX", 2, minimum=1)
# Where clients reach Kiln: the base of SNS's SubscribeURL, UnsubscribeURL and SigningCertURL (topics/envelope.py).
KILN_PUBLIC_URL = env_str("KILN_PUBLIC_URL", f"http://127.0.0.1:{KILN_PORT}")
# Prices of usage (GET /api/v1/usage/), USD; defaults: AWS Lambda's published x86 prices.
KILN_PRICE_PER_MILLION_REQUESTS = env_decimal("KILN_PRICE_PER_MILLION_REQUESTS", "0.20")
KILN_PRICE_PER_GB_SECOND = env_decimal("KILN_PRICE_PER_GB_SECOND", "0.0000166667")
# How often a worker writes the metric roll-ups it gathered (metrics/buffer.py); 0: each run at once.
KILN_METRICS_FLUSH_SECONDS = env_float("KILN_METRICS_FLUSH_SECONDS", 1.0, minimum=0.0)
# When set, GET /metrics (Prometheus) wants "Authorization: Bearer <token>"; else it is open.
KILN_PROMETHEUS_TOKEN = env_str("KILN_PROMETHEUS_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("KILN_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
