"""WSGI entry point (gunicorn ``console.wsgi``).

Static files are collected first if stale (console/staticfiles.py): WhiteNoise indexes ``STATIC_ROOT``
when the middleware is built, so collection must come before ``get_wsgi_application``.
"""

import os

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django.setup(set_prefix=False)

from console.staticfiles import ensure_collected  # noqa: E402  (needs the app registry)

ensure_collected()
application = get_wsgi_application()
