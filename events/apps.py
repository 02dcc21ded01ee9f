from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Triggers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from events.admin import table_stream_mappings
        from tables.admin import table_panel_register

        table_panel_register(table_stream_mappings)

        from core import events as bus
        from events import subscribers
        from storage.domain import ObjectCreated, ObjectRemoved

        bus.subscribe(ObjectCreated, subscribers.object_event_notify)
        bus.subscribe(ObjectRemoved, subscribers.object_event_notify)

        from events import sqs
        from queues.domain import MessagesAvailable

        sqs.register()


        from events.mappings import ENABLED_ON_SOURCE
        from events.models import BucketNotification, EventSourceMapping
        from events.selectors import NOTIFIED_BUCKETS

        # At once and again after commit: nothing read inside the writing transaction, nor by another process before
        # its commit, stays cached (core/generations.py).
        NOTIFIED_BUCKETS.invalidate_on_change(BucketNotification, uid="notified-buckets")
        ENABLED_ON_SOURCE.invalidate_on_change(EventSourceMapping, uid="mapping-states")
        bus.subscribe(MessagesAvailable, sqs.messages_available)

        from events import dynamodb
        from tables.domain import StreamRecordsWritten

        dynamodb.register()
        bus.subscribe(StreamRecordsWritten, dynamodb.records_written)

        from events.s3 import sample_put_event
        from functions.event_templates import template_register

        template_register(template_id="s3-put", name="S3 Put (s3:ObjectCreated:Put)", build=sample_put_event)
