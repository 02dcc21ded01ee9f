"""The java17 runtime: Lambda's Java handler forms, POJO input and output, compiled jars, memory, prewarming.

Functions here are compiled against Kiln's copy of the ``com.amazonaws.services.lambda.runtime`` interfaces
(what a jar built against aws-lambda-java-core links to), zipped as Lambda takes them (classes at the root,
libraries under ``lib/``), or given as sources, which Kiln compiles at init. Errors, timeouts and exits are
in tests/invoker/test_invoke_outcomes.py.
"""

from __future__ import annotations

import base64
import io
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from functions.runtimes import runtime_info
from invoker.javabuild import bootstrap_jar
from tests.conftest import invoke
from tests.handlers import JAVA

JAVA17 = runtime_info("java17")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
    pytest.mark.skipif(JAVA17 is None, reason="needs a JDK 17; .ci/run installs default-jdk-headless"),
]

POJO = """package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import greeting.Greeting;
import java.util.List;

public class Orders implements RequestHandler<Orders.Order, Orders.Receipt> {
    public static class Order {
        private String customer;
        private List<Integer> quantities;
        public boolean gift;
        public String getCustomer() { return customer; }
        public void setCustomer(String customer) { this.customer = customer; }
        public List<Integer> getQuantities() { return quantities; }
        public void setQuantities(List<Integer> quantities) { this.quantities = quantities; }
    }

    public static class Receipt {
        private final String message;
        private final int total;
        private final boolean gift;
        Receipt(String message, int total, boolean gift) { this.message = message; this.total = total; this.gift = gift; }
        public String getMessage() { return message; }
        public int getTotal() { return total; }
        public boolean isGift() { return gift; }
    }

    @Override
    public Receipt handleRequest(Order order, Context context) {
        context.getLogger().log("order from " + order.getCustomer());
        return new Receipt(Greeting.hello(order.getCustomer()), order.getQuantities().stream().mapToInt(Integer::intValue).sum(), order.gift);
    }
}
"""

STREAM = """package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

public class Upper implements RequestStreamHandler {
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        String event = new String(input.readAllBytes(), StandardCharsets.UTF_8);
        output.write(("{\\"upper\\":" + event.toUpperCase() + ",\\"id\\":\\"" + context.getAwsRequestId() + "\\"}").getBytes(StandardCharsets.UTF_8));
    }
}
"""

STATIC = """package example;

import java.util.Map;

public class Plain {
    public static String shout(Map<String, String> event) {
        return event.get("word").toUpperCase() + "!";
    }
}
"""

LOADED = """package example;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Map;

public class Loaded {
    public static String read(Map<String, Object> event) throws Exception {
        return new String(Files.readAllBytes(Paths.get("/tmp/classes.log")));
    }
}
"""

BUNDLED = """package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

public class Bundled implements RequestHandler<Map<String, Object>, String> {
    @Override
    public String handleRequest(Map<String, Object> event, Context context) {
        return LambdaRuntime.origin() + " " + context.getFunctionName();
    }
}
"""

# A class of aws-lambda-java-core's package that Kiln's copy lacks, as a fat jar bundling the library carries it.
LAMBDA_RUNTIME = "package com.amazonaws.services.lambda.runtime;\n\npublic final class LambdaRuntime {\n    public static String origin() {\n        return \"bundled\";\n    }\n}\n"

GREETING = "package greeting;\n\npublic class Greeting {\n    public static String hello(String name) {\n        return \"Hello, \" + name + \"!\";\n    }\n}\n"


def _compile(root: Path, sources: dict[str, str], classpath: list[Path]) -> Path:
    """Compile ``sources`` with the host's javac against ``classpath``; the classes directory."""
    assert JAVA17 is not None
    for name, text in sources.items():
        (root / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "src" / name).write_text(text)
    out = root / "classes"
    javac = Path(JAVA17.executable).with_name("javac")
    built = subprocess.run([str(javac), "--release", "17", "-d", str(out), "-cp", ":".join(map(str, classpath)), *[str(root / "src" / n) for n in sources]],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    return out


def _zip_tree(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _classes(directory: Path, prefix: str = "") -> dict[str, bytes]:
    return {prefix + str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*.class")}


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, str]:
    """Lambda-style packages, base64: classes at the root and a library jar under ``lib/``."""
    assert JAVA17 is not None
    runtime = bootstrap_jar(JAVA17.executable)  # the interfaces, as aws-lambda-java-core provides them
    library = _compile(tmp_path_factory.mktemp("lib"), {"greeting/Greeting.java": GREETING}, [])
    jar = _zip_tree({"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n", **_classes(library)})
    handlers = _compile(tmp_path_factory.mktemp("fn"), {"example/Orders.java": POJO, "example/Upper.java": STREAM, "example/Plain.java": STATIC,
                                                        "example/Loaded.java": LOADED}, [runtime, library])
    # A fat jar's layout: the function with its own copy of aws-lambda-java-core's classes, one Kiln does not ship.
    core = _compile(tmp_path_factory.mktemp("core"), {"com/amazonaws/services/lambda/runtime/LambdaRuntime.java": LAMBDA_RUNTIME}, [])
    bundled = _compile(tmp_path_factory.mktemp("bundled"), {"example/Bundled.java": BUNDLED}, [runtime, core])
    with zipfile.ZipFile(runtime) as kiln_jar:
        interfaces = {n: kiln_jar.read(n) for n in kiln_jar.namelist() if n.startswith("com/amazonaws/services/lambda/runtime/")}
    return {"zip": base64.b64encode(_zip_tree({**_classes(handlers), "lib/greeting.jar": jar})).decode(),
            "library": base64.b64encode(_zip_tree({"java/lib/greeting.jar": jar})).decode(),
            "fat": base64.b64encode(_zip_tree({**interfaces, **_classes(core), **_classes(bundled)})).decode()}


def record(api, response) -> dict:
    return api.get(f"/api/v1/invocations/{response['X-Kiln-Request-Id']}/").json()


def create(api, name: str, handler: str, code: dict, **config) -> None:
    response = api.post("/api/v1/functions/", {"name": name, "runtime": "java17", "handler": handler, "code": code, "timeout": 20, **config}, format="json")
    assert response.status_code == 201, response.content


def test_a_compiled_request_handler_takes_and_gives_pojos(api, packages):
    create(api, "java-orders", "example.Orders", {"zip_base64": packages["zip"]})
    response = invoke(api, "java-orders", {"Customer": "Ada", "quantities": [1, 2, 3], "gift": True, "unknown": {"ignored": 1}})
    assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
    assert response.json() == {"message": "Hello, Ada!", "total": 6, "gift": True}  # lib/greeting.jar on the class path
    assert "order from Ada" in record(api, response)["logs"]


def test_stream_handlers_and_static_methods(api, packages):
    create(api, "java-upper", "example.Upper", {"zip_base64": packages["zip"]})
    response = invoke(api, "java-upper", {"word": "kiln"})
    assert response.json() == {"upper": {"WORD": "KILN"}, "id": response["X-Kiln-Request-Id"]}
    create(api, "java-plain", "example.Plain::shout", {"zip_base64": packages["zip"]})
    assert invoke(api, "java-plain", {"word": "kiln"}).json() == "KILN!"


def test_a_cold_jvm_maps_kilns_classes_and_loads_nothing_slow_before_the_handler(api, packages):
    """What a JVM started for a known function loads before its handler's class (issue 16's cold start,
    docs/benchmarks.md): Kiln's classes from its class-data archive, the Runtime API through the connection Kiln
    handed over (``java.net.Socket`` never loaded), no class spun at run time (the launcher's lambdas for a
    manifest's ``Add-Opens``, a method handle's forms), and no bootstrap jar searched for the function's classes."""
    create(api, "java-lean", "example.Loaded::read", {"zip_base64": packages["zip"]},
           environment={"JAVA_TOOL_OPTIONS": "-Xshare:on -Xlog:class+load:file=/tmp/classes.log"})  # a JVM of its own: it starts with these
    response = invoke(api, "java-lean", {})
    assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
    log = response.json()
    assert "example.Loaded source: file:/var/task/" in log, log[-2000:]
    before = log.split("example.Loaded source:")[0]
    assert "kiln.Bootstrap source: shared objects file (top)" in before and "kiln.Bootstrap$FunctionLoader source: shared objects file (top)" in before
    for slow in ("java.net.Socket ", "__JVM_LookupDefineClass__", "sun.launcher.LauncherHelper$$Lambda", "jdk.internal.loader.URLClassPath$JarLoader ", "java.security.Security "):
        assert slow not in before, slow


def test_a_fat_jar_bundling_aws_lambda_java_core_gets_kilns_interfaces_and_keeps_its_other_classes(api, packages):
    create(api, "java-fat", "example.Bundled", {"zip_base64": packages["fat"]})
    response = invoke(api, "java-fat", {})
    assert response.status_code == 200 and "X-Kiln-Function-Error" not in response, response.content
    assert response.json() == "bundled java-fat"  # RequestHandler and Context are Kiln's (else a ClassCastException); LambdaRuntime its own


def test_a_layer_jar_under_java_lib(api, packages):
    layer = api.post("/api/v1/layers/", {"name": "greeting", "zip_base64": packages["library"]}, format="json")
    assert layer.status_code == 201, layer.content
    source = JAVA["echo"].replace("return event;", "return greeting.Greeting.hello(String.valueOf(event.get(\"name\")));")
    create(api, "java-layer", "example.Handler::handleRequest", {"files": {"example/Handler.java": source}}, layers=[layer.json()["arn"]])
    assert invoke(api, "java-layer", {"name": "Grace"}).json() == "Hello, Grace!"


def test_context_memory_and_java_tool_options(api, make_function):
    make_function("java-ctx", "context", runtime="java17", memory_size=512, environment={"JAVA_TOOL_OPTIONS": "-Dkiln.flag=honoured"})
    response = invoke(api, "java-ctx", {})
    body = response.json()
    assert body["awsRequestId"] == response["X-Kiln-Request-Id"] and body["functionName"] == "java-ctx" and body["functionVersion"] == "$LATEST"
    assert body["invokedFunctionArn"].endswith(":function:java-ctx") and body["memoryLimitInMB"] == 512
    assert body["logGroupName"] == "/aws/lambda/java-ctx" and body["logStreamName"] and 0 < body["remaining"] <= 3000
    assert 300 <= body["maxHeapMB"] <= 400, body  # MaxRAMPercentage of the function's memory, not of the host's
    assert body["toolOption"] == "honoured"
    logs = record(api, response)["logs"]
    assert "Picked up JAVA_TOOL_OPTIONS: -Dkiln.flag=honoured" in logs and "logged through LambdaLogger" in logs


def test_the_lambda_java_error_shape_for_a_missing_class(api):
    create(api, "java-noclass", "example.Missing::handleRequest", {"files": {"example/Handler.java": JAVA["echo"]}})
    error = invoke(api, "java-noclass").json()
    assert error == {"errorMessage": "Class not found: example.Missing", "errorType": "java.lang.ClassNotFoundException"}


def environments(client) -> list[dict]:
    return [env for worker in client.get("/healthz").json()["checks"]["workers"].get("details", []) for env in worker["environments"]]


def test_second_cold_start_takes_a_prewarmed_jvm_with_the_functions_environment(api, make_function):
    make_function("java-kind-a", "echo", runtime="java17", memory_size=384)
    assert invoke(api, "java-kind-a", {"a": 1}).json() == {"a": 1}
    time.sleep(3)  # meanwhile the worker starts a JVM of this kind ahead of need
    make_function("java-kind-b", "env", runtime="java17", memory_size=384, environment={"ONLY_B": "yes"})
    response = invoke(api, "java-kind-b")
    env = response.json()
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "java-kind-b" and env["ONLY_B"] == "yes" and env["_HANDLER"] == "example.Handler::handleRequest"
    assert "DATABASE_URL" not in env and "SECRET_KEY" not in env
    assert record(api, response)["cold_start"] is True
    deadline = time.time() + 15
    mine: list[dict] = []
    while time.time() < deadline and not mine:
        mine = [e for e in environments(api) if e["function"] == "java-kind-b"]
        time.sleep(0.3)
    assert mine and mine[0]["prewarmed"] is True
