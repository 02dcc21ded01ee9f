"""The ruby3.3 runtime on the host's Ruby: Lambda's handler forms, context, gems, layers, prewarming.

Lambda's Ruby runtime calls ``file.method`` (a top-level method) or ``file.Module::Class.method`` with
``event:`` and ``context:`` keyword arguments, puts ``vendor/bundle`` and the layers' ``ruby/gems`` on
``GEM_PATH`` and the layers' ``ruby/lib`` on the load path. Errors are in tests/invoker/test_invoke_outcomes.py.
"""

from __future__ import annotations

import time

import pytest

from functions.runtimes import runtime_info
from tests.conftest import invoke
from tests.handlers import zip_base64 as _zip

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
    pytest.mark.skipif(runtime_info("ruby3.3") is None, reason="needs the host's ruby; .ci/run installs it"),
]


def record(api, response) -> dict:
    return api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()


def _abi() -> str:
    """The host Ruby's gem directory name: ``3.1.0`` for Ruby 3.1.x."""
    info = runtime_info("ruby3.3")
    assert info is not None
    return ".".join(info.version.split(".")[:2]) + ".0"


def _gem(prefix: str, name: str, value: str) -> dict[str, str]:
    """A pure-Ruby gem installed under ``prefix`` as ``bundle install --path`` / ``gem install -i`` lay it out."""
    spec = (f"Gem::Specification.new do |s|\n  s.name = {name!r}\n  s.version = '1.2.3'\n  s.summary = 'test gem'\n  s.authors = ['kiln']\n"
            f"  s.files = ['lib/{name}.rb']\n  s.require_paths = ['lib']\nend\n")
    return {f"{prefix}/specifications/{name}-1.2.3.gemspec": spec, f"{prefix}/gems/{name}-1.2.3/lib/{name}.rb": f"module {name.capitalize()}\n  VALUE = {value!r}\nend\n"}


def test_the_lambda_console_example_runs_unmodified(api, make_function):
    make_function("rb-hello", "hello", runtime="ruby3.3")
    response = invoke(api, "rb-hello", {"key": "value"})
    assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
    assert response.json() == {"statusCode": 200, "body": '"Hello from Lambda!"'}
    assert 'Event: {"key"=>"value"}' in record(api, response)["logs"]


def test_class_method_handler(api, make_function):
    make_function("rb-class", "klass", runtime="ruby3.3")
    assert invoke(api, "rb-class", {"name": "ada"}).json() == {"greeted": "ada", "by": "Kiln::Greeter"}


def test_context_has_lambdas_ruby_methods(api, make_function):
    make_function("rb-context", "context", runtime="ruby3.3", memory_size=256)
    response = invoke(api, "rb-context", {})
    body = response.json()
    assert body["aws_request_id"] == response["X-Kiln-Request-Id"]
    assert body["function_name"] == "rb-context" and body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"].endswith(":function:rb-context")
    assert body["memory_limit_in_mb"] == "256" and body["log_group_name"] == "/aws/lambda/rb-context"
    assert body["log_stream_name"] and body["deadline_ms"] > time.time() * 1000
    assert 0 < body["remaining"] <= 3000


def test_a_missing_file_is_lambdas_init_load_error(api):
    body = {"name": "rb-nofile", "runtime": "ruby3.3", "handler": "missing.handler", "code": {"files": {"index.rb": "X = 1\n"}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    response = invoke(api, "rb-nofile")
    assert response["X-Kiln-Function-Error"] == "Unhandled"
    assert response.json()["errorType"] == "Init<LoadError>" and "cannot load such file -- missing" in response.json()["errorMessage"]
    assert "Init error when loading handler missing.handler" in record(api, response)["logs"]


def test_an_exception_at_init_is_an_init_error_in_lambdas_form(api):
    body = {"name": "rb-initraise", "runtime": "ruby3.3", "handler": "index.handler",
            "code": {"files": {"index.rb": "raise IOError, 'no config'\ndef handler(event:, context:) = 1\n"}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    error = invoke(api, "rb-initraise").json()
    assert error["errorType"] == "Init<IOError>" and error["errorMessage"] == "no config"
    assert error["stackTrace"][0].startswith("/var/task/index.rb:1")


def test_a_missing_class_method_is_handler_not_found(api, make_function):
    body = {"name": "rb-noclass", "runtime": "ruby3.3", "handler": "index.Kiln::Nothing.greet", "code": {"files": {"index.rb": "module Kiln; end\n"}}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    assert invoke(api, "rb-noclass").json()["errorType"] == "Runtime.HandlerNotFound"


def test_vendor_bundle_gems_layer_gems_and_layer_libs(api):
    abi = _abi()
    layer_files = {"ruby/lib/kiln_layer_lib.rb": "KILN_LAYER_LIB = 'from /opt/ruby/lib'\n", **_gem(f"ruby/gems/{abi}", "layergem", "from /opt/ruby/gems")}
    layer = api.post("/api/v1/layers/", {"name": "rubylib", "zip_base64": _zip(layer_files)}, format="json")
    assert layer.status_code == 201, layer.content
    code = {
        "index.rb": ("require 'vendorgem'\nrequire 'layergem'\nrequire 'kiln_layer_lib'\n\n"
                     "def handler(event:, context:)\n  { vendor: Vendorgem::VALUE, layer_gem: Layergem::VALUE, layer_lib: KILN_LAYER_LIB,\n"
                     "    loaded: Gem.loaded_specs.keys.sort & %w[layergem vendorgem], gem_path: ENV['GEM_PATH'] }\nend\n"),
        **_gem(f"vendor/bundle/ruby/{abi}", "vendorgem", "from vendor/bundle"),
    }
    body = {"name": "rb-gems", "runtime": "ruby3.3", "handler": "index.handler", "layers": [layer.json()["arn"]], "code": {"zip_base64": _zip(code)}}
    assert api.post("/api/v1/functions/", body, format="json").status_code == 201
    result = invoke(api, "rb-gems").json()
    assert result["vendor"] == "from vendor/bundle" and result["layer_gem"] == "from /opt/ruby/gems" and result["layer_lib"] == "from /opt/ruby/lib", result
    assert result["loaded"] == ["layergem", "vendorgem"]
    assert result["gem_path"].startswith(f"/var/task/vendor/bundle/ruby/{abi}:")


def test_the_host_rubys_version_is_reported(api):
    listed = {r["identifier"]: r for r in api.get("/api/v1/runtimes/").json()["runtimes"]}
    info = runtime_info("ruby3.3")
    assert info is not None
    assert listed["ruby3.3"] == {"identifier": "ruby3.3", "family": "ruby", "version": info.version, "installed": True}
    assert info.version.count(".") == 2  # e.g. 3.1.2: the interpreter's own, not Lambda's name


def environments(client) -> list[dict]:
    return [env for worker in client.get("/healthz").json()["checks"]["workers"].get("details", []) for env in worker["environments"]]


def test_second_cold_start_takes_a_prewarmed_ruby_with_its_own_memory_and_environment(api, make_function):
    make_function("rb-kind-a", "echo", runtime="ruby3.3", memory_size=384)
    assert invoke(api, "rb-kind-a", {"a": 1}).json() == {"a": 1}
    time.sleep(2)  # meanwhile the worker starts a Ruby runtime of this kind ahead of need
    make_function("rb-kind-b", "env", runtime="ruby3.3", memory_size=384, environment={"ONLY_B": "yes"})
    response = invoke(api, "rb-kind-b")
    env = response.json()
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "rb-kind-b" and env["ONLY_B"] == "yes" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "384"
    assert env["GEM_PATH"].startswith("/var/task/vendor/bundle/ruby/") and "KILN_RUNTIME_FD" not in env and "DATABASE_URL" not in env
    assert record(api, response)["cold_start"] is True
    deadline = time.time() + 12
    mine: list[dict] = []
    while time.time() < deadline and not mine:
        mine = [e for e in environments(api) if e["function"] == "rb-kind-b"]
        time.sleep(0.3)
    assert mine and mine[0]["prewarmed"] is True
