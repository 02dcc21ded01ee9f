"""WSGI entry of the plain-view floor (``bench.plain_settings``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.plain_settings"
application = get_wsgi_application()
