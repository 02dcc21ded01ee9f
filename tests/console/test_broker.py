"""Kiln's broker transport (console/broker.py) against the test Redis: one client per channel, a new one with a new pool."""

from __future__ import annotations

from celery import current_app
from kombu import Connection

from console.broker import Channel, Transport


def test_the_app_publishes_through_kilns_transport_and_a_channel_keeps_one_client() -> None:
    with current_app.connection_for_write() as conn:
        assert isinstance(conn.transport, Transport)
        channel = conn.default_channel
        assert isinstance(channel, Channel)
        with channel.conn_or_acquire():  # the first use makes the channel's pool (kombu's own path)
            pass
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping()
        given = object()
        with channel.conn_or_acquire(given) as passed:
            assert passed is given  # a caller's own client (kombu's pipelines) is used as given


def test_a_message_sent_through_the_transport_arrives_and_a_dropped_pool_gets_a_new_client() -> None:
    queue = "kiln-test-broker"
    with Connection(current_app.conf.broker_url, transport=Transport) as conn:
        channel = conn.channel()
        try:
            channel.queue_declare(queue=queue, auto_delete=False)
            channel.queue_purge(queue)
            with channel.conn_or_acquire() as before:
                pass
            channel._disconnect_pools()  # what kombu does after a fork
            with channel.conn_or_acquire() as after:
                assert after is not before
                assert after.connection_pool is channel.pool
            channel._closing = True  # a closing channel (restoring its unacked messages) takes kombu's own path
            with channel.conn_or_acquire() as closing:
                assert closing is not after
            channel._closing = False
            producer = conn.Producer(channel)
            producer.publish({"n": 1}, routing_key=queue, serializer="json")
            message = channel.basic_get(queue, no_ack=True)
            assert message is not None
            assert message.decode() == {"n": 1}
        finally:
            channel.queue_delete(queue)
            channel.close()


def test_a_channel_closed_after_its_transport_was_taken_apart_does_not_stop_the_worker() -> None:
    """Found by make chaos: on Redis's crash Celery closed the connection it had lost, and its channel, closing after
    the transport had lost its client, failed in kombu with ``AttributeError: 'NoneType' object has no attribute
    'hostname'`` while restoring its unacknowledged messages: "Unrecoverable error", the worker stopped and killed
    the runs in flight. The close now meets a broker error, which kombu ignores; the message stays unacknowledged
    in Redis (for the reaper), not lost."""
    queue = "kiln-test-broker-close"
    conn = Connection(current_app.conf.broker_url, transport=Transport)
    channel = conn.channel()
    channel.queue_declare(queue=queue, auto_delete=False)
    channel.queue_purge(queue)
    conn.Producer(channel).publish({"n": 2}, routing_key=queue, serializer="json")
    message = channel.basic_get(queue, no_ack=False)  # delivered, not acknowledged
    assert message is not None
    tag = message.delivery_tag
    with channel.conn_or_acquire() as client:
        assert client.hexists(channel.unacked_key, tag)
    conn._do_close_transport()  # the transport taken apart first, as in the crash
    conn.maybe_close_channel(channel)  # raised AttributeError before
    assert channel.closed
    with Connection(current_app.conf.broker_url, transport=Transport) as other:
        check = other.channel()
        try:
            with check.conn_or_acquire() as client:
                assert client.hexists(check.unacked_key, tag)  # still there for the reaper's restore
            check.qos.restore_by_tag(tag)
            again = check.basic_get(queue, no_ack=True)
            assert again is not None and again.decode() == {"n": 2}
        finally:
            check.queue_delete(queue)
            check.close()


def test_a_publish_after_redis_lost_its_bindings_reaches_kilns_queue(settings) -> None:
    """Found by make chaos: after a Redis restart without its data, kombu knows no binding until a worker declares
    its queues again, and it routed each publish meanwhile to no queue at all: 73 invocations submitted in those
    three seconds were lost to the broker (their rows waited for the reaper). A publish to one of Kiln's queues now
    finds Celery's binding again; one to an exchange Kiln does not route to is still dropped, as kombu does."""
    from kombu import Exchange
    from kombu import Queue as KombuQueue

    settings.CELERY_TASK_ROUTES = {**settings.CELERY_TASK_ROUTES, "tests.rebind": {"queue": "kiln-test-rebind"}}
    with Connection(current_app.conf.broker_url, transport=Transport) as conn:
        channel = conn.channel()
        try:
            for name in ("kiln-test-rebind", "kiln-test-unrouted"):
                KombuQueue(name, Exchange(name), routing_key=name)(channel).declare()  # as a worker declares it
                channel.queue_purge(name)
            with channel.conn_or_acquire() as client:
                client.delete("_kombu.binding.kiln-test-rebind", "_kombu.binding.kiln-test-unrouted")  # the restart
            producer = conn.Producer(channel)
            producer.publish({"n": 3}, exchange="kiln-test-rebind", routing_key="kiln-test-rebind", serializer="json")
            producer.publish({"n": 4}, exchange="kiln-test-unrouted", routing_key="kiln-test-unrouted", serializer="json")
            message = channel.basic_get("kiln-test-rebind", no_ack=True)
            assert message is not None and message.decode() == {"n": 3}
            assert channel.basic_get("kiln-test-unrouted", no_ack=True) is None
            with channel.conn_or_acquire() as client:
                assert client.smembers("_kombu.binding.kiln-test-rebind") == {b"kiln-test-rebind\x06\x16\x06\x16kiln-test-rebind"}
        finally:
            for name in ("kiln-test-rebind", "kiln-test-unrouted"):
                channel.queue_delete(name)
            channel.close()
