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
