"""The logs domain with its database: /aws/lambda groups over invocation history, PutLogEvents rules,
retention (rows and invocation log text), subscription deliveries and their checkpoint."""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import time

import pytest
from django.utils import timezone

from core.errors import KilnError
from functions.services import Code, FunctionConfig, function_create
from functions.versions import permission_add
from invoker.models import Invocation, InvocationStatus, Trigger
from logs import delivery, limits, selectors, services
from logs.models import LogEvent, LogGroup, SubscriptionFilter

HANDLER = "def handler(e, c):\n    return 1\n"


def _function(name: str, allow_logs: bool = True):
    function = function_create(name=name, config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": HANDLER}))
    if allow_logs:
        permission_add(function=function, statement_id="logs", action="lambda:InvokeFunction", principal="logs.amazonaws.com")
    return function


def _ran(function, logs: str, *, finished: datetime.datetime | None = None, attempt: int = 1) -> Invocation:
    finished = finished or timezone.now() - datetime.timedelta(seconds=10)
    return Invocation.objects.create(function=function, function_name=function.name, revision=function.latest, status=InvocationStatus.SUCCEEDED,
                                     started_at=finished - datetime.timedelta(milliseconds=5), finished_at=finished, logs=logs, worker="w1", attempt=attempt)


def _now() -> int:
    return int(time.time() * 1000)


def _code(error: pytest.ExceptionInfo[KilnError]) -> str:
    return error.value.code


def test_function_group_exists_with_its_function(db: None) -> None:
    with pytest.raises(KilnError) as missing:
        services.retention_put(name="/aws/lambda/app", days=7)
    assert _code(missing) == "ResourceNotFoundException"
    function = _function("app")
    with pytest.raises(KilnError) as exists:
        services.log_group_create(name="/aws/lambda/app")
    assert _code(exists) == "ResourceAlreadyExistsException"
    assert not LogGroup.objects.exists()
    services.retention_put(name="/aws/lambda/app", days=7)  # gives the group its row
    groups, _ = selectors.groups_list(prefix="/aws/lambda/")
    assert [(g.name, g.retention_in_days) for g in groups] == [("/aws/lambda/app", 7)]
    # a group created before its function (as Terraform does) is the same group once the function exists
    services.log_group_create(name="/aws/lambda/later")
    _function("later")
    assert [g.name for g in selectors.groups_list(prefix="/aws/lambda/")[0]] == ["/aws/lambda/app", "/aws/lambda/later"]
    # user events in a function's group merge with its invocation lines by time
    _ran(function, "START RequestId: x\nhello\nEND RequestId: x\nREPORT RequestId: x\n", finished=timezone.now() - datetime.timedelta(seconds=60))
    services.log_stream_create(group_name="/aws/lambda/app", name="custom")
    services.log_events_put(group_name="/aws/lambda/app", stream_name="custom", events=[{"timestamp": _now() - 1000, "message": "mine"}])
    events, following = selectors.events_filter(group_name="/aws/lambda/app")
    assert [e.message.strip() for e in events][-1] == "mine" and len(events) == 5 and following is None
    paged, position = [], (None, False, None)
    while True:
        page, nxt = selectors.events_filter(group_name="/aws/lambda/app", limit=2, history_after=position[0], history_done=position[1], row_after=position[2])
        paged += page
        if nxt is None:
            break
        position = nxt
    assert [e.event_id for e in paged] == [e.event_id for e in events]
    streams, _ = selectors.streams_list(group_name="/aws/lambda/app")
    assert {s.name for s in streams} >= {"custom"} and len(streams) == 2
    # deleting the group drops its row, events and the invocation log text (the invocations stay)
    services.log_group_delete(name="/aws/lambda/app")
    assert not LogGroup.objects.filter(name="/aws/lambda/app").exists() and not LogEvent.objects.exists()
    assert Invocation.objects.get(function_name="app").logs == ""
    assert selectors.events_filter(group_name="/aws/lambda/app")[0] == []


def test_put_rules_at_their_edges(db: None) -> None:
    services.log_group_create(name="/edge")
    services.log_stream_create(group_name="/edge", name="s")
    now = _now()
    day = 86_400_000
    ok = services.log_events_put(group_name="/edge", stream_name="s", now_ms=now, events=[
        {"timestamp": now - limits.PAST_MAX_MS, "message": "oldest kept"}, {"timestamp": now - limits.PAST_MAX_MS + day, "message": "x"}])
    assert ok.rejected == {}
    edge = services.log_events_put(group_name="/edge", stream_name="s", now_ms=now, events=[
        {"timestamp": now - limits.PAST_MAX_MS - 1, "message": "too old"}, {"timestamp": now + limits.FUTURE_MAX_MS, "message": "newest kept"},
        {"timestamp": now + limits.FUTURE_MAX_MS + 1, "message": "too new"}])
    assert edge.rejected == {"tooOldLogEventEndIndex": 0, "tooNewLogEventStartIndex": 2}
    with pytest.raises(KilnError):
        services.log_events_put(group_name="/edge", stream_name="s", now_ms=now, events=[{"timestamp": now, "message": ""}])
    multibyte = "é" * ((limits.EVENT_BYTES_MAX - 26) // 2)  # bytes, not characters, count
    services.log_events_put(group_name="/edge", stream_name="s", now_ms=now, events=[{"timestamp": now, "message": multibyte}])
    with pytest.raises(KilnError) as too_large:
        services.log_events_put(group_name="/edge", stream_name="s", now_ms=now, events=[{"timestamp": now, "message": multibyte + "é"}])
    assert "too large" in too_large.value.message
    for days in limits.RETENTION_DAYS:
        services.retention_put(name="/edge", days=days)
    with pytest.raises(KilnError):
        services.retention_put(name="/edge", days=True)


def test_retention_purges_events_and_invocation_logs(db: None) -> None:
    function = _function("kept")
    old = _ran(function, "old line\n", finished=timezone.now() - datetime.timedelta(days=3))
    new = _ran(function, "new line\n")
    services.log_group_create(name="/ret")
    services.log_stream_create(group_name="/ret", name="s")
    now = _now()
    services.log_events_put(group_name="/ret", stream_name="s", events=[{"timestamp": now - 3 * 86_400_000, "message": "old"}])
    services.log_events_put(group_name="/ret", stream_name="s", events=[{"timestamp": now, "message": "new"}])
    services.retention_put(name="/ret", days=1)
    services.retention_put(name="/aws/lambda/kept", days=1)
    # hidden before the beat purges
    assert [e.message for e in selectors.events_filter(group_name="/ret")[0]] == ["new"]
    assert [e.message for e in selectors.events_filter(group_name="/aws/lambda/kept")[0]] == ["new line\n"]
    removed = services.retention_apply()
    assert removed == {"events": 1, "invocations": 1}
    assert list(LogEvent.objects.values_list("message", flat=True)) == ["new"]
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.logs == "" and new.logs == "new line\n"
    assert services.retention_apply() == {"events": 0, "invocations": 0}


def _payload(invocation: Invocation) -> dict:
    return json.loads(gzip.decompress(base64.b64decode(json.loads(invocation.payload)["awslogs"]["data"])))


def test_invocation_logs_delivered_once_from_the_checkpoint(db: None) -> None:
    source, target = _function("source"), _function("target")
    _ran(source, "before the filter ERROR\n", finished=timezone.now() - datetime.timedelta(minutes=5))
    services.subscription_filter_put(group_name="/aws/lambda/source", filter_name="errs", filter_pattern="ERROR", destination_arn=target.arn)
    SubscriptionFilter.objects.update(scanned_until=timezone.now() - datetime.timedelta(minutes=1))  # made a minute ago
    first = _ran(source, "START RequestId: a\nERROR one\nfine\nEND RequestId: a\nREPORT RequestId: a\n")
    # a retried asynchronous invocation: only its last attempt's lines
    retried = _ran(source, "ERROR attempt1\nREPORT RequestId: b\nERROR attempt2\nREPORT RequestId: b\n", attempt=2)
    assert delivery.invocation_logs_deliver() == 2  # one per invocation that wrote the lines, its child
    sent = list(Invocation.objects.filter(function_name="target", trigger=Trigger.LOGS).order_by("queued_at"))
    messages = sorted(e["message"] for i in sent for e in _payload(i)["logEvents"])
    assert messages == ["ERROR attempt2\n", "ERROR one\n"]
    assert all(i.invocation_type == "Event" and i.trigger_detail["filter_name"] == "errs" for i in sent)
    assert {str(i.parent_id) for i in sent} == {str(first.id), str(retried.id)}
    assert {i.trigger_detail["chain_depth"] for i in sent} == {2}
    assert delivery.invocation_logs_deliver() == 0
    subscription = SubscriptionFilter.objects.get()
    assert subscription.scanned_id in (str(first.id), str(retried.id))
    # too recent to be sure every earlier commit is visible: waits for the next run
    _ran(source, "ERROR just now\n", finished=timezone.now())
    assert delivery.invocation_logs_deliver() == 0
    assert delivery.invocation_logs_deliver(now=timezone.now() + datetime.timedelta(seconds=5)) == 1


def test_written_events_split_into_deliveries(db: None) -> None:
    target = _function("sink")
    services.log_group_create(name="/many")
    services.log_stream_create(group_name="/many", name="s")
    services.subscription_filter_put(group_name="/many", filter_name="all", filter_pattern="", destination_arn=target.arn)
    now = _now()
    message = "x" * 1000
    services.log_events_put(group_name="/many", stream_name="s", events=[{"timestamp": now, "message": message} for _ in range(600)])
    sent = list(Invocation.objects.filter(function_name="sink"))
    assert len(sent) == 3  # 256 KiB of messages per delivery
    assert sum(len(_payload(i)["logEvents"]) for i in sent) == 600
    assert all(len(i.payload) < 1024 * 1024 for i in sent)
    ids = [e["id"] for i in sent for e in _payload(i)["logEvents"]]
    assert len(set(ids)) == 600 and set(ids) == {e.event_id for e in LogEvent.objects.all()}


def test_subscription_permission_needs_logs_principal(db: None) -> None:
    target = _function("strict", allow_logs=False)
    services.log_group_create(name="/p")
    permission_add(function=target, statement_id="s3", action="lambda:InvokeFunction", principal="s3.amazonaws.com")
    with pytest.raises(KilnError) as refused:
        services.subscription_filter_put(group_name="/p", filter_name="f", filter_pattern="", destination_arn=target.arn)
    assert refused.value.message == services.PERMISSION_MESSAGE
    permission_add(function=target, statement_id="other-group", action="lambda:InvokeFunction", principal="logs.amazonaws.com",
                   source_arn="arn:aws:logs:us-east-1:000000000000:log-group:/elsewhere:*")
    with pytest.raises(KilnError):
        services.subscription_filter_put(group_name="/p", filter_name="f", filter_pattern="", destination_arn=target.arn)
    permission_add(function=target, statement_id="this-group", action="lambda:InvokeFunction", principal="logs.amazonaws.com",
                   source_arn="arn:aws:logs:us-east-1:000000000000:log-group:/p:*")
    services.subscription_filter_put(group_name="/p", filter_name="f", filter_pattern="", destination_arn=target.arn)
    regional = _function("regional", allow_logs=False)  # the older regional principal is CloudWatch Logs too
    permission_add(function=regional, statement_id="old-style", action="lambda:InvokeFunction", principal="logs.us-east-1.amazonaws.com")
    services.subscription_filter_put(group_name="/p", filter_name="g", filter_pattern="", destination_arn=regional.arn)


def test_console_log_groups_page_and_detail(owner, db: None, django_assert_max_num_queries) -> None:
    from django.test import Client

    for i in range(5):
        services.log_group_create(name=f"/console/g{i}")
    services.log_stream_create(group_name="/console/g0", name="web")
    services.log_events_put(group_name="/console/g0", stream_name="web", events=[{"timestamp": _now(), "message": "hello console"}])
    client = Client()
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        listing = client.get("/console/logs/loggroup/")
    assert listing.status_code == 200 and b"/console/g4" in listing.content
    group = LogGroup.objects.get(name="/console/g0")
    detail = client.get(f"/console/logs/loggroup/{group.pk}/change/")
    assert detail.status_code == 200 and b"hello console" in detail.content and b"web" in detail.content
    stream = group.streams.get()
    assert b"hello console" in client.get(f"/console/logs/logstream/{stream.pk}/change/").content
    assert b"/console/logs/loggroup/" in client.get("/console/").content


def test_a_loop_through_two_groups_stops(db: None) -> None:
    ping, pong = _function("ping"), _function("pong")
    services.subscription_filter_put(group_name="/aws/lambda/ping", filter_name="to-pong", filter_pattern="", destination_arn=pong.arn)
    SubscriptionFilter.objects.update(scanned_until=timezone.now() - datetime.timedelta(minutes=1))
    deep = _ran(ping, "line\n")
    Invocation.objects.filter(pk=deep.pk).update(trigger=Trigger.LOGS, trigger_detail={"chain_id": "c-1", "chain_depth": limits.CHAIN_DEPTH_MAX})
    assert delivery.invocation_logs_deliver() == 1
    stopped = Invocation.objects.get(function_name="pong")
    assert stopped.status == InvocationStatus.FAILED and stopped.error["errorType"] == "RecursiveInvocationException"
    assert stopped.trigger_detail["chain_depth"] == limits.CHAIN_DEPTH_MAX + 1 and stopped.trigger_detail["chain_id"] == "c-1"


def test_console_names_a_delivery_cause(owner, db: None) -> None:
    from django.test import Client

    target = _function("shown")
    services.log_group_create(name="/shown")
    services.log_stream_create(group_name="/shown", name="s")
    services.subscription_filter_put(group_name="/shown", filter_name="all", filter_pattern="", destination_arn=target.arn)
    services.log_events_put(group_name="/shown", stream_name="s", events=[{"timestamp": _now(), "message": "hi"}])
    invocation = Invocation.objects.get(function_name="shown")
    client = Client()
    client.force_login(owner)
    page = client.get(f"/console/invoker/invocation/{invocation.pk}/change/")
    assert page.status_code == 200 and b"log group /shown, subscription filter all (1 events)" in page.content
