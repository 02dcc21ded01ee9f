"""The function form's editor, server side: starter code per runtime, the zip package's files, vendored assets."""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test import Client

from console.forms import STARTERS, runtime_family, starter_for
from console.vendor import vendor_path
from functions.models import Function
from functions.runtimes import available_runtimes
from functions.selectors import CODE_VIEW_MAX_BYTES
from functions.services import Code, FunctionConfig, function_create
from tests.conftest import invoke

ADD_URL = "/console/functions/function/add/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def console(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def form_data(**overrides: object) -> dict:
    data = {"name": "fresh", "description": "", "runtime": "python3.11", "handler": "index.handler", "memory_size": "128",
            "timeout": "3", "ephemeral_storage": "512", "role": "", "_save": "Save"}
    data.update(overrides)
    return data


def starter_rows(family: str) -> dict[str, list[str]]:
    files = STARTERS[family].files
    return {"code_filename": list(files), "code_content": [text.replace("\n", "\r\n") for text in files.values()]}


@pytest.mark.django_db
@pytest.mark.parametrize(("runtime", "family", "handler"), [("nodejs20.x", "nodejs", "index.handler"), ("provided.al2023", "provided", "function.handler"), ("python3.11", "python", "index.handler"),
                                                        ("ruby3.3", "ruby", "lambda_function.lambda_handler"), ("java17", "java", "example.Handler::handleRequest")])
def test_untouched_starter_of_another_runtime_follows_the_runtime(console: Client, runtime: str, family: str, handler: str) -> None:
    # The page was sent with Python's (or Node's) starter as it came, and another runtime chosen: the
    # script that swaps it did not run. The server stores the chosen runtime's starter instead.
    if runtime not in available_runtimes():
        pytest.skip(f"{runtime} is not installed here")
    other = "nodejs" if family == "python" else "python"
    response = console.post(ADD_URL, form_data(runtime=runtime, handler=STARTERS[other].handler, **starter_rows(other)))
    assert response.status_code == 302, response.content.decode()[:2000]
    revision = Function.objects.get(name="fresh").latest
    assert revision.runtime == runtime and revision.handler == handler
    assert revision.inline_files == STARTERS[family].files


@pytest.mark.django_db
def test_edited_code_and_own_handler_are_kept(console: Client) -> None:
    rows = starter_rows("python")
    rows["code_content"] = [rows["code_content"][0] + "# mine\r\n"]
    assert console.post(ADD_URL, form_data(runtime="nodejs20.x", **rows)).status_code == 302
    assert Function.objects.get(name="fresh").latest.inline_files == {"index.py": STARTERS["python"].files["index.py"] + "# mine\n"}
    # An untouched starter with a handler of one's own: the files follow the runtime, the handler stays.
    assert console.post(ADD_URL, form_data(name="own", runtime="nodejs20.x", handler="index.main", **starter_rows("python"))).status_code == 302
    revision = Function.objects.get(name="own").latest
    assert revision.inline_files == STARTERS["nodejs"].files and revision.handler == "index.main"


@pytest.mark.django_db
def test_add_page_starts_with_the_first_runtime_and_carries_every_starter(console: Client) -> None:
    page = console.get(ADD_URL).content.decode()
    first = re.search(r'<select name="runtime"[^>]*>\s*<option value="([^"]+)"', page).group(1)
    family = runtime_family(first)
    assert f'value="{next(iter(STARTERS[family].files))}"' in page
    starters = json.loads(re.search(r'<script id="kiln-starters" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert {k: (v["files"], v["handler"]) for k, v in starters.items()} == {k: (s.files, s.handler) for k, s in STARTERS.items()}
    # The editor's bundle and styles load through {% static %}, by their versioned and hashed names.
    from django.contrib.staticfiles.storage import staticfiles_storage

    for name in (vendor_path("codemirror"), "console/editor.js", "console/editor.css"):
        assert staticfiles_storage.url(name) in page and re.search(r"\.[0-9a-f]{12}\.", staticfiles_storage.url(name)), name


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | (0o755 if name == "bootstrap" else 0o644)) << 16
            archive.writestr(info, data)
        archive.writestr("lib/", b"")
    return buffer.getvalue()


@pytest.fixture
def zipped(db: None) -> Function:
    files = {
        "app.py": b"def handler(event, context):\n    return '<b>hi</b>'\n",
        "lib/util.py": "NAME = 'caf\u00e9'\n".encode(),
        "bootstrap": b"#!/bin/sh\n",
        "data.bin": bytes(range(256)),
        "latin1.txt": "caf\u00e9".encode("latin-1"),
        "big.txt": b"x" * (CODE_VIEW_MAX_BYTES + 1),
    }
    return function_create(name="zipped", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(zip_bytes=_zip(files)))


@pytest.mark.django_db
def test_zip_function_page_lists_the_package(console: Client, zipped: Function) -> None:
    page = console.get(f"/console/functions/function/{zipped.pk}/change/").content.decode()
    listed = re.findall(r'data-zip-file="([^"]+)"', page)
    assert listed == ["app.py", "big.txt", "bootstrap", "data.bin", "latin1.txt", "lib/util.py"]  # files only, sorted
    assert f"/console/functions/function/{zipped.pk}/code/?path=lib/util.py" in page
    assert "(executable)" in page


@pytest.mark.django_db
def test_code_view_answers_text_and_says_why_not(console: Client, zipped: Function) -> None:
    url = f"/console/functions/function/{zipped.pk}/code/"
    response = console.get(url, {"path": "app.py"})
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == b"def handler(event, context):\n    return '<b>hi</b>'\n"
    assert console.get(url, {"path": "lib/util.py"}).content.decode() == "NAME = 'caf\u00e9'\n"
    for path in ("data.bin", "latin1.txt"):
        response = console.get(url, {"path": path})
        assert response.status_code == 415 and b"binary file" in response.content
    response = console.get(url, {"path": "big.txt"})
    assert response.status_code == 413 and response["X-Kiln-File-Size"] == str(CODE_VIEW_MAX_BYTES + 1)
    for path in ("nope.py", "", "lib", "lib/", "../app.py"):
        assert console.get(url, {"path": path}).status_code == 404, path
    assert console.get(f"/console/functions/function/{zipped.pk + 1000}/code/", {"path": "app.py"}).status_code == 404
    assert Client().get(url, {"path": "app.py"}).status_code == 302  # signed in only


def test_vendored_assets_are_in_the_repo() -> None:
    manifest = json.loads((ROOT / "console/static/console/vendor/vendor.json").read_text())
    assert set(manifest) == {"codemirror", "chartjs"}
    for path in manifest.values():
        assert re.search(r"-\d+\.\d+\.\d+\.(umd\.)?min\.js$", path), path
        text = (ROOT / "console/static" / path).read_text()
        assert len(text) > 100_000 and "sourceMappingURL" not in text
    assert "KilnCM" in (ROOT / "console/static" / manifest["codemirror"]).read_text()
    rendered = Template('{% load kiln_static %}{% vendor_static "chartjs" %}').render(Context())
    stem = manifest["chartjs"].removesuffix(".js")
    assert re.fullmatch(rf"/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.js", rendered), rendered


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("runtime", ["python3.11", "nodejs20.x", "ruby3.3", "java17", "provided.al2023"])
def test_each_starter_runs_as_it_comes(api, runtime: str) -> None:
    if runtime not in available_runtimes():
        pytest.skip(f"{runtime} is not installed here")
    starter = starter_for(runtime)
    body = {"name": "starter", "runtime": runtime, "handler": starter.handler, "code": {"files": starter.files}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    response = invoke(api, "starter", {"hello": "kiln"})
    assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
    assert response.json() == {"ok": True, "event": {"hello": "kiln"}}
