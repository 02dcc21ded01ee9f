"""SNS topics and SQS queues as destinations of asynchronous invocations (``functions.destinations`` kinds).

Lambda sends the invocation record as the message: published to the topic (fanned out like any publish) or
sent to the queue, as JSON. A FIFO target gets the function's name as the message group and the request id as
the deduplication id. Both run inside the invocation's finish transaction; a target that refuses the record
(too large, the queue gone meanwhile) drops it with a warning, as Lambda drops what it cannot deliver.
As a function's ``DeadLetterConfig`` target, the queue or topic gets the failed event itself, with Lambda's
``RequestID``, ``ErrorCode`` and ``ErrorMessage`` message attributes.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from core.errors import KilnError
from functions.destinations import DestinationKind, destination_kind_register
from queues.selectors import queue_by_arn
from topics import publish
from topics.delivery import DeliveryFailed, sqs_send
from topics.selectors import topic_find

log = logging.getLogger(__name__)
SNS_ARN = re.compile(r"^arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
SQS_ARN = re.compile(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")


def _group(record: dict[str, Any]) -> str:
    return str(record.get("requestContext", {}).get("functionArn", "lambda")).split(":function:", 1)[-1].split(":", 1)[0] or "lambda"


def _to_topic(arn: str, record: dict[str, Any], parent_id: str) -> None:
    topic = topic_find(arn)
    if topic is None:
        log.warning("destination topic %s no longer exists; the record of %s is dropped", arn, parent_id)
        return
    try:
        outgoing = publish.message_validate(topic=topic, message=json.dumps(record), group_id=_group(record) if topic.fifo else None,
                                            deduplication_id=parent_id if topic.fifo else None)
        publish.message_publish(topic=topic, outgoing=outgoing)
    except KilnError as error:
        log.warning("destination topic %s refused the record of %s: %s", arn, parent_id, error.message)


def _to_queue(arn: str, record: dict[str, Any], parent_id: str) -> None:
    try:
        sqs_send(arn, json.dumps(record), {}, group_id=_group(record) if arn.endswith(".fifo") else "", deduplication_id=parent_id)
    except DeliveryFailed as failure:
        log.warning("destination queue %s refused the record of %s: %s", arn, parent_id, failure.message)


def _dead_letter_to_topic(arn: str, payload: str, attributes: dict[str, dict[str, str]], request_id: str) -> None:
    topic = topic_find(arn)
    if topic is None:
        log.warning("dead-letter topic %s no longer exists; the event of %s is dropped", arn, request_id)
        return
    try:
        outgoing = publish.message_validate(topic=topic, message=payload, attributes=attributes, group_id="lambda" if topic.fifo else None,
                                            deduplication_id=request_id if topic.fifo else None)
        publish.message_publish(topic=topic, outgoing=outgoing, parent_invocation_id=request_id)
    except KilnError as error:
        log.warning("dead-letter topic %s refused the event of %s: %s", arn, request_id, error.message)


def _dead_letter_to_queue(arn: str, payload: str, attributes: dict[str, dict[str, str]], request_id: str) -> None:
    try:
        sqs_send(arn, payload, attributes, group_id="lambda" if arn.endswith(".fifo") else "", deduplication_id=request_id)
    except DeliveryFailed as failure:
        log.warning("dead-letter queue %s refused the event of %s: %s", arn, request_id, failure.message)


def register() -> None:
    destination_kind_register(DestinationKind(name="sns", arn=SNS_ARN, check=lambda arn: topic_find(arn) is not None, deliver=_to_topic,
                                              dead_letter=_dead_letter_to_topic))
    destination_kind_register(DestinationKind(name="sqs", arn=SQS_ARN, check=lambda arn: queue_by_arn(arn) is not None, deliver=_to_queue,
                                              dead_letter=_dead_letter_to_queue))
