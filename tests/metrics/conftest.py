"""Metrics tests write each run at once unless they test the buffer (the worker keeps the default)."""

import pytest


@pytest.fixture(autouse=True)
def _write_through(settings):
    settings.KILN_METRICS_FLUSH_SECONDS = 0
