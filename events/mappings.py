"""Event source mappings: their state machine, the registry of source kinds, and the writes.

Lambda's states: a mapping is written ``Creating`` (or moved to ``Updating``, ``Enabling``, ``Disabling``,
``Deleting``) and settled once the write has committed: the source kind starts or stops its poller, and
the state becomes ``Enabled`` or ``Disabled`` (or the row goes, for ``Deleting``). Every move is one
conditional update from the state it leaves, so concurrent writers cannot skip a state, and
``mappings_settle`` (beat) finishes any settle a crashed process left half-way.

A source kind (SQS in ``queues``, DynamoDB Streams in ``tables``) registers its ARN pattern, its batch
limits, a check that the source exists, and start/stop hooks; a mapping to a source no kind serves is refused.
"""

from __future__ import annotations

import datetime
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, NotFound, ValidationFailed
from core.generations import GenerationCache
from core.patterns import Pattern, PatternError, lambda_filter_record, pattern_compile
from events.models import EventSourceMapping, MappingState
from functions.models import Function

log = logging.getLogger(__name__)

# state -> the states it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    MappingState.CREATING: frozenset({MappingState.ENABLED, MappingState.DISABLED, MappingState.DELETING}),
    MappingState.ENABLED: frozenset({MappingState.DISABLING, MappingState.UPDATING, MappingState.DELETING}),
    MappingState.DISABLING: frozenset({MappingState.DISABLED}),
    MappingState.DISABLED: frozenset({MappingState.ENABLING, MappingState.UPDATING, MappingState.DELETING}),
    MappingState.ENABLING: frozenset({MappingState.ENABLED}),
    MappingState.UPDATING: frozenset({MappingState.ENABLED, MappingState.DISABLED}),
    MappingState.DELETING: frozenset(),
}
SETTLED = frozenset({MappingState.ENABLED, MappingState.DISABLED})
STUCK_AFTER = datetime.timedelta(seconds=30)  # a transitional state older than this is settled by beat


def transition_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


# Which mappings are enabled on a source, asked on every send to a queue: cached per process, the generation
# bumped by every state move, create and delete (events/apps.py).
ENABLED_ON_SOURCE: GenerationCache[list[Any]] = GenerationCache("mapping-states", ttl_s=30.0)


def enabled_mapping_ids(kind: str, source_arn: str) -> list[Any]:
    """The primary keys of the ``Enabled`` mappings of ``kind`` reading ``source_arn``."""
    return ENABLED_ON_SOURCE.get((kind, source_arn), lambda: list(
        EventSourceMapping.objects.filter(kind=kind, event_source_arn=source_arn, state=MappingState.ENABLED).values_list("pk", flat=True)))


FILTER_PATTERN_MAX = 4096


def filter_criteria_check(criteria: Any) -> None:
    """``FilterCriteria`` as Lambda accepts it: at most 5 filters, each a valid pattern of at most 4096 characters."""
    filters = criteria.get("Filters", []) if isinstance(criteria, dict) else None
    if not isinstance(filters, list) or len(filters) > 5 or not all(isinstance(f, dict) and isinstance(f.get("Pattern"), str) for f in filters):
        raise ValidationFailed("FilterCriteria must be {\"Filters\": [{\"Pattern\": \"<JSON>\"}]} with at most 5 filters.", details={"field": "FilterCriteria"})
    for index, item in enumerate(filters):
        if len(item["Pattern"]) > FILTER_PATTERN_MAX:
            raise ValidationFailed(f"Invalid filter pattern definition. Reason: FilterCriteria.Filters[{index}].Pattern is longer than "
                                   f"{FILTER_PATTERN_MAX} characters.", details={"field": "FilterCriteria"})
        try:
            pattern_compile(item["Pattern"], dialect="lambda_filter")
        except PatternError as error:
            raise ValidationFailed(f"{error.message} (FilterCriteria.Filters[{index}])", details={"field": "FilterCriteria"}) from None


def mapping_filters(mapping: EventSourceMapping) -> list[Pattern]:
    """The mapping's ``FilterCriteria`` compiled (empty: every record passes)."""
    criteria = mapping.filter_criteria if isinstance(mapping.filter_criteria, dict) else {}
    return [pattern_compile(item["Pattern"], dialect="lambda_filter") for item in criteria.get("Filters", [])]


def record_passes(filters: list[Pattern], record: dict[str, Any]) -> bool:
    """Whether one record of the source's event passes the filters: any filter matching is enough (Lambda's OR)."""
    if not filters:
        return True
    seen = lambda_filter_record(record)
    return any(pattern.matches(seen) for pattern in filters)


def _move(mapping_id: Any, current: str, target: str, **fields: Any) -> bool:
    """Move the mapping from ``current`` to ``target`` (one conditional update); ``False`` if it was not in ``current``."""
    if not transition_allowed(current, target):
        raise ValueError(f"an event source mapping cannot move from {current} to {target}")
    moved = bool(EventSourceMapping.objects.filter(pk=mapping_id, state=current).update(state=target, last_modified=timezone.now(), **fields))
    if moved:
        ENABLED_ON_SOURCE.bump()
    return moved


@dataclass(frozen=True)
class SourceKind:
    """What a source kind tells the mappings: how to recognise its ARNs, its limits, and how to start and stop polling."""

    name: str
    arn: re.Pattern[str]
    batch_default: int
    batch_max: int
    window_max_s: int = 300
    needs_starting_position: bool = False
    check: Callable[[str], None] = lambda arn: None  # raises ValidationFailed when the source does not exist
    check_function: Callable[[str, Function], None] = lambda arn, function: None  # the source's demands on the function (SQS: timeout)
    start: Callable[[EventSourceMapping], None] = lambda mapping: None
    stop: Callable[[EventSourceMapping], None] = lambda mapping: None
    response_types: frozenset[str] = field(default_factory=lambda: frozenset({"ReportBatchItemFailures"}))
    starting_positions: tuple[str, ...] = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
    check_options: Callable[[dict[str, Any]], None] = lambda options: None  # raises ValidationFailed for a bad kind-specific setting


_KINDS: dict[str, SourceKind] = {}


def source_kind_register(kind: SourceKind) -> None:
    _KINDS[kind.name] = kind


def source_kind_for(arn: str) -> SourceKind:
    for kind in _KINDS.values():
        if kind.arn.match(arn or ""):
            return kind
    served = ", ".join(sorted(_KINDS)) or "none yet"
    raise ValidationFailed(f"Kiln has no event source for {arn!r}: mappings read from sources Kiln serves ({served}).",
                           details={"field": "EventSourceArn"})


@dataclass
class MappingInput:
    """What a create or update asks for (``None``: keep / default)."""

    enabled: bool | None = None
    batch_size: int | None = None
    batching_window_s: int | None = None
    maximum_concurrency: int | None = None
    filter_criteria: dict[str, Any] | None = None
    function_response_types: list[str] | None = None
    options: dict[str, Any] | None = None


def _checked(kind: SourceKind, data: MappingInput, mapping: EventSourceMapping) -> None:
    if data.batch_size is not None:
        if not 1 <= data.batch_size <= kind.batch_max:
            raise ValidationFailed(f"BatchSize must be between 1 and {kind.batch_max} for {kind.name}; got {data.batch_size}.", details={"field": "BatchSize"})
        mapping.batch_size = data.batch_size
    if data.batching_window_s is not None:
        if not 0 <= data.batching_window_s <= kind.window_max_s:
            raise ValidationFailed(f"MaximumBatchingWindowInSeconds must be between 0 and {kind.window_max_s}; got {data.batching_window_s}.",
                                   details={"field": "MaximumBatchingWindowInSeconds"})
        mapping.batching_window_s = data.batching_window_s
    if mapping.batch_size > 10 and mapping.batching_window_s < 1 and kind.name == "sqs":
        raise ValidationFailed("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
                               details={"field": "MaximumBatchingWindowInSeconds"})
    if data.maximum_concurrency is not None:
        if not 2 <= data.maximum_concurrency <= 1000:
            raise ValidationFailed("ScalingConfig.MaximumConcurrency must be between 2 and 1000.", details={"field": "ScalingConfig"})
        mapping.maximum_concurrency = data.maximum_concurrency
    if data.filter_criteria is not None:
        filter_criteria_check(data.filter_criteria)
        mapping.filter_criteria = data.filter_criteria
    if data.function_response_types is not None:
        unknown = set(data.function_response_types) - kind.response_types
        if unknown:
            raise ValidationFailed(f"FunctionResponseTypes may hold only {', '.join(sorted(kind.response_types))}.", details={"field": "FunctionResponseTypes"})
        mapping.function_response_types = list(data.function_response_types)
    if data.options is not None:
        options = {**mapping.options, **data.options}
        kind.check_options(options)
        mapping.options = options


def mapping_create(*, function: Function, qualifier: str, source_arn: str, data: MappingInput, starting_position: str = "",
                   starting_position_timestamp: datetime.datetime | None = None) -> EventSourceMapping:
    """Write the mapping ``Creating``; it settles to ``Enabled``/``Disabled`` once the write commits."""
    kind = source_kind_for(source_arn)
    kind.check(source_arn)
    kind.check_function(source_arn, function)
    if kind.needs_starting_position and starting_position not in kind.starting_positions:
        positions = ", ".join(kind.starting_positions[:-1]) + f" or {kind.starting_positions[-1]}"
        what = f"StartingPosition {starting_position} is not supported" if starting_position else "StartingPosition is required"
        raise ValidationFailed(f"{what} for {kind.name} sources: use {positions}.", details={"field": "StartingPosition"})
    mapping = EventSourceMapping(function=function, qualifier=qualifier, event_source_arn=source_arn, kind=kind.name, batch_size=kind.batch_default,
                                 starting_position=starting_position, starting_position_timestamp=starting_position_timestamp)
    _checked(kind, data, mapping)
    mapping.enabled = True if data.enabled is None else data.enabled
    with transaction.atomic():
        duplicate = EventSourceMapping.objects.filter(function=function, qualifier=qualifier, event_source_arn=source_arn).exclude(state=MappingState.DELETING).first()
        if duplicate is not None:
            raise Conflict(f"An event source mapping with {kind.name} arn \" {source_arn} \" and function \" {function.name} \" already exists. "
                           f"Please update or delete the existing mapping with UUID {duplicate.uuid}", details={"uuid": str(duplicate.uuid)})
        mapping.save()
        transaction.on_commit(lambda: mapping_settle(mapping.uuid))
    return mapping


def mapping_get(mapping_id: str) -> EventSourceMapping:
    try:
        key = uuid.UUID(str(mapping_id))
    except ValueError:
        key = None
    found = EventSourceMapping.objects.select_related("function").filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(f"The resource you requested does not exist: no event source mapping {mapping_id}.")
    return found


def mapping_update(*, mapping: EventSourceMapping, data: MappingInput, function: Function | None = None, qualifier: str | None = None) -> EventSourceMapping:
    """Apply changes and move the mapping to ``Updating`` (or ``Enabling``/``Disabling`` when only ``Enabled`` changes)."""
    with transaction.atomic():
        current = EventSourceMapping.objects.select_for_update().get(pk=mapping.pk)
        if current.state not in SETTLED:
            raise Conflict(f"The operation cannot be performed at this time. The event source mapping is currently in the {current.state} state.")
        kind = source_kind_for(current.event_source_arn)
        before = current.enabled
        _checked(kind, data, current)
        if data.enabled is not None:
            current.enabled = data.enabled
        if function is not None:
            kind.check_function(current.event_source_arn, function)
            current.function = function
        if qualifier is not None:
            current.qualifier = qualifier
        only_enabled = data == MappingInput(enabled=data.enabled) and function is None and qualifier is None
        target: str
        if only_enabled and current.enabled != before:
            target = MappingState.ENABLING if current.enabled else MappingState.DISABLING
        elif only_enabled:
            target = current.state  # nothing changes
        else:
            target = MappingState.UPDATING
        if target != current.state and not transition_allowed(current.state, target):
            raise Conflict(f"The event source mapping cannot move from {current.state} to {target}.")
        current.state = target
        current.state_reason = "User action"
        current.save()
        if target not in SETTLED:
            transaction.on_commit(lambda: mapping_settle(current.uuid))
    return current


def mapping_delete(*, mapping: EventSourceMapping) -> EventSourceMapping:
    """Move the mapping to ``Deleting``; its poller stops and the row goes once the write commits."""
    with transaction.atomic():
        current = EventSourceMapping.objects.select_for_update().get(pk=mapping.pk)
        if current.state == MappingState.DELETING:
            return current
        if not transition_allowed(current.state, MappingState.DELETING):
            raise Conflict(f"The operation cannot be performed at this time. The event source mapping is currently in the {current.state} state.")
        _move(current.pk, current.state, MappingState.DELETING, state_reason="User action")
        current.state = MappingState.DELETING
        transaction.on_commit(lambda: mapping_settle(current.uuid))
    return current


def mapping_settle(mapping_id: Any) -> str | None:
    """Finish a transitional state: start or stop the kind's poller, then ``Enabled``/``Disabled`` (or delete). The new state."""
    mapping = EventSourceMapping.objects.select_related("function").filter(pk=mapping_id).first()
    if mapping is None or mapping.state in SETTLED:
        return mapping.state if mapping else None
    kind = _KINDS.get(mapping.kind)
    state = mapping.state
    try:
        if state == MappingState.DELETING:
            if kind is not None:
                kind.stop(mapping)
            EventSourceMapping.objects.filter(pk=mapping.pk, state=MappingState.DELETING).delete()
            return None
        if kind is None:
            raise RuntimeError(f"no source kind {mapping.kind!r} is registered in this process")
        if mapping.enabled:
            kind.start(mapping)
            target = MappingState.ENABLED
        else:
            kind.stop(mapping)
            target = MappingState.DISABLED
        _move(mapping.pk, state, target)
        return target
    except Exception as exc:  # noqa: BLE001 - a source that cannot start leaves the mapping disabled, saying why
        log.warning("event source mapping %s could not settle from %s: %s", mapping.pk, state, exc)
        if state != MappingState.DELETING and transition_allowed(state, MappingState.DISABLED):
            _move(mapping.pk, state, MappingState.DISABLED, state_reason=f"PROBLEM: {exc}"[:256])
            return MappingState.DISABLED
        return state


def mappings_settle() -> int:
    """Settle mappings left in a transitional state (a process died between its write and its settle); how many."""
    cutoff = timezone.now() - STUCK_AFTER
    stuck = EventSourceMapping.objects.exclude(state__in=SETTLED).filter(last_modified__lt=cutoff).values_list("pk", flat=True)
    settled = 0
    for pk in list(stuck):
        mapping_settle(pk)
        settled += 1
    return settled
