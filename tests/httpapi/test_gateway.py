"""HTTP APIs and function URLs end to end, with a real worker: events as handlers see them, response
mapping, API Gateway's errors, CORS, stages, host-name routing, and curl against a live server."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest
from django.test import Client

from functions.models import Function
from invoker.models import Invocation

pytestmark = [pytest.mark.django_db(transaction=True)]

RESPOND = "import json\n\ndef handler(event, context):\n    return json.loads(event['body'])\n"
WRAP = "import json\n\ndef handler(event, context):\n    return {'statusCode': 200, 'headers': {'content-type': 'application/json'}, 'body': json.dumps(event)}\n"
BINARY = "import base64\n\ndef handler(event, context):\n    return {'statusCode': 200, 'headers': {'content-type': 'application/octet-stream'}, 'body': event['body'], 'isBase64Encoded': event['isBase64Encoded']}\n"


@pytest.fixture
def inline(api):
    def make(name: str, source: str, runtime: str = "python3.11", **config: object) -> None:
        filename = "index.py" if runtime.startswith("python") else "index.js"
        body = {"name": name, "runtime": runtime, "handler": "index.handler", "code": {"files": {filename: source}}, **config}
        response = api.post("/api/v1/functions/", body, format="json")
        assert response.status_code == 201, response.content

    return make


def new_api(api, **body) -> dict:
    response = api.post("/api/v1/http-apis/", {"name": "demo", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def add_route(api, api_id: str, route_key: str, function: str, version: str = "2.0") -> dict:
    response = api.post(f"/api/v1/http-apis/{api_id}/routes/", {"route_key": route_key, "function": function, "payload_format_version": version}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# -- management, no worker needed ---------------------------------------------------------------

def test_rest_contract(api, make_function):
    make_function("fn")
    created = new_api(api, cors={"allowOrigins": ["*"]})
    assert len(created["id"]) == 10 and created["id"].isalnum() and created["id"].islower()
    assert [s["name"] for s in created["stages"]] == ["$default"]
    route = add_route(api, created["id"], "GET /users/{id}", "fn")
    assert route["payload_format_version"] == "2.0"
    assert route["url"] == f"http://testserver/gw/{created['id']}/users/{{id}}"
    stage = api.post(f"/api/v1/http-apis/{created['id']}/stages/", {"name": "prod", "variables": {"env": "p"}}, format="json")
    assert stage.status_code == 201 and stage.json()["url"] == f"http://testserver/gw/{created['id']}/prod/"
    detail = api.get(f"/api/v1/http-apis/{created['id']}/").json()
    assert detail["routes"][0]["stage_urls"]["prod"] == f"http://testserver/gw/{created['id']}/prod/users/{{id}}"
    assert api.get(f"/api/v1/http-apis/{created['id']}/routes/").json()["results"][0]["route_key"] == "GET /users/{id}"
    assert api.get("/api/v1/http-apis/").json()["results"][0]["id"] == created["id"]
    duplicate = api.post(f"/api/v1/http-apis/{created['id']}/routes/", {"route_key": "GET /users/{id}", "function": "fn"}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "ResourceConflictException"
    bad = api.post(f"/api/v1/http-apis/{created['id']}/routes/", {"route_key": "GET users", "function": "fn"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidParameterValueException"
    missing = api.post(f"/api/v1/http-apis/{created['id']}/routes/", {"route_key": "GET /x", "function": "nope"}, format="json")
    assert missing.status_code == 404
    assert api.delete(f"/api/v1/http-apis/{created['id']}/").status_code == 204
    assert api.get(f"/api/v1/http-apis/{created['id']}/").status_code == 404


def test_rest_needs_sign_in(anon):
    assert anon.get("/api/v1/http-apis/").status_code == 401
    assert anon.post("/api/v1/http-apis/", {"name": "x"}, format="json").status_code == 401


def test_function_url_rest(api, make_function):
    make_function("fn")
    put = api.put("/api/v1/functions/fn/url/", {"auth_type": "NONE", "cors": {"AllowOrigins": ["https://a.example"]}}, format="json")
    assert put.status_code == 201, put.content
    body = put.json()
    assert len(body["url_id"]) == 32 and body["url"] == f"http://testserver/url/{body['url_id']}/"
    assert body["cors"] == {"allowOrigins": ["https://a.example"]}
    again = api.put("/api/v1/functions/fn/url/", {"auth_type": "AWS_IAM"}, format="json")
    assert again.status_code == 200 and again.json()["url_id"] == body["url_id"] and again.json()["auth_type"] == "AWS_IAM"
    assert api.put("/api/v1/functions/fn/url/", {"auth_type": "OPEN"}, format="json").status_code == 400
    assert api.get("/api/v1/functions/fn/url/").json()["url"] == body["url"]
    assert api.delete("/api/v1/functions/fn/url/").status_code == 204
    assert api.get("/api/v1/functions/fn/url/").status_code == 404


def test_no_route_is_404(api, make_function):
    make_function("fn")
    created = new_api(api)
    add_route(api, created["id"], "GET /only", "fn")
    client = Client()
    for path in ("/gw/zzzzzzzzzz/only", f"/gw/{created['id']}/other", f"/gw/{created['id']}/nostage/only"):
        response = client.get(path)
        assert response.status_code == 404 and response.json() == {"message": "Not Found"}
    assert client.post(f"/gw/{created['id']}/only").status_code == 404


def test_cors_preflight_answered_from_config(api, make_function):
    make_function("fn")
    cors = {"allowOrigins": ["https://app.example"], "allowMethods": ["GET", "POST"], "allowHeaders": ["content-type", "x-api-key"], "exposeHeaders": ["x-total"], "maxAge": 600, "allowCredentials": True}
    created = new_api(api, cors=cors)
    add_route(api, created["id"], "POST /items", "fn")
    client = Client()
    response = client.options(f"/gw/{created['id']}/items", HTTP_ORIGIN="https://app.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://app.example"
    assert response["Access-Control-Allow-Methods"] == "GET,POST"
    assert response["Access-Control-Allow-Headers"] == "content-type,x-api-key"
    assert response["Access-Control-Max-Age"] == "600"
    assert response["Access-Control-Allow-Credentials"] == "true"
    other = client.options(f"/gw/{created['id']}/items", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert other.status_code == 204 and "Access-Control-Allow-Origin" not in other
    not_found = client.get(f"/gw/{created['id']}/none", HTTP_ORIGIN="https://app.example")
    assert not_found.status_code == 404 and not_found["Access-Control-Expose-Headers"] == "x-total"
    assert Invocation.objects.count() == 0


def test_request_too_large_is_413(api, make_function):
    make_function("fn")
    created = new_api(api)
    add_route(api, created["id"], "POST /up", "fn")
    response = Client().post(f"/gw/{created['id']}/up", data=b"x" * (6 * 1024 * 1024 + 1), content_type="application/octet-stream")
    assert response.status_code == 413 and response.json() == {"message": "Request Entity Too Large"}


# -- through a real worker ----------------------------------------------------------------------

@pytest.mark.usefixtures("worker")
def test_v2_route_event_and_history(api, inline):
    inline("wrap", WRAP)
    created = new_api(api)
    add_route(api, created["id"], "GET /users/{id}", "wrap")
    response = Client().get(f"/gw/{created['id']}/users/42?tag=a&tag=b", HTTP_COOKIE="s=1; t=2", HTTP_X_THING="yes")
    assert response.status_code == 200, response.content
    event = json.loads(response.content)
    assert event["version"] == "2.0" and event["routeKey"] == "GET /users/{id}"
    assert event["rawPath"] == "/users/42" and event["rawQueryString"] == "tag=a&tag=b"
    assert event["queryStringParameters"] == {"tag": "a,b"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["headers"]["x-thing"] == "yes"
    assert event["requestContext"]["apiId"] == created["id"] and event["requestContext"]["stage"] == "$default"
    assert response["Apigw-Requestid"] == event["requestContext"]["requestId"]
    record = Invocation.objects.get(pk=response["X-Kiln-Request-Id"])
    assert record.trigger == "http"
    assert record.trigger_detail["route_key"] == "GET /users/{id}" and record.trigger_detail["method"] == "GET"
    assert record.trigger_detail["path"] == "/users/42" and record.trigger_detail["source_ip"] == "127.0.0.1"


@pytest.mark.usefixtures("worker")
def test_v1_route_named_stage_and_variables(api, inline):
    inline("wrap", WRAP)
    created = new_api(api)
    api.post(f"/api/v1/http-apis/{created['id']}/stages/", {"name": "prod", "variables": {"table": "users-prod"}}, format="json")
    add_route(api, created["id"], "ANY /files/{proxy+}", "wrap", version="1.0")
    response = Client().post(f"/gw/{created['id']}/prod/files/a/b.txt?x=1&x=2", data="hello", content_type="text/plain")
    assert response.status_code == 200, response.content
    event = json.loads(response.content)
    assert event["version"] == "1.0" and event["resource"] == "/files/{proxy+}" and event["httpMethod"] == "POST"
    assert event["path"] == "/prod/files/a/b.txt"
    assert event["pathParameters"] == {"proxy": "a/b.txt"}
    assert event["stageVariables"] == {"table": "users-prod"}
    assert event["requestContext"]["stage"] == "prod"
    assert event["queryStringParameters"] == {"x": "2"} and event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["body"] == "hello" and event["isBase64Encoded"] is False


@pytest.mark.usefixtures("worker")
def test_response_mapping_rules(api, inline):
    inline("respond", RESPOND)
    created = new_api(api)
    add_route(api, created["id"], "POST /r", "respond")
    client = Client()

    def call(result):
        return client.post(f"/gw/{created['id']}/r", data=json.dumps(result), content_type="application/json")

    full = call({"statusCode": 418, "headers": {"x-a": "1"}, "multiValueHeaders": {"x-m": ["p", "q"]}, "cookies": ["k=v; Path=/"], "body": "teapot"})
    assert (full.status_code, full["x-a"], full["x-m"], full.content, full.cookies["k"].value) == (418, "1", "p,q", b"teapot", "v")
    short = call({"hello": "world"})
    assert (short.status_code, short["Content-Type"], json.loads(short.content)) == (200, "application/json", {"hello": "world"})
    image = bytes(range(256))
    decoded = call({"statusCode": 200, "headers": {"content-type": "image/png"}, "body": base64.b64encode(image).decode(), "isBase64Encoded": True})
    assert decoded.content == image and decoded["Content-Type"] == "image/png"
    malformed = call({"statusCode": "teapot"})
    assert malformed.status_code == 502 and malformed.json() == {"message": "Internal Server Error"}


@pytest.mark.usefixtures("worker")
def test_binary_body_both_ways(api, inline):
    inline("binary", BINARY)
    created = new_api(api)
    add_route(api, created["id"], "PUT /blob", "binary")
    raw = bytes(range(256)) * 4
    response = Client().put(f"/gw/{created['id']}/blob", data=raw, content_type="application/octet-stream")
    assert response.status_code == 200 and response.content == raw


@pytest.mark.usefixtures("worker")
def test_function_error_is_502(api, make_function):
    make_function("boom", "raise")
    created = new_api(api)
    add_route(api, created["id"], "GET /boom", "boom")
    response = Client().get(f"/gw/{created['id']}/boom")
    assert response.status_code == 502 and response.json() == {"message": "Internal Server Error"}


@pytest.mark.usefixtures("worker")
def test_timeout_is_504(api, make_function):
    make_function("sleepy", "sleep", timeout=1)
    created = new_api(api)
    add_route(api, created["id"], "GET /slow", "sleepy")
    response = Client().get(f"/gw/{created['id']}/slow")
    assert response.status_code == 504 and response.json() == {"message": "Endpoint request timed out"}


@pytest.mark.usefixtures("worker")
def test_throttled_is_429(api, make_function):
    make_function("limited")
    Function.objects.filter(name="limited").update(reserved_concurrency=0)
    created = new_api(api)
    add_route(api, created["id"], "GET /t", "limited")
    response = Client().get(f"/gw/{created['id']}/t")
    assert response.status_code == 429 and response.json() == {"message": "Too Many Requests"}


@pytest.mark.usefixtures("worker")
def test_cors_headers_added_to_responses(api, make_function):
    make_function("fn")
    created = new_api(api, cors={"allowOrigins": ["*"], "exposeHeaders": ["x-id"]})
    add_route(api, created["id"], "GET /c", "fn")
    response = Client().get(f"/gw/{created['id']}/c", HTTP_ORIGIN="https://x.example")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*" and response["Access-Control-Expose-Headers"] == "x-id"


@pytest.mark.usefixtures("worker")
def test_host_name_routing(api, inline):
    inline("wrap", WRAP)
    created = new_api(api)
    add_route(api, created["id"], "GET /hi", "wrap")
    client = Client()
    response = client.get("/hi", HTTP_HOST=f"{created['id']}.execute-api.localhost:8000")
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["rawPath"] == "/hi"
    assert client.get("/nothing", HTTP_HOST=f"{created['id']}.execute-api.localhost").json() == {"message": "Not Found"}
    url = api.put("/api/v1/functions/wrap/url/", {"auth_type": "NONE"}, format="json").json()
    via_host = client.post("/any/path?q=1", data="{}", content_type="application/json", HTTP_HOST=f"{url['url_id']}.lambda-url.localhost")
    assert via_host.status_code == 200, via_host.content
    event = json.loads(via_host.content)
    assert event["version"] == "2.0" and event["routeKey"] == "$default" and event["rawPath"] == "/any/path" and event["queryStringParameters"] == {"q": "1"}
    via_path = client.get(f"/url/{url['url_id']}/p")
    assert via_path.status_code == 200 and json.loads(via_path.content)["rawPath"] == "/p"


@pytest.mark.usefixtures("worker")
def test_function_url_iam_refuses_unsigned(api, make_function):
    make_function("fn")
    url = api.put("/api/v1/functions/fn/url/", {"auth_type": "AWS_IAM"}, format="json").json()
    assert Client().get(f"/url/{url['url_id']}/").status_code == 403


@pytest.mark.usefixtures("worker")
def test_node_hello_with_curl(api, make_function, live_server):
    make_function("hello", "hello", runtime="nodejs20.x")
    created = new_api(api)
    add_route(api, created["id"], "GET /hello", "hello")
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", f"{live_server.url}/gw/{created['id']}/hello"], capture_output=True, text=True, timeout=60)
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "200"
    assert json.loads(body) == {"message": "Hello from Lambda!"}
    port = live_server.url.rsplit(":", 1)[1]
    host = f"http://{created['id']}.execute-api.localhost:{port}/hello"
    out = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "--resolve", f"{created['id']}.execute-api.localhost:{port}:127.0.0.1", host], capture_output=True, text=True, timeout=60)
    body, status = out.stdout.rsplit("\n", 1)
    assert (status, json.loads(body)) == ("200", {"message": "Hello from Lambda!"})
