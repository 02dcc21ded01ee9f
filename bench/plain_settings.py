"""Kiln's settings with a one-view URLconf: the floor for the HTTP-route figures (same middleware, same server)."""

from console.settings import *  # noqa: F403

ROOT_URLCONF = "bench.plain_urls"
