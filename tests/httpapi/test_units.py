"""Pure parts of the gateway: route keys, matching and precedence, both event formats, response mapping."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.test import RequestFactory

from core.errors import ValidationFailed
from httpapi import events, responses
from httpapi.routing import route_match
from httpapi.services import cors_validate, route_key_parse


@dataclass
class R:
    route_key: str

    @property
    def method(self) -> str:
        return "" if self.route_key == "$default" else self.route_key.split(" ")[0]

    @property
    def path(self) -> str:
        return "" if self.route_key == "$default" else self.route_key.split(" ")[1]


def chosen(keys: list[str], method: str, path: str) -> tuple[str, dict] | None:
    match = route_match([R(k) for k in keys], method, path)
    return (match.route.route_key, match.path_parameters) if match else None


def test_static_beats_param_beats_greedy():
    keys = ["GET /users/{proxy+}", "GET /users/{id}", "GET /users/me"]
    assert chosen(keys, "GET", "/users/me") == ("GET /users/me", {})
    assert chosen(keys, "GET", "/users/42") == ("GET /users/{id}", {"id": "42"})
    assert chosen(keys, "GET", "/users/42/posts/7") == ("GET /users/{proxy+}", {"proxy": "42/posts/7"})
    assert chosen(keys, "GET", "/users") is None


def test_longer_static_prefix_beats_shorter_greedy():
    keys = ["ANY /{proxy+}", "GET /files/{proxy+}"]
    assert chosen(keys, "GET", "/files/a/b") == ("GET /files/{proxy+}", {"proxy": "a/b"})
    assert chosen(keys, "GET", "/other") == ("ANY /{proxy+}", {"proxy": "other"})


def test_method_beats_any_and_default_catches_rest():
    keys = ["ANY /items", "POST /items", "$default"]
    assert chosen(keys, "POST", "/items")[0] == "POST /items"
    assert chosen(keys, "GET", "/items")[0] == "ANY /items"
    assert chosen(keys, "GET", "/nothing/here")[0] == "$default"
    assert chosen(["GET /items"], "DELETE", "/items") is None


def test_root_route_and_trailing_slash():
    assert chosen(["GET /"], "GET", "/")[0] == "GET /"
    assert chosen(["GET /a/{b}"], "GET", "/a/x/") == ("GET /a/{b}", {"b": "x"})


@pytest.mark.parametrize("key", ["GET", "GET users", "FETCH /x", "GET /a/{p+}/b", "GET /a//b", "GET /{a}/{a}", "GET /a b"])
def test_route_key_refused(key):
    with pytest.raises(ValidationFailed):
        route_key_parse(key)


def test_route_key_parsed():
    assert route_key_parse("get /users/{id}") == ("GET", "/users/{id}")
    assert route_key_parse("$default") == ("", "")
    assert route_key_parse("ANY /files/{proxy+}") == ("ANY", "/files/{proxy+}")


def test_cors_normalised_and_checked():
    assert cors_validate({"AllowOrigins": ["*"], "MaxAge": 10}) == {"allowOrigins": ["*"], "maxAge": 10}
    with pytest.raises(ValidationFailed):
        cors_validate({"allowOrigins": ["*"], "allowCredentials": True})
    with pytest.raises(ValidationFailed):
        cors_validate({"allowMethods": ["FETCH"]})


NOW = datetime(2020, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)


def _info(**kw):
    base = dict(api_id="abcdefghij", domain_name="abcdefghij.execute-api.localhost", stage="$default", route_key="POST /users/{id}",
                resource_path="/users/{id}", raw_path="/users/7", path_parameters={"id": "7"}, stage_variables={}, request_id="req=", now=NOW)
    base.update(kw)
    return events.RequestInfo(**base)


def _request(**extra):
    factory = RequestFactory()
    return factory.post("/users/7?a=1&a=2&b=x", data=extra.pop("data", b'{"k": 1}'), content_type=extra.pop("content_type", "application/json"),
                        HTTP_USER_AGENT="curl/8", HTTP_COOKIE="c1=v1; c2=v2", HTTP_X_CUSTOM="one", REMOTE_ADDR="10.0.0.9", **extra)


def test_event_v2_field_by_field():
    event = events.event_v2(_request(), _info(stage_variables={"env": "dev"}))
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /users/{id}"
    assert event["rawPath"] == "/users/7"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "one"
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["user-agent"] == "curl/8"
    assert event["headers"]["x-forwarded-for"] == "10.0.0.9" and event["headers"]["x-forwarded-proto"] == "http"
    assert event["headers"]["x-amzn-trace-id"].startswith("Root=1-5e6a879e-")
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] == {"env": "dev"}
    assert event["body"] == '{"k": 1}'
    assert event["isBase64Encoded"] is False
    assert event["requestContext"] == {
        "accountId": "000000000000", "apiId": "abcdefghij", "domainName": "abcdefghij.execute-api.localhost", "domainPrefix": "abcdefghij",
        "http": {"method": "POST", "path": "/users/7", "protocol": "HTTP/1.1", "sourceIp": "10.0.0.9", "userAgent": "curl/8"},
        "requestId": "req=", "routeKey": "POST /users/{id}", "stage": "$default", "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1584039838390,
    }


def test_event_v2_leaves_out_absent_parts():
    request = RequestFactory().get("/x")
    event = events.event_v2(request, _info(path_parameters={}, raw_path="/x"))
    for absent in ("cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"):
        assert absent not in event
    assert event["rawQueryString"] == ""


def test_event_v1_field_by_field():
    event = events.event_v1(_request(), _info())
    assert event["version"] == "1.0"
    assert event["resource"] == "/users/{id}"
    assert event["path"] == "/users/7"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["cookie"] == "c1=v1; c2=v2"
    assert event["multiValueHeaders"]["x-custom"] == ["one"]
    assert event["queryStringParameters"] == {"a": "2", "b": "x"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] is None
    assert event["body"] == '{"k": 1}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["identity"]["sourceIp"] == "10.0.0.9"
    assert context["identity"]["userAgent"] == "curl/8"
    assert context["requestTimeEpoch"] == 1584039838390
    assert context["requestTime"] == "12/Mar/2020:19:03:58 +0000"
    assert (context["httpMethod"], context["path"], context["resourcePath"], context["stage"], context["apiId"]) == ("POST", "/users/7", "/users/{id}", "$default", "abcdefghij")
    assert context["requestId"] == context["extendedRequestId"] == "req="
    assert context["resourceId"] == "POST /users/{id}"
    empty = events.event_v1(RequestFactory().get("/x"), _info(path_parameters={}))
    assert empty["queryStringParameters"] is None and empty["multiValueQueryStringParameters"] is None and empty["pathParameters"] is None and empty["body"] is None


@pytest.mark.parametrize("builder", [events.event_v1, events.event_v2])
def test_binary_body_is_base64(builder):
    raw = bytes(range(256))
    event = builder(_request(data=raw, content_type="application/octet-stream"), _info())
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def _map(value, version="2.0"):
    return responses.map_result(json.dumps(value), version)


def test_mapping_full_response():
    response = _map({"statusCode": 201, "headers": {"X-A": "1", "Content-Type": "text/html"}, "body": "<b>hi</b>"})
    assert (response.status_code, response["X-A"], response["Content-Type"], response.content) == (201, "1", "text/html", b"<b>hi</b>")


def test_mapping_defaults_and_multi_value_headers():
    response = _map({"statusCode": 200, "multiValueHeaders": {"X-M": ["a", "b"]}, "body": "x"}, "1.0")
    assert response["X-M"] == "a,b"
    assert response["Content-Type"] == responses.DEFAULT_CONTENT_TYPE


def test_mapping_cookies_become_set_cookie():
    response = _map({"statusCode": 200, "cookies": ["a=1; Path=/", "b=2"], "body": ""})
    assert response.cookies["a"].value == "1" and response.cookies["a"]["path"] == "/"
    assert response.cookies["b"].value == "2"


def test_mapping_base64_body_decoded():
    raw = bytes(range(256))
    response = _map({"statusCode": 200, "headers": {"content-type": "image/png"}, "body": base64.b64encode(raw).decode(), "isBase64Encoded": True})
    assert response.content == raw


@pytest.mark.parametrize("value, body", [({"message": "hi"}, b'{"message":"hi"}'), ("plain", b"plain"), ([1, 2], b"[1,2]"), (None, b"null"), (7, b"7")])
def test_v2_shortcut(value, body):
    response = _map(value)
    assert (response.status_code, response["Content-Type"], response.content) == (200, "application/json", body)


@pytest.mark.parametrize("value, version", [({"body": "x"}, "1.0"), ("str", "1.0"), ({"statusCode": "abc"}, "2.0"), ({"statusCode": 200, "headers": []}, "2.0"),
                                            ({"statusCode": 200, "body": "!!", "isBase64Encoded": True}, "2.0"), ({"statusCode": 200, "cookies": "a=1"}, "2.0")])
def test_malformed(value, version):
    with pytest.raises(responses.MalformedResponse):
        _map(value, version)


def test_result_not_json_is_malformed():
    with pytest.raises(responses.MalformedResponse):
        responses.map_result("{oops", "2.0")
