"""The console's admin pages: function and layer forms through the services, roles, history, queries."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from console.admin_site import KilnAdminSite
from functions.code import zip_from_files
from functions.models import Function, FunctionRevision, LayerVersion
from functions.services import Code, FunctionConfig, function_create, layer_version_publish
from iam.models import Role
from invoker.models import Invocation, InvocationStatus, Trigger

PY = "def handler(event, context):\n    return event\n"
ADD_URL = "/console/functions/function/add/"


@pytest.fixture
def console(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def form_data(**overrides: object) -> dict:
    data = {
        "name": "hello",
        "description": "says hello",
        "runtime": "python3.11",
        "handler": "index.handler",
        "memory_size": "256",
        "timeout": "5",
        "ephemeral_storage": "512",
        "network": "outbound",
        "code_filename": ["index.py"],
        "code_content": [PY.replace("\n", "\r\n")],
        "env_key": ["GREETING", ""],
        "env_value": ["hi there", ""],
        "role": "",
        "_save": "Save",
    }
    data.update(overrides)
    return data


def make(name: str, **config: object) -> Function:
    return function_create(name=name, config=FunctionConfig(runtime="python3.11", handler="index.handler", **config), code=Code(files={"index.py": PY}))


def test_site_is_kiln_and_default(console: Client) -> None:
    assert isinstance(admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site, KilnAdminSite)
    response = console.get("/console/")
    assert response.status_code == 200
    assert b"Kiln" in response.content
    assert b"Functions" in response.content and b"Invocations" in response.content and b"Roles" in response.content


@pytest.mark.django_db
def test_login_required() -> None:
    response = Client().get("/console/functions/function/")
    assert response.status_code == 302 and "/console/login/" in response["Location"]


@pytest.mark.django_db
def test_add_form_creates_function_and_revision(console: Client) -> None:
    role = Role.objects.create(name="runner")
    response = console.post(ADD_URL, form_data(role=str(role.pk)))
    assert response.status_code == 302, response.content.decode()[:3000]
    function = Function.objects.get(name="hello")
    revision = function.latest
    assert revision.number == 1
    assert function.description == "says hello"
    assert (revision.runtime, revision.handler, revision.memory_size, revision.timeout) == ("python3.11", "index.handler", 256, 5)
    assert revision.inline_files == {"index.py": PY}  # CRLF from the browser normalised
    assert revision.environment == {"GREETING": "hi there"}
    assert revision.role == role


@pytest.mark.django_db
def test_change_form_writes_revision_only_when_something_changed(console: Client) -> None:
    function = make("hello", memory_size=256, timeout=5, environment={"GREETING": "hi there"})
    url = f"/console/functions/function/{function.pk}/change/"
    page = console.get(url)
    assert page.status_code == 200
    assert b"GREETING" in page.content and b"def handler" in page.content and b'name="name"' not in page.content
    data = form_data(description="")
    del data["name"]
    assert console.post(url, data).status_code == 302
    assert FunctionRevision.objects.filter(function=function).count() == 1  # a no-op save
    assert console.post(url, {**data, "memory_size": "512", "code_content": ["def handler(e, c):\n    return 2\n"]}).status_code == 302
    function.refresh_from_db()
    assert function.latest.number == 2 and function.latest.memory_size == 512
    assert function.latest.inline_files == {"index.py": "def handler(e, c):\n    return 2\n"}


@pytest.mark.django_db
def test_memory_below_limit_shows_service_error_and_stores_nothing(console: Client) -> None:
    response = console.post(ADD_URL, form_data(memory_size="127"))
    assert response.status_code == 200
    assert "memory_size must be between 128 and 10240 MB; got 127." in response.content.decode()
    assert not Function.objects.exists() and not FunctionRevision.objects.exists()


@pytest.mark.django_db
def test_limit_error_on_change_keeps_revision(console: Client) -> None:
    function = make("hello")
    data = form_data(timeout="901")
    del data["name"]
    response = console.post(f"/console/functions/function/{function.pk}/change/", data)
    assert response.status_code == 200
    assert "timeout must be between 1 and 900 seconds; got 901." in response.content.decode()
    assert FunctionRevision.objects.filter(function=function).count() == 1


@pytest.mark.django_db
def test_reserved_environment_variable_and_missing_code(console: Client) -> None:
    response = console.post(ADD_URL, form_data(env_key=["AWS_REGION"], env_value=["x"]))
    assert "Environment variable AWS_REGION is reserved" in response.content.decode()
    response = console.post(ADD_URL, form_data(code_filename=[""], code_content=[""]))
    assert "Give the function some code" in response.content.decode()
    assert not Function.objects.exists()


@pytest.mark.django_db
def test_zip_upload_replaces_inline_code(console: Client) -> None:
    upload = SimpleUploadedFile("code.zip", zip_from_files({"app.py": PY}), content_type="application/zip")
    response = console.post(ADD_URL, form_data(handler="app.handler", code_zip=upload))
    assert response.status_code == 302
    revision = Function.objects.get(name="hello").latest
    assert revision.inline_files is None and revision.code_size > 0


def publish(name: str) -> LayerVersion:
    return layer_version_publish(name=name, zip_bytes=zip_from_files({f"python/{name}.py": "VALUE = 1\n"}))


@pytest.mark.django_db
def test_layers_keep_the_chosen_order_and_the_limit(console: Client) -> None:
    layers = [publish(f"layer{i}") for i in range(6)]
    response = console.post(ADD_URL, form_data(layer=[str(layers[2].pk), str(layers[0].pk)]))
    assert response.status_code == 302
    assert [lv.pk for lv in Function.objects.get(name="hello").latest.ordered_layers()] == [layers[2].pk, layers[0].pk]
    response = console.post(ADD_URL, form_data(name="six", layer=[str(lv.pk) for lv in layers]))
    assert response.status_code == 200
    assert "A function may use at most 5 layers; got 6." in response.content.decode()


@pytest.mark.django_db
def test_layer_publish_pages(console: Client) -> None:
    upload = SimpleUploadedFile("layer.zip", zip_from_files({"python/util.py": "X = 1\n"}), content_type="application/zip")
    response = console.post("/console/functions/layer/add/", {"name": "util", "zip_file": upload, "description": "first", "compatible_runtimes": ["python3.11"]})
    assert response.status_code == 302
    version = LayerVersion.objects.get(layer__name="util")
    assert (version.version, version.description, version.compatible_runtimes) == (1, "first", ["python3.11"])
    page = console.get(response["Location"])
    assert b"arn:aws:lambda:" in page.content and b"Publish a new version" in page.content
    upload = SimpleUploadedFile("layer.zip", zip_from_files({"python/util.py": "X = 2\n"}), content_type="application/zip")
    assert console.post(response["Location"], {"zip_file": upload, "description": "second"}).status_code == 302
    assert list(LayerVersion.objects.filter(layer__name="util").values_list("version", flat=True)) == [2, 1]
    listing = console.get("/console/functions/layer/")
    assert b"2, 1" in listing.content
    bad = SimpleUploadedFile("layer.zip", b"not a zip", content_type="application/zip")
    response = console.post("/console/functions/layer/add/", {"name": "broken", "zip_file": bad})
    assert response.status_code == 200 and b"errornote" in response.content
    assert not LayerVersion.objects.filter(layer__name="broken").exists()


@pytest.mark.django_db
def test_role_policy_validation(console: Client) -> None:
    url = "/console/iam/role/add/"
    response = console.post(url, {"name": "r1", "description": "", "policy_document": "{not json"})
    assert response.status_code == 200
    assert "Policy document is not valid JSON" in response.content.decode()
    bad_effect = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]})
    response = console.post(url, {"name": "r1", "description": "", "policy_document": bad_effect})
    assert "Statement[0].Effect must be &quot;Allow&quot; or &quot;Deny&quot;." in response.content.decode()
    assert not Role.objects.exists()
    good = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
    assert console.post(url, {"name": "r1", "description": "reads", "policy_document": json.dumps(good)}).status_code == 302
    role = Role.objects.get(name="r1")
    assert role.policy_document == good and role.description == "reads"
    change = f"/console/iam/role/{role.pk}/change/"
    assert b"s3:GetObject" in console.get(change).content
    response = console.post(change, {"description": "reads", "policy_document": '{"Version": "2012-10-17"}'})
    assert 'Policy &quot;Statement&quot; must be a non-empty list of statements.' in response.content.decode()
    role.refresh_from_db()
    assert role.policy_document == good


@pytest.mark.django_db
def test_role_in_use_cannot_be_deleted(console: Client) -> None:
    role = Role.objects.create(name="busy")
    make("user", role="busy")
    response = console.post(f"/console/iam/role/{role.pk}/delete/", {"post": "yes"}, follow=True)
    assert "is used by function(s) user" in response.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()


def make_invocation(function: Function | None, name: str = "hello", **fields: object) -> Invocation:
    defaults = {"function": function, "function_name": name, "revision": function.latest if function else None, "trigger": Trigger.API,
                "status": InvocationStatus.SUCCEEDED, "payload": '{"a": 1}', "result": '{"ok": true}', "logs": "START RequestId: x\nhello <b>\nEND RequestId: x\n",
                "duration_ms": 12.5, "billed_duration_ms": 13}
    return Invocation.objects.create(**{**defaults, **fields})


@pytest.mark.django_db
def test_invocation_admin_is_read_only(console: Client) -> None:
    invocation = make_invocation(make("hello"))
    base = "/console/invoker/invocation/"
    listing = console.get(base)
    assert listing.status_code == 200 and str(invocation.pk).encode() in listing.content
    assert b"Add invocation" not in listing.content
    assert console.get(base + "add/").status_code == 403
    detail = console.get(f"{base}{invocation.pk}/change/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "hello &lt;b&gt;" in body and '<pre class="kiln-pre">' in body and "&quot;ok&quot;: true" in body
    before = Invocation.objects.values().get(pk=invocation.pk)
    assert console.post(f"{base}{invocation.pk}/change/", {"status": "failed"}).status_code == 403
    assert console.post(f"{base}{invocation.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Invocation.objects.values().get(pk=invocation.pk) == before
    assert console.get(f"{base}{uuid.uuid4()}/change/").status_code == 302  # missing: back to the list
    filtered = console.get(base, {"status__exact": "failed"})
    assert str(invocation.pk).encode() not in filtered.content


@pytest.mark.django_db
def test_changelists_have_bounded_queries(console: Client, django_assert_max_num_queries) -> None:
    for i in range(12):
        function = make(f"fn{i}")
        make_invocation(function, name=function.name, status=InvocationStatus.FAILED)
        make_invocation(function, name=function.name)
    with django_assert_max_num_queries(6):
        response = console.get("/console/functions/function/")
    assert response.status_code == 200
    assert response.content.count(b"succeeded") == 12  # the newest invocation's status, per function
    assert b"/test/" in response.content
    with django_assert_max_num_queries(6):
        assert console.get("/console/invoker/invocation/").status_code == 200
    with django_assert_max_num_queries(6):
        assert console.get("/console/functions/function/", {"q": "fn1"}).status_code == 200


@pytest.mark.django_db
def test_test_page_and_invalid_event(console: Client) -> None:
    function = make("hello")
    page = console.get(f"/console/functions/function/{function.pk}/test/")
    assert page.status_code == 200 and b'id="invoke"' in page.content and re.search(rb"console/test\.[0-9a-f]{12}\.js", page.content)
    response = console.post(f"/console/functions/function/{function.pk}/invoke/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContentException"
    assert "Could not parse request body into json" in response.json()["error"]["message"]
    assert not Invocation.objects.exists()
    assert console.get(f"/console/functions/function/{function.pk}/invoke/").status_code == 405


@pytest.mark.django_db
def test_invoke_endpoint_requires_csrf(owner) -> None:
    function = make("hello")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(f"/console/functions/function/{function.pk}/invoke/", data="{}", content_type="application/json")
    assert response.status_code == 403
    assert not Invocation.objects.exists()


@pytest.mark.django_db
def test_delete_function_through_console(console: Client) -> None:
    function = make("gone")
    make_invocation(function, name="gone")
    response = console.post(f"/console/functions/function/{function.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Function.objects.filter(name="gone").exists()
    assert Invocation.objects.get(function_name="gone").function_id is None


def test_history_search_by_request_id_or_its_prefix(console: Client) -> None:
    from invoker.models import Invocation

    first = Invocation.objects.create(function_name="alpha", payload="{}")
    Invocation.objects.create(function_name="beta", payload="{}")

    def found(term: str) -> list[str]:
        return [row.function_name for row in console.get("/console/invoker/invocation/", {"q": term}).context_data["cl"].result_list]

    assert found(str(first.pk)) == ["alpha"]
    assert found(str(first.pk)[:8]) == ["alpha"]
    assert found(str(first.pk)[:8].upper()) == ["alpha"]
    assert found("beta") == ["beta"]


def test_network_mode_is_chosen_on_the_form_and_kept(console: Client) -> None:
    response = console.post(ADD_URL, form_data(network="none"))
    assert response.status_code == 302, response.content.decode()[:3000]
    function = Function.objects.get(name="hello")
    assert function.latest.network == "none"
    page = console.get(f"/console/functions/function/{function.pk}/change/").content.decode()
    assert re.search(r'<option value="none" selected>', page)
    assert b"is not one of the available choices" in console.post(ADD_URL, form_data(name="other", network="internet")).content


def test_dashboard_reads_the_roll_ups_not_history(console: Client) -> None:
    from django.utils import timezone

    from metrics.models import MetricMinute

    make("busy")
    # The session's Celery worker writes its roll-ups up to a second after its runs: an earlier test's may have
    # landed after that test's database flush.
    MetricMinute.objects.all().delete()
    now = timezone.now().replace(second=0, microsecond=0)
    MetricMinute.objects.create(minute=now, function_name="", invocations=7, errors=2, throttles=1, init_count=3)
    MetricMinute.objects.create(minute=now, function_name="busy", invocations=7, errors=2)
    MetricMinute.objects.create(minute=now - timezone.timedelta(days=2), function_name="", invocations=100)  # outside 24 h
    context = console.get("/console/").context_data
    activity = context["activity"]
    assert (activity.invocations, activity.errors, activity.throttles, activity.cold_starts) == (7, 2, 1, 3)
    assert [(b["function_name"], b["invocations"], b["errors"], b["function_id"] is not None) for b in context["busiest"]] == [("busy", 7, 2, True)]
