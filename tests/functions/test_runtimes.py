"""``GET /api/v1/runtimes/``: every runtime Kiln knows, installed here or not and why; creating a function
on one that is not installed says why."""

from __future__ import annotations

import pytest

from functions.models import Runtime
from functions.runtimes import available_runtimes, known_runtimes
from tests.functions.test_api_limits import assert_error, create

pytestmark = pytest.mark.django_db


def test_every_known_runtime_is_listed_installed_or_with_the_reason(api):
    listed = api.get("/api/v1/runtimes/").json()["runtimes"]
    assert [r["identifier"] for r in listed] == list(Runtime.values)
    for item in listed:
        assert {"identifier", "family", "version", "installed"} <= set(item)
        assert item["installed"] == (item["identifier"] in available_runtimes())
        if item["installed"]:
            assert "reason" not in item and item["version"]
        else:
            assert item["reason"] and item["version"] == ""
    by_id = {r["identifier"]: r for r in listed}
    assert by_id["provided.al2023"] == {"identifier": "provided.al2023", "family": "provided", "version": "al2023", "installed": True}
    assert by_id["dotnet8"]["installed"] is False and by_id["dotnet8"]["family"] == "dotnet"
    assert "no .NET SDK on this host" in by_id["dotnet8"]["reason"] and "provided.al2023" in by_id["dotnet8"]["reason"]
    if not by_id["python3.13"]["installed"]:
        assert by_id["python3.13"]["reason"].startswith("no python3.13 interpreter found")


def test_a_known_runtime_not_installed_is_refused_with_the_reason(api):
    assert_error(create(api, runtime="dotnet8", handler="Assembly::Namespace.Function::Handler"), 400, text="Runtime dotnet8 is not installed on this host: no .NET SDK")
    for identifier, status in known_runtimes().items():
        if not status.installed and identifier != "dotnet8":
            assert_error(create(api, runtime=identifier), 400, text=status.reason)


def test_an_unknown_runtime_is_refused_naming_the_known_ones(api):
    assert_error(create(api, runtime="go1.x"), 400, text="'go1.x' is not one of: python3.11")
    assert_error(create(api, runtime=["python3.11"]), 400, text="Runtime must be one of")
