"""WSGI entry point (gunicorn ``console.wsgi``).

Static files are collected first if stale (console/staticfiles.py): WhiteNoise indexes ``STATIC_ROOT``
when the middleware is built, so collection must come before ``get_wsgi_application``. Once the URLconf is
loaded (and with it every view module), what the start built is frozen out of the garbage collector's scans
(core/heap.py).
"""

import os

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django.setup(set_prefix=False)

from console.staticfiles import ensure_collected  # noqa: E402  (needs the app registry)

ensure_collected()
application = get_wsgi_application()

from django.urls import get_resolver  # noqa: E402

from core.heap import heap_freeze  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - imports the views now, so they are frozen with the rest
heap_freeze()
