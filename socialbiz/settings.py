"""socialbiz settings: one file, driven by environment variables (see .env.example).

No DATABASE_URL means the embedded SQLite database under var/; no REDIS_URL means a local-memory
cache and Celery tasks run eagerly in-process. Everything else has a safe default for development.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off, set SECRET_KEY to a long random string "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "socialbiz.apps.DashboardAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before whitenoise: its runserver command (the raw request path as RAW_URI) wraps whitenoise's.
    "socialbiz",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "products",
    "provenance",
    "reviews",
    "network_credits",
    "purchases",
    "compliance",
    "storefront",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "socialbiz.urls"
WSGI_APPLICATION = "socialbiz.wsgi.application"
ASGI_APPLICATION = "socialbiz.asgi.application"

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

# Database: PostgreSQL from DATABASE_URL, or the embedded SQLite file.
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "socialbiz.sqlite3"),
            # Keep connections open between requests, as with PostgreSQL: reopening the file costs ~1 ms a request.
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Celery: Redis from REDIS_URL, or local memory and eager tasks.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "socialbiz"),  # another for each site that shares the Redis
            # A Redis outage must not take the public pages down: fail fast, then treat it as a miss.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task cut off by a lost broker connection cannot be acknowledged and is delivered again; stop it rather than let
# it run on (Celery 6's default). Outbox deliveries are idempotent, so the second delivery completes the work.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Background work is queued through the transactional outbox (core/outbox.py): a row in the transaction that
# causes it, published after commit on a connection of its own that gives up after OUTBOX_PUBLISH_TIMEOUT seconds
# with no retries (a dead broker must not stall the request), then by the relay every OUTBOX_RELAY_SECONDS.
OUTBOX_PUBLISH_TIMEOUT = 1.0
OUTBOX_RELAY_SECONDS = env_int("OUTBOX_RELAY_SECONDS", 30)
# A row handed to the broker but not done this long after is sent again (a broker restarted without persistence
# loses its queue); a duplicate delivery does nothing, so this only needs to be longer than the usual wait.
OUTBOX_RESEND_AFTER = timedelta(minutes=env_int("OUTBOX_RESEND_AFTER_MINUTES", 15))
# Work that raised is retried with a growing delay, OUTBOX_MAX_ATTEMPTS times in all, then left failed for operators.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 5)
# Done rows are kept this long for inspection in the dashboard, then purged (hourly, from beat).
OUTBOX_KEEP_DONE = timedelta(days=env_int("OUTBOX_KEEP_DONE_DAYS", 7))
HEARTBEAT_INTERVAL = env_int("HEARTBEAT_INTERVAL", 60)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "core.tasks.heartbeat", "schedule": timedelta(seconds=HEARTBEAT_INTERVAL)},
    "outbox-relay": {
        "task": "core.tasks.outbox_relay",
        "schedule": timedelta(seconds=OUTBOX_RELAY_SECONDS),
        "options": {"expires": OUTBOX_RELAY_SECONDS},  # while no worker runs them, relays do not pile up
    },
    "outbox-purge": {"task": "core.tasks.outbox_purge", "schedule": timedelta(hours=1)},
    "idempotency-keys-purge": {"task": "core.tasks.idempotency_keys_purge", "schedule": timedelta(hours=1)},
    "hash-chains-verify": {"task": "provenance.tasks.chains_verify_all", "schedule": timedelta(hours=24)},
    "credit-holds-expire": {
        "task": "network_credits.tasks.holds_expire",
        "schedule": timedelta(seconds=env_int("CREDITS_HOLDS_EXPIRE_SECONDS", 300)),
        "options": {"expires": 300},
    },
    "orders-enforce": {
        "task": "purchases.tasks.orders_enforce",
        "schedule": timedelta(seconds=env_int("PURCHASES_ENFORCE_SECONDS", 300)),
        "options": {"expires": 300},
    },
    "guarantee-claims-recover": {
        "task": "purchases.tasks.guarantee_claims_recover",
        "schedule": timedelta(hours=6),
        "options": {"expires": 3600},
    },
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses logins for a locked-out username and address before checking passwords.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "storefront:home"
LOGOUT_REDIRECT_URL = "storefront:home"

# Login throttling: after AXES_FAILURE_LIMIT failures for one username from one address, that pair is
# locked out for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Django's login form posts the email address as "username" (axes would look for USERNAME_FIELD, "email").
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "socialbiz.views.login_locked_out"
AXES_IPWARE_PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_VERBOSE = False

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "socialbiz <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Integrator API (Django REST framework): /api/v1/, schema at /api/schema/, docs at /api/docs/.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's, falling back to per-process counters while Redis is down (core/api/throttling.py says why).
        "core.api.throttling.AnonRateThrottle",
        "core.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", "120/min"),
        "user": env("API_THROTTLE_USER", "1200/min"),
    },
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "socialbiz integrator API",
    "DESCRIPTION": (
        "Suppliers, products with their declared risks and benefits, and batches. Authenticate with "
        "`Authorization: Token <key>`. Errors share one JSON shape (`Error`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EvidenceLevelEnum": "products.models.Declaration.EvidenceLevel",
        # Two fields named `status`: each keeps a name of its own rather than one named after its serializer.
        "StatusEnum": "products.models.Supplier.Status",
        "EvidenceStatusEnum": "provenance.api_resources.EVIDENCE_STATUSES",
        # The ledger's `kind` and `status` fields, and the declaration's `kind` keeping the name it had before them.
        "KindEnum": "products.models.Declaration.Kind",
        "AccountKindEnum": "network_credits.models.Account.Kind",
        "AccountStatusEnum": "network_credits.models.Account.Status",
        "TransferKindEnum": "network_credits.models.Transfer.Kind",
        # Orders: a state, a means or a cash method is named once, however many fields carry it.
        "OrderStateEnum": "purchases.models.Order.State",
        "DisputeStateEnum": "purchases.models.Dispute.State",
        "MeansEnum": "purchases.models.Means",
        "CashMethodEnum": "purchases.models.Order.CashMethod",
        # Reviews: a review's state, a flag's reason and a suggestion's status (also its history's `previous`).
        "ReviewStateEnum": "reviews.models.Review.State",
        "FlagReasonEnum": "reviews.models.Flag.Reason",
        "ReasonEnum": "purchases.models.Dispute.Reason",  # the name a dispute's reason had before flags came
        "SuggestionStatusEnum": "reviews.models.Suggestion.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.errors.document_error_responses",
    ],
}
# GS1 Digital Link resolver: the root that QR codes encode (https://id.example.org in production). The demo and
# development use the local server itself.
RESOLVER_ROOT = env("RESOLVER_ROOT", "http://127.0.0.1:8000").rstrip("/")
# The site's own address, for links in e-mails (which have no request to take it from).
SITE_URL = env("SITE_URL", RESOLVER_ROOT).rstrip("/")
# Public pages (core/pages.py): how long a rendered page is kept (0: not cached; it is also marked stale whenever
# something it shows changes), how long a part of one that changes rarely is kept (a batch's trace section: 0 turns
# it off), for how many seconds after a change a stale copy may still be served while its new render is on its way
# (never after a safety change), and whether a worker renders changed pages again before anyone asks (those in
# the cache, that is asked for in the last PAGE_CACHE_SECONDS; at most PAGE_RENDER_AHEAD_MAX per commit).
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 600)
PAGE_PART_CACHE_SECONDS = env_int("PAGE_PART_CACHE_SECONDS", 3600)
PAGE_STALE_SECONDS = env_int("PAGE_STALE_SECONDS", 5)
PAGE_RENDER_AHEAD = env_bool("PAGE_RENDER_AHEAD", True)
PAGE_RENDER_AHEAD_MAX = env_int("PAGE_RENDER_AHEAD_MAX", 200)

# The largest EPCIS document /epcis/capture accepts, in bytes (a 10,000-event document is about 8 MB).
EPCIS_CAPTURE_MAX_BYTES = env_int("EPCIS_CAPTURE_MAX_BYTES", 20_000_000)
# How long a client's Idempotency-Key is remembered (it replays the first response for this long).
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)

# Network credits (hundredths of a credit): the credit limit a new member's and a new supplier's account opens
# with (operators raise it, with a reason), how many days a hold lasts unless its caller says otherwise, the hard
# currency a credit is sold for (one credit for one unit), and the most one member may top up in a day.
CREDITS_DEFAULT_MEMBER_LIMIT = env_int("CREDITS_DEFAULT_MEMBER_LIMIT", 0)
CREDITS_DEFAULT_SUPPLIER_LIMIT = env_int("CREDITS_DEFAULT_SUPPLIER_LIMIT", 50_000)
CREDITS_HOLD_DAYS = env_int("CREDITS_HOLD_DAYS", 14)
CREDITS_CURRENCY = env("CREDITS_CURRENCY", "EUR")
CREDITS_TOP_UP_DAILY_MAX = env_int("CREDITS_TOP_UP_DAILY_MAX", 50_000)
# Whether members record their own top-ups on the Top up page (the embedded demo: DEBUG on), or only operators do,
# in the dashboard, once the money has arrived (a live network: nobody buys credits by typing a reference), and what
# the page tells members about paying the network then.
CREDITS_TOP_UP_SELF_SERVICE = env_bool("CREDITS_TOP_UP_SELF_SERVICE", DEBUG)
CREDITS_TOP_UP_INSTRUCTIONS = env(
    "CREDITS_TOP_UP_INSTRUCTIONS",
    "Pay at a network desk, or by bank transfer to the network, quoting your account number. The network records "
    "the credits when your payment arrives.",
)

# Purchases: how many days a buyer has to confirm receipt before credits are paid to the supplier anyway, to report a
# problem after delivery, and how far ahead the supplier's calendar offers days.
PURCHASES_CONFIRM_DAYS = env_int("PURCHASES_CONFIRM_DAYS", 7)
PURCHASES_DISPUTE_DAYS = env_int("PURCHASES_DISPUTE_DAYS", 30)
PURCHASES_CALENDAR_DAYS = env_int("PURCHASES_CALENDAR_DAYS", 28)

# Reviews' abuse limits (reviews/limits.py): how many of each kind of write one person, and one network address, may
# make in a minute, an hour or a day ("10/hour,30/day"). A review's edits count with reviews. Counted from the rows
# themselves, so they hold on every process and while Redis is down.
REVIEWS_RATE_LIMITS = {
    "review": {
        "user": env("REVIEWS_LIMIT_REVIEWS_USER", "10/hour,30/day"),
        "address": env("REVIEWS_LIMIT_REVIEWS_ADDRESS", "30/hour"),
    },
    "flag": {
        "user": env("REVIEWS_LIMIT_FLAGS_USER", "20/hour,50/day"),
        "address": env("REVIEWS_LIMIT_FLAGS_ADDRESS", "60/hour"),
    },
    "suggestion": {
        "user": env("REVIEWS_LIMIT_SUGGESTIONS_USER", "5/hour,20/day"),
        "address": env("REVIEWS_LIMIT_SUGGESTIONS_ADDRESS", "15/hour"),
    },
    "vote": {
        "user": env("REVIEWS_LIMIT_VOTES_USER", "60/hour,300/day"),
        "address": env("REVIEWS_LIMIT_VOTES_ADDRESS", "200/hour"),
    },
}

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names let whitenoise serve static files with a year-long max-age; needs collectstatic.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security: strict by default with DEBUG off; SECURE_SSL_REDIRECT can be turned off behind a proxy
# that already redirects, or for a plain-HTTP smoke test on loopback.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "socialbiz.views.csrf_failure"
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": sys.stderr}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
