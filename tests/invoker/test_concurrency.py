"""Reserved and provisioned concurrency through the REST API, and environments served warm by provisioning."""

from __future__ import annotations

import time

import pytest

from tests.conftest import invoke

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]


def test_concurrency_validation(api, make_function):
    make_function("conc", "echo")
    assert api.get("/api/v1/functions/conc/concurrency/").json() == {"function": "conc", "reserved": None, "provisioned": 0}
    assert api.put("/api/v1/functions/conc/concurrency/", {"reserved": 5}, format="json").json()["reserved"] == 5
    assert api.put("/api/v1/functions/conc/concurrency/", {"provisioned": 6}, format="json").status_code == 400
    assert api.put("/api/v1/functions/conc/concurrency/", {"reserved": -1}, format="json").status_code == 400
    assert api.put("/api/v1/functions/conc/concurrency/", {"reserved": 1001}, format="json").status_code == 400
    assert api.put("/api/v1/functions/conc/concurrency/", {"reserved": 1000}, format="json").status_code == 200
    assert api.put("/api/v1/functions/conc/concurrency/", {"reserved": None}, format="json").json()["reserved"] is None
    assert api.put("/api/v1/functions/conc/concurrency/", {"bogus": 1}, format="json").status_code == 400


def test_reserved_zero_then_restored(api, make_function):
    make_function("gate", "echo")
    api.put("/api/v1/functions/gate/concurrency/", {"reserved": 0}, format="json")
    assert invoke(api, "gate", {}).status_code == 429
    api.put("/api/v1/functions/gate/concurrency/", {"reserved": 2}, format="json")
    assert invoke(api, "gate", {"a": 1}).json() == {"a": 1}


def test_provisioned_environments_are_warm(api, make_function):
    make_function("prov", "env")
    api.put("/api/v1/functions/prov/concurrency/", {"provisioned": 1}, format="json")
    time.sleep(7)  # a worker heartbeat (every 5 s) provisions the environment
    response = invoke(api, "prov")
    env = response.json()
    record = api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"
    assert record["cold_start"] is False and record["init_duration_ms"] is None
    assert "Init Duration" not in record["logs"]


def test_console_shows_each_workers_environments(api, make_function, client, owner):
    make_function("shown-env", "echo")
    assert invoke(api, "shown-env", {}).status_code == 200
    client.force_login(owner)
    deadline = time.time() + 12
    while time.time() < deadline:
        page = client.get("/console/environments/").content.decode()
        if "shown-env" in page:
            break
        time.sleep(0.5)
    assert "shown-env" in page and "Worker " in page and "on-demand" in page
    assert "Workers and execution environments" in client.get("/console/").content.decode()
