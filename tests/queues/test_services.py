"""The queues domain: checksums, limits at their edges, receipt handles, retention, redrive, claims, and the console pages."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.test import Client

from core.errors import KilnError
from queues import limits, messages, services
from queues.checksums import md5_of_attributes, md5_of_body
from queues.models import Message
from queues.selectors import queue_counts


def _send(queue, body: str = "x", **kwargs) -> messages.Sent:
    return messages.message_send(queue=queue, outgoing=messages.message_validate(queue=queue, body=body, **kwargs))


def test_checksums_match_aws_reference_values() -> None:
    assert md5_of_body("hello") == "5d41402abc4b2a76b9719d911017c592"
    # computed by hand from AWS's documented encoding: len(name) name len(type) type 0x01 len(value) value
    import hashlib
    import struct

    expected = hashlib.md5(struct.pack(">I", 1) + b"a" + struct.pack(">I", 6) + b"String" + b"\x01" + struct.pack(">I", 1) + b"b").hexdigest()
    assert md5_of_attributes({"a": {"DataType": "String", "StringValue": "b"}}) == expected
    assert md5_of_attributes({}) == ""


def test_size_limit_edge_and_queue_maximum(db: None) -> None:
    queue = services.queue_create(name="edge")
    messages.message_validate(queue=queue, body="a" * limits.MESSAGE_SIZE_MAX)
    with pytest.raises(KilnError) as too_big:
        messages.message_validate(queue=queue, body="a" * (limits.MESSAGE_SIZE_MAX + 1))
    assert too_big.value.code == "InvalidParameterValue"
    # multi-byte characters count in bytes
    with pytest.raises(KilnError):
        messages.message_validate(queue=queue, body="\u00e9" * (limits.MESSAGE_SIZE_MAX // 2 + 1))


def test_latest_receipt_handle_only_and_messages_are_rows(db: None) -> None:
    queue = services.queue_create(name="handles")
    _send(queue, "durable")
    assert Message.objects.filter(queue=queue, body="durable").exists()  # in the database: a restart loses nothing
    first = messages.message_receive(queue=queue, visibility_timeout=0)[0]
    second = messages.message_receive(queue=queue, visibility_timeout=30)[0]
    assert first.receipt_handle != second.receipt_handle and second.message.receive_count == 2
    messages.message_delete(queue=queue, receipt_handle=first.receipt_handle)
    assert Message.objects.filter(queue=queue).count() == 1
    messages.message_delete(queue=queue, receipt_handle=second.receipt_handle)
    assert not Message.objects.filter(queue=queue).exists()
    other = services.queue_create(name="other")
    with pytest.raises(KilnError) as wrong_queue:
        messages.message_delete(queue=other, receipt_handle=second.receipt_handle)
    assert wrong_queue.value.code == "ReceiptHandleIsInvalid"


def test_retention_expires_messages(db: None) -> None:
    queue = services.queue_create(name="short", attributes={"MessageRetentionPeriod": "60"})
    _send(queue, "old")
    _send(queue, "new")
    Message.objects.filter(body="old").update(sent_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=61))
    assert queue_counts(queue)["visible"] == 1
    assert [r.message.body for r in messages.message_receive(queue=queue, max_messages=10)] == ["new"]
    assert not Message.objects.filter(body="old").exists()
    with pytest.raises(KilnError):
        services.queue_create(name="bad-retention", attributes={"MessageRetentionPeriod": "59"})
    services.queue_create(name="max-retention", attributes={"MessageRetentionPeriod": str(limits.RETENTION_MAX)})


def test_fifo_dedup_window(db: None) -> None:
    queue = services.queue_create(name="d.fifo", attributes={"FifoQueue": "true"})
    one = _send(queue, "a", group_id="g", deduplication_id="x")
    assert _send(queue, "b", group_id="g", deduplication_id="x").message_id == one.message_id
    from queues.models import Deduplication

    Deduplication.objects.filter(queue=queue).update(expires_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1))
    assert _send(queue, "c", group_id="g", deduplication_id="x").message_id != one.message_id


def test_concurrent_claims_take_disjoint_rows(transactional_db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's")
    queue = services.queue_create(name="claims")
    for i in range(40):
        _send(queue, str(i))
    got: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        try:
            while batch := messages.message_receive(queue=queue, max_messages=3, visibility_timeout=60):
                with lock:
                    got.extend(r.message.body for r in batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got, key=int) == [str(i) for i in range(40)]


def test_console_queues_page_and_detail(owner, db: None) -> None:
    queue = services.queue_create(name="console-q")
    _send(queue, "hello console")
    _send(queue, "second")
    messages.message_receive(queue=queue)
    client = Client()
    client.force_login(owner)
    listing = client.get("/console/queues/queue/")
    assert listing.status_code == 200 and b"console-q" in listing.content
    detail = client.get(f"/console/queues/queue/{queue.pk}/change/")
    assert detail.status_code == 200 and b"1 available, 1 in flight, 0 delayed" in detail.content and b"hello console" in detail.content
    assert client.get(f"/console/queues/message/?queue__id__exact={queue.pk}").status_code == 200
    home = client.get("/console/")
    assert b"/console/queues/queue/" in home.content


def test_batch_delete_is_one_statement_with_per_entry_results(db: None, django_assert_num_queries) -> None:
    queue, other = services.queue_create(name="batchdel"), services.queue_create(name="batchdel-other")
    for i in range(3):
        _send(queue, f"m{i}")
    _send(other, "theirs")
    stale = messages.message_receive(queue=queue, max_messages=3, visibility_timeout=0)
    latest = messages.message_receive(queue=queue, max_messages=3, visibility_timeout=30)
    by_id = {r.message.message_id: r.receipt_handle for r in latest}
    theirs = messages.message_receive(queue=other)[0].receipt_handle
    handles = {"fresh0": by_id[stale[0].message.message_id], "fresh1": by_id[stale[1].message.message_id],
               "stale": stale[2].receipt_handle, "other-queue": theirs, "garbage": "not-a-handle"}
    with django_assert_num_queries(1):
        failed = messages.message_delete_batch(queue=queue, handles=handles)
    assert sorted(failed) == ["garbage", "other-queue"] and {e.code for e in failed.values()} == {"ReceiptHandleIsInvalid"}
    # the two latest handles deleted their messages; the older handle deleted nothing (as DeleteMessage does)
    assert list(Message.objects.filter(queue=queue).values_list("message_id", flat=True)) == [stale[2].message.message_id]
    assert Message.objects.filter(queue=other).count() == 1
    with django_assert_num_queries(0):
        assert messages.message_delete_batch(queue=queue, handles={"bad": "x"}).keys() == {"bad"}


def test_queue_lookups_are_cached_until_the_queue_changes(db: None, django_assert_num_queries) -> None:
    from queues.selectors import queue_get

    services.queue_create(name="cached")
    queue_get("cached")
    with django_assert_num_queries(0):
        queue = queue_get("cached")
    services.queue_set_attributes(queue=queue, attributes={"MaximumMessageSize": "1024"})
    assert queue_get("cached").maximum_message_size == 1024
    services.queue_tag(queue=queue_get("cached"), tags={"team": "a"})
    assert queue_get("cached").tags == {"team": "a"}
    services.queue_delete(queue=queue_get("cached"))
    with pytest.raises(KilnError) as gone:
        queue_get("cached")
    assert gone.value.code == "QueueDoesNotExist"
