"""Kiln's Django project: settings, URLs, the Celery app and the web console."""

from console.celery import app as celery_app

__all__ = ["celery_app"]
