"""Personas in the console: every model's pages, generated from the admin site's registry, and the console's own
pages, for an administrator, a developer, a viewer and an outsider; a viewer's read-only function page without
secrets; changelists' query counts flat."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.personas import PASSWORD, assert_queries_flat, persona_user

# The contract, written out here rather than read from iam/personas.py: what a developer works on.
DEVELOPER_APPS = {"functions", "invoker", "httpapi", "storage", "queues", "tables", "topics", "logs", "events", "buses", "metrics"}
READ_ONLY = {"iam.role"}
SITE_PAGES = ["admin:environments", "admin:usage", "admin:policy_simulator", "admin:security_credentials"]


def registered_models() -> list[Any]:
    return [model for model in apps.get_models() if admin.site.is_registered(model)]


def _client(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def may_read(persona: str, label: str) -> bool:
    if persona == "admin":
        return True
    if persona in ("developer", "viewer"):
        return label.split(".")[0] in DEVELOPER_APPS or label in READ_ONLY
    return False


def may_add(persona: str, label: str) -> bool:
    return persona == "admin" or (persona == "developer" and label.split(".")[0] in DEVELOPER_APPS)


@pytest.fixture
def logins(db: None, owner: Any) -> dict[str, Client]:
    clients = {name: _client(persona_user(name)) for name in ("admin", "developer", "viewer", "outsider")}
    clients["superuser"] = _client(owner)
    return clients


def test_the_registry_yields_every_section() -> None:
    labels = {m._meta.label_lower for m in registered_models()}
    assert {"functions.function", "iam.role", "invoker.invocation", "storage.bucket", "tables.table", "auth.user", "auth.group"} <= labels


@pytest.mark.parametrize("persona", ["admin", "developer", "viewer", "outsider"])
def test_each_persona_sees_exactly_its_pages(persona: str, logins: dict[str, Client]) -> None:
    client, superuser = logins[persona], logins["superuser"]
    wrong = []
    for model in registered_models():
        label, opts = model._meta.label_lower, model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        status = client.get(changelist).status_code
        if status != (200 if may_read(persona, label) else 403):
            wrong.append(f"{changelist}: {status}, reading {'allowed' if may_read(persona, label) else 'refused'}")
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        if superuser.get(add).status_code != 200:
            continue  # nobody adds these in the console (invocations, messages, deliveries...)
        status = client.get(add).status_code
        if status != (200 if may_add(persona, label) else 403):
            wrong.append(f"{add}: {status}, adding {'allowed' if may_add(persona, label) else 'refused'}")
    for name in SITE_PAGES:
        status = client.get(reverse(name)).status_code
        if status != (403 if persona == "outsider" else 200):
            wrong.append(f"{reverse(name)}: {status}")
    assert not wrong, "\n".join(wrong)


def test_an_outsider_signs_in_to_an_empty_console(logins: dict[str, Client]) -> None:
    page = logins["outsider"].get("/console/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="kd-no-access"' in html and "Developers" in html and "kd-failures" not in html


def test_a_login_in_no_group_and_not_staff_is_sent_to_sign_in(db: None) -> None:
    client = Client()
    user = persona_user("outsider", staff=False)
    client.login(username=user.username, password=PASSWORD)
    response = client.get("/console/")
    assert response.status_code == 302 and "/console/login/" in response["Location"]
    # a persona is enough to use the console, without the staff flag: through the sign-in form too
    persona_user("viewer", staff=False)
    form = Client().post("/console/login/?next=/console/", {"username": "viewer-login", "password": PASSWORD, "next": "/console/"})
    assert form.status_code == 302 and form["Location"] == "/console/"
    refused = Client().post("/console/login/?next=/console/", {"username": user.username, "password": PASSWORD, "next": "/console/"})
    assert refused.status_code == 200 and "staff account" in refused.content.decode()


@pytest.fixture
def secret_function(db: None, make_function: Any) -> str:
    from functions.models import Function

    make_function("with-secret", environment={"DB_PASSWORD": "hunter2-planted"})
    return reverse("admin:functions_function_change", args=[Function.objects.get(name="with-secret").pk])


def test_a_viewer_reads_a_function_without_its_secrets_and_cannot_save(secret_function: str, logins: dict[str, Client]) -> None:
    viewer = logins["viewer"]
    page = viewer.get(secret_function)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="read-only-note"' in html and "hunter2-planted" not in html and "DB_PASSWORD" in html
    assert '<fieldset class="kiln-plain" disabled>' in html and 'name="_save"' not in html
    assert viewer.post(secret_function, {"runtime": "python3.11"}).status_code == 403
    assert viewer.get(secret_function.replace("/change/", "/test/")).status_code == 403
    invoke = viewer.post(secret_function.replace("/change/", "/invoke/"), data="{}", content_type="application/json")
    assert invoke.status_code == 403 and invoke.json()["error"]["code"] == "AccessDeniedException"
    assert "Test</a>" not in viewer.get(reverse("admin:functions_function_changelist")).content.decode()


def test_a_developer_edits_with_values_masked_until_shown(secret_function: str, logins: dict[str, Client]) -> None:
    page = logins["developer"].get(secret_function).content.decode()
    assert 'type="password" name="env_value" value="hunter2-planted"' in page and "data-reveal" in page and 'name="_save"' in page
    assert logins["developer"].get(secret_function.replace("/change/", "/test/")).status_code == 200


def test_a_bucket_is_browsed_only_with_the_permission_to_see_it(db: None, api: Any, logins: dict[str, Client]) -> None:
    assert api.post("/api/v1/buckets/", {"name": "browsed"}, format="json").status_code == 201
    page = reverse("admin:storage_bucket_browse", args=["browsed"])
    assert logins["viewer"].get(page).status_code == 200
    assert logins["outsider"].get(page).status_code == 403


@pytest.mark.parametrize("section", ["functions_function", "storage_bucket", "iam_role", "functions_layer"])
def test_changelists_do_not_query_per_row(db: None, api: Any, make_function: Any, logins: dict[str, Client], section: str) -> None:
    kinds = {"functions_function": "function", "storage_bucket": "bucket", "iam_role": "role", "functions_layer": "layer"}

    client = logins["viewer"] if section != "functions_layer" else logins["developer"]
    assert_queries_flat(client, reverse(f"admin:{section}_changelist"), api, make_function, kinds[section])
