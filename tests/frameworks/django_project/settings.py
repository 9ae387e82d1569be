"""Settings for the Django integration tests, given to `settings.configure(**SETTINGS)`.

Signed-cookie sessions, so no database is needed. Django's own GZipMiddleware is not
in MIDDLEWARE: it runs inside `get_asgi_application()`, so inside ConsentMiddleware,
and a compressed page passes through us untouched (no banner). Compress outside
instead; `test_django.py` shows both.
"""

from __future__ import annotations

from typing import Any

PACKAGE = __name__.rpartition(".")[0]

TEMPLATES_SOURCE = {
    "page.html": (
        "<!doctype html><html><head><title>{{ title }}</title>\n"
        '<script src="https://stats.example.com/script.js" data-consent="analytics" defer>'
        "</script>\n"
        '<script data-consent="analytics">window.statsQueue = [];</script>\n'
        "</head><body><h1>{{ title }}</h1>\n"
        '<footer><a href="/_consent/preferences" data-consent-open>Cookie settings</a>'
        "</footer>\n</body></html>"
    )
}

SETTINGS: dict[str, Any] = {
    "DEBUG": False,
    "SECRET_KEY": "django-test-secret-0123456789abcdef",
    "ALLOWED_HOSTS": ["testserver"],
    "ROOT_URLCONF": f"{PACKAGE}.urls",
    "INSTALLED_APPS": ["django.contrib.sessions"],
    "DATABASES": {},
    "USE_TZ": True,
    "MIDDLEWARE": [
        "django.contrib.sessions.middleware.SessionMiddleware",
    ],
    "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies",
    "TEMPLATES": [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {
                "loaders": [("django.template.loaders.locmem.Loader", TEMPLATES_SOURCE)],
            },
        }
    ],
}
