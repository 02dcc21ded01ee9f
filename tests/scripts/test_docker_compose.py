"""docker-compose.yml runs Kiln as several hosts do: two web servers, two workers (each its own hostname and
Celery node name), one beat, PostgreSQL and Redis, every Kiln service on the same database, broker, secret
and blobs, each with a work dir of its own (not on the shared volume)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SHARED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "KILN_STORAGE", "KILN_MEDIA_ROOT")


def _services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def _kiln(services: dict[str, Any]) -> dict[str, Any]:
    return {name: service for name, service in services.items() if service.get("build")}


def test_the_services_of_several_hosts() -> None:
    services = _services()
    assert {"web-1", "web-2", "worker-1", "worker-2", "beat", "postgres", "redis"} <= set(services)
    commands = {name: str(service.get("command", "")) for name, service in services.items()}
    webs = [name for name, command in commands.items() if command.startswith("gunicorn")]
    workers = [name for name, command in commands.items() if " worker " in command]
    beats = [name for name, command in commands.items() if " beat " in command]
    assert (len(webs), len(workers), len(beats)) == (2, 2, 1), commands
    assert all("-n kiln@%h" in commands[name] for name in workers)
    hostnames = [services[name].get("hostname") for name in webs + workers]
    assert None not in hostnames and len(set(hostnames)) == len(hostnames)
    assert len({tuple(services[name].get("ports", ())) for name in webs}) == 2  # each web server on a port of its own


def test_every_kiln_service_shares_database_broker_secret_and_blobs() -> None:
    kiln = _kiln(_services())
    assert len(kiln) >= 5
    for variable in SHARED:
        values = {name: service["environment"].get(variable) for name, service in kiln.items()}
        assert len(set(values.values())) == 1 and None not in values.values(), (variable, values)
    for name, service in kiln.items():
        environment = service["environment"]
        assert "kiln-data:/data" in service["volumes"] and environment["KILN_DATA_DIR"] == "/data", name
        assert environment["KILN_MEDIA_ROOT"].startswith("/data/"), name  # media on the shared volume
        assert not environment["KILN_WORK_DIR"].startswith("/data"), name  # the code cache: each host's own
