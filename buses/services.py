"""EventBridge's writes: buses, rules, targets, PutEvents, TestEventPattern, tags, and schedules firing.

``events_put`` validates each entry as AWS does (per-entry ``ErrorCode``/``ErrorMessage``), builds the event
envelope, matches the bus's enabled rules (``core.patterns``) and writes one ``Delivery`` per matching
(event, target) in one transaction; the deliveries are enqueued after commit (``buses.delivery``).
``schedules_fire(now)`` fires every scheduled rule whose ``next_fire_at`` is due: the rule's next tick is
advanced by a conditional update and the tick recorded in the unique ``ScheduleTick`` row, in the same
transaction as its deliveries, so a tick fires once whatever number of beats run. After downtime only the
most recent missed tick fires (once); earlier missed ticks are skipped, as EventBridge does not replay them.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from buses import delivery as deliveries
from buses import inputs, limits
from buses.errors import BusError, already_exists, bad_pattern, invalid, limit_exceeded, not_found
from buses.models import DEFAULT_BUS, Delivery, EventBus, Rule, RuleState, ScheduleTick, Target
from buses.schedules import ScheduleError, latest_due, schedule_parse
from buses.selectors import bus_default, bus_get, resource_by_arn
from buses.targets import target_kind_for
from core.patterns import Pattern, PatternError, pattern_compile

_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_TARGET_ID = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_SQS_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")


def _constraint(value: Any, member: str, constraint: str) -> BusError:
    return invalid(f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}")


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- patterns --------------------------------------------------------------------------------------------------------

_COMPILED: OrderedDict[tuple[int, str], Pattern] = OrderedDict()
_COMPILED_MAX = 2048


def pattern_check(pattern: str) -> Pattern:
    """A rule's EventPattern compiled, or ``InvalidEventPatternException`` in EventBridge's words."""
    if len(pattern) > limits.EVENT_PATTERN_MAX:
        raise _constraint("...", "eventPattern", f"Member must have length less than or equal to {limits.EVENT_PATTERN_MAX}")
    try:
        return pattern_compile(pattern, dialect="eventbridge")
    except PatternError as error:
        raise bad_pattern(error.message) from None


def _rule_pattern(rule: Rule) -> Pattern | None:
    key = (rule.pk, rule.event_pattern)
    compiled = _COMPILED.get(key)
    if compiled is None:
        try:
            compiled = pattern_compile(rule.event_pattern, dialect="eventbridge")
        except PatternError:
            return None
        _COMPILED[key] = compiled
        if len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    return compiled


def pattern_test(pattern: str, event_text: str) -> bool:
    """TestEventPattern: the pattern checked, the event checked to be an event, then matched."""
    compiled = pattern_check(pattern)
    try:
        event = json.loads(event_text)
    except ValueError:
        raise invalid("Parameter Event is not valid.") from None
    if not isinstance(event, dict):
        raise invalid("Parameter Event is not valid.")
    for field in ("id", "account", "source", "time", "region", "detail-type"):
        if field not in event:
            raise invalid(f"Parameter Event is not valid. Reason: Provided Event is missing the required field '{field}'.")
    if event.get("account") != settings.KILN_ACCOUNT_ID:
        raise invalid("Parameter Event is not valid. Reason: Value of 'account' must be the account ID of the caller.")
    return compiled.matches(event)


# --- buses -----------------------------------------------------------------------------------------------------------

def _tags_check(tags: dict[str, str]) -> None:
    if len(tags) > limits.TAGS_MAX:
        raise invalid(f"A resource can have at most {limits.TAGS_MAX} tags.")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise invalid("Tag keys are 1 to 128 characters and tag values at most 256.")


def bus_create(*, name: str, description: str = "", tags: dict[str, str] | None = None) -> EventBus:
    if not _BUS_NAME.match(name or ""):
        raise _constraint(name, "name", "Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+")
    if name.startswith("aws."):
        raise invalid("Event bus name must not start with 'aws.'.")
    if len(description) > limits.DESCRIPTION_MAX:
        raise _constraint(description, "description", f"Member must have length less than or equal to {limits.DESCRIPTION_MAX}")
    _tags_check(tags or {})
    if name == DEFAULT_BUS or EventBus.objects.filter(name=name).exists():
        raise already_exists(f"Event bus {name} already exists.")
    if EventBus.objects.count() >= limits.BUSES_MAX:
        raise limit_exceeded()
    try:
        with transaction.atomic():
            return EventBus.objects.create(name=name, description=description, tags=dict(tags or {}))
    except IntegrityError:
        raise already_exists(f"Event bus {name} already exists.") from None


def bus_delete(*, name: str) -> None:
    """A custom bus and its rules (the default bus cannot be deleted); an unknown name is not an error."""
    if name == DEFAULT_BUS:
        raise invalid("Cannot delete event bus default.")
    EventBus.objects.filter(name=name).delete()


# --- rules -----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleInput:
    name: str
    event_pattern: str | None = None
    schedule_expression: str | None = None
    state: str | None = None
    description: str | None = None
    role_arn: str | None = None
    tags: dict[str, str] | None = None


def _next_fire(rule: Rule, now: datetime.datetime | None = None) -> datetime.datetime | None:
    if not rule.schedule_expression or not rule.enabled:
        return None
    schedule = schedule_parse(rule.schedule_expression, anchor=rule.created_at)
    return schedule.next_after(now or timezone.now(), rule.created_at)


def rule_put(*, bus: EventBus, data: RuleInput) -> Rule:
    """PutRule: create the rule or replace its settings (targets stay)."""
    if not _RULE_NAME.match(data.name or ""):
        raise _constraint(data.name, "name", "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+")
    pattern, schedule = data.event_pattern or "", data.schedule_expression or ""
    if not pattern and not schedule:
        raise invalid("Parameter(s) EventPattern or ScheduleExpression must be specified.")
    if pattern:
        pattern_check(pattern)
    if schedule:
        if len(schedule) > limits.SCHEDULE_EXPRESSION_MAX:
            raise _constraint(schedule, "scheduleExpression", f"Member must have length less than or equal to {limits.SCHEDULE_EXPRESSION_MAX}")
        try:
            schedule_parse(schedule)
        except ScheduleError:
            raise invalid("Parameter ScheduleExpression is not valid.") from None
        if bus.name != DEFAULT_BUS:
            raise invalid("ScheduleExpression is supported only on the default event bus.")
    state = data.state or RuleState.ENABLED
    if state not in RuleState.values:
        raise _constraint(state, "state", "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]")
    if data.description is not None and len(data.description) > limits.DESCRIPTION_MAX:
        raise _constraint(data.description, "description", f"Member must have length less than or equal to {limits.DESCRIPTION_MAX}")
    _tags_check(data.tags or {})
    with transaction.atomic():
        rule = Rule.objects.select_for_update().select_related("bus").filter(bus=bus, name=data.name).first()
        if rule is None:
            if Rule.objects.filter(bus=bus).count() >= limits.RULES_PER_BUS_MAX:
                raise limit_exceeded()
            rule = Rule.objects.create(bus=bus, name=data.name, tags=dict(data.tags or {}))
        rule.event_pattern, rule.schedule_expression, rule.state = pattern, schedule, state
        if data.description is not None:
            rule.description = data.description
        if data.role_arn is not None:
            rule.role_arn = data.role_arn
        if data.tags:
            rule.tags = {**rule.tags, **data.tags}
        rule.next_fire_at = _next_fire(rule)
        rule.save()
    return rule


def rule_set_state(*, rule: Rule, enabled: bool) -> Rule:
    """EnableRule / DisableRule; enabling a schedule starts from its next tick (ticks while disabled never fire)."""
    rule.state = RuleState.ENABLED if enabled else RuleState.DISABLED
    rule.next_fire_at = _next_fire(rule)
    Rule.objects.filter(pk=rule.pk).update(state=rule.state, next_fire_at=rule.next_fire_at, updated_at=timezone.now())
    return rule


def rule_delete(*, rule: Rule, force: bool = False) -> None:
    if rule.managed_by and not force:
        raise BusError(f"Rule {rule.name} is managed by {rule.managed_by}; delete it with Force.", code="ManagedRuleException")
    with transaction.atomic():
        if Target.objects.filter(rule=rule).exists():
            raise invalid("Rule can't be deleted since it has targets.")
        rule.delete()


# --- targets ---------------------------------------------------------------------------------------------------------

def _target_fields(rule: Rule, spec: dict[str, Any]) -> dict[str, Any]:
    """One PutTargets entry checked; raises ValidationException for what fails the whole request."""
    target_id, arn = spec.get("Id") or "", spec.get("Arn") or ""
    if not _TARGET_ID.match(target_id):
        raise _constraint(target_id, "targets.member.id", "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+")
    given = [key for key in ("Input", "InputPath", "InputTransformer") if spec.get(key) is not None]
    if len(given) > 1:
        raise invalid("Only one of Input, InputPath, or InputTransformer must be provided.")
    if spec.get("Input") is not None:
        if len(spec["Input"]) > limits.INPUT_MAX:
            raise _constraint("...", "targets.member.input", f"Member must have length less than or equal to {limits.INPUT_MAX}")
        try:
            json.loads(spec["Input"])
        except ValueError:
            raise invalid(f"Input for target {target_id} is not valid JSON text.") from None
    if spec.get("InputPath") is not None and not inputs.path_valid(spec["InputPath"]):
        raise invalid(f"InputPath for target {target_id} is invalid.")
    if spec.get("InputTransformer") is not None:
        inputs.transformer_check(spec["InputTransformer"], target_id)
    retry = spec.get("RetryPolicy") or {}
    attempts, age = retry.get("MaximumRetryAttempts"), retry.get("MaximumEventAgeInSeconds")
    if attempts is not None and not 0 <= attempts <= limits.RETRY_ATTEMPTS_MAX:
        raise _constraint(attempts, "targets.member.retryPolicy.maximumRetryAttempts",
                          f"Member must have value {'less' if attempts > 0 else 'greater'} than or equal to {limits.RETRY_ATTEMPTS_MAX if attempts > 0 else 0}")
    if age is not None and not limits.EVENT_AGE_MIN <= age <= limits.EVENT_AGE_MAX:
        high = age > limits.EVENT_AGE_MAX
        raise _constraint(age, "targets.member.retryPolicy.maximumEventAgeInSeconds",
                          f"Member must have value {'less' if high else 'greater'} than or equal to {limits.EVENT_AGE_MAX if high else limits.EVENT_AGE_MIN}")
    dlq = (spec.get("DeadLetterConfig") or {}).get("Arn") or ""
    if dlq and not _SQS_ARN.match(dlq):
        raise invalid(f"Dead-letter queue arn {dlq} is not a valid SQS queue ARN.")
    parameters = {k: v for k, v in spec.items() if k.endswith("Parameters") or k == "HttpParameters"}
    return {"target_id": target_id, "arn": arn, "role_arn": spec.get("RoleArn") or "", "input": spec.get("Input") or "",
            "input_path": spec.get("InputPath") or "", "input_transformer": spec.get("InputTransformer"),
            "retry_attempts": limits.RETRY_ATTEMPTS_DEFAULT if attempts is None else attempts,
            "max_event_age": limits.EVENT_AGE_DEFAULT if age is None else age, "retry_policy_set": bool(retry),
            "dead_letter_arn": dlq, "parameters": parameters}


def targets_put(*, rule: Rule, targets: list[dict[str, Any]]) -> list[dict[str, str]]:
    """PutTargets: add or replace targets by Id; the FailedEntries (an ARN no target kind serves)."""
    if not targets:
        raise _constraint("[]", "targets", "Member must have length greater than or equal to 1")
    if len(targets) > limits.PUT_TARGETS_MAX:
        raise _constraint("...", "targets", f"Member must have length less than or equal to {limits.PUT_TARGETS_MAX}")
    checked = [_target_fields(rule, spec) for spec in targets]
    failed: list[dict[str, str]] = []
    accepted = []
    for fields in checked:
        if target_kind_for(fields["arn"]) is None:
            failed.append({"TargetId": fields["target_id"], "ErrorCode": "ValidationException",
                           "ErrorMessage": f"Target arn {fields['arn']} is not a supported target (Lambda, SQS, SNS or an event bus)."})
        else:
            accepted.append(fields)
    with transaction.atomic():
        Rule.objects.select_for_update().filter(pk=rule.pk).first()  # serialise PutTargets on the rule
        existing = set(Target.objects.filter(rule=rule).values_list("target_id", flat=True))
        new_ids = {f["target_id"] for f in accepted} - existing
        if len(existing) + len(new_ids) > limits.TARGETS_PER_RULE_MAX:
            raise limit_exceeded()
        for fields in accepted:
            Target.objects.update_or_create(rule=rule, target_id=fields["target_id"], defaults=fields)
    return failed


def targets_remove(*, rule: Rule, ids: list[str]) -> list[dict[str, str]]:
    Target.objects.filter(rule=rule, target_id__in=ids).delete()
    return []


# --- tags ------------------------------------------------------------------------------------------------------------

def _tagged(arn: str) -> EventBus | Rule:
    found = resource_by_arn(arn)
    if found is None:
        name = arn.rsplit("/", 1)[-1]
        raise not_found(f"Rule {name} does not exist on EventBus default." if ":rule/" in arn else f"Event bus {name} does not exist.")
    return found


def resource_tag(*, arn: str, tags: dict[str, str]) -> None:
    resource = _tagged(arn)
    merged = {**resource.tags, **tags}
    _tags_check(merged)
    type(resource).objects.filter(pk=resource.pk).update(tags=merged)


def resource_untag(*, arn: str, keys: list[str]) -> None:
    resource = _tagged(arn)
    type(resource).objects.filter(pk=resource.pk).update(tags={k: v for k, v in resource.tags.items() if k not in set(keys)})


def resource_tags(arn: str) -> dict[str, str]:
    return dict(_tagged(arn).tags)


# --- events ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryResult:
    event_id: str = ""
    error_code: str = ""
    error_message: str = ""


def entry_size(entry: dict[str, Any]) -> int:
    """An entry's size as EventBridge computes it: Time 14 bytes, then Source, DetailType, Detail and each Resource in UTF-8."""
    size = limits.TIME_SIZE if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key):
            size += len(str(entry[key]).encode("utf-8"))
    for resource in entry.get("Resources") or []:
        size += len(str(resource).encode("utf-8"))
    return size


def envelope(*, source: str, detail_type: str, detail: dict[str, Any], resources: list[str], time: datetime.datetime | None = None,
             event_id: str | None = None) -> dict[str, Any]:
    """The event as EventBridge delivers it."""
    return {"version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": detail_type, "source": source,
            "account": settings.KILN_ACCOUNT_ID, "time": _iso(time or timezone.now()), "region": settings.KILN_REGION,
            "resources": list(resources), "detail": detail}


def _entry_check(entry: dict[str, Any]) -> tuple[EventBus | None, dict[str, Any] | None, EntryResult | None]:
    from buses.selectors import bus_find, bus_name_of

    bus = bus_find(entry.get("EventBusName"))
    if bus is None:
        return None, None, EntryResult(error_code="ResourceNotFoundException",
                                       error_message=f"Event bus {bus_name_of(entry.get('EventBusName'))} does not exist.")
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return None, None, EntryResult(error_code="InvalidArgument", error_message=f"Parameter {key} is not valid. Reason: {key} is a required argument.")
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        return None, None, EntryResult(error_code="MalformedDetail", error_message="Detail is malformed.")
    if str(entry["Source"]).startswith("aws."):
        return None, None, EntryResult(error_code="NotAuthorizedForSourceException", error_message="Not authorized for the source.")
    return bus, detail, None


def event_route(bus: EventBus, event: dict[str, Any], *, hops: int = 0) -> list[Delivery]:
    """Write a Delivery for every target of every enabled rule on ``bus`` whose pattern matches ``event``."""
    created: list[Delivery] = []
    now = timezone.now()
    rules = Rule.objects.select_related("bus").filter(bus=bus).exclude(state=RuleState.DISABLED).exclude(event_pattern="")
    with transaction.atomic():
        for rule in rules:
            compiled = _rule_pattern(rule)
            if compiled is None or not compiled.matches(event):
                continue
            created += _deliveries(rule, event, now=now, hops=hops)
        ids = [str(d.pk) for d in created]
        if ids:
            transaction.on_commit(lambda: deliveries.delivery_enqueue(ids))
    return created


def _deliveries(rule: Rule, event: dict[str, Any], *, now: datetime.datetime, hops: int = 0, scheduled: bool = False) -> list[Delivery]:
    rows = []
    for target in Target.objects.filter(rule=rule).order_by("target_id"):
        bus_target = target_kind_for(target.arn)
        payload = json.dumps(event) if bus_target is not None and bus_target.name == "event-bus" else inputs.payload_for(
            event, rule_arn=rule.arn, rule_name=rule.name, input_text=target.input, input_path=target.input_path,
            transformer=target.input_transformer, ingestion_time=_iso(now))
        rows.append(Delivery(event_id=event["id"], bus_name=rule.bus.name, rule=rule, rule_arn=rule.arn, target_id=target.target_id,
                             target_arn=target.arn, event=json.dumps(event), payload=payload, scheduled=scheduled, hops=hops,
                             parameters=target.parameters, retry_attempts=target.retry_attempts, max_event_age=target.max_event_age,
                             dead_letter_arn=target.dead_letter_arn, next_attempt_at=now))
    return Delivery.objects.bulk_create(rows)


def events_put(entries: list[dict[str, Any]]) -> list[EntryResult]:
    """PutEvents: each entry accepted (its event id) or refused (its error), in the order given."""
    if not entries:
        raise _constraint("[]", "entries", "Member must have length greater than or equal to 1")
    if len(entries) > limits.PUT_EVENTS_ENTRIES_MAX:
        raise _constraint("...", "entries", f"Member must have length less than or equal to {limits.PUT_EVENTS_ENTRIES_MAX}")
    if sum(entry_size(e) for e in entries) > limits.PUT_EVENTS_SIZE_MAX:
        raise invalid("Total size of the entries in the request is over the limit.")
    results: list[EntryResult] = []
    with transaction.atomic():
        for entry in entries:
            bus, detail, refused = _entry_check(entry)
            if refused is not None or bus is None or detail is None:
                results.append(refused or EntryResult(error_code="InternalFailure", error_message="Internal failure."))
                continue
            event = envelope(source=entry["Source"], detail_type=entry["DetailType"], detail=detail, resources=entry.get("Resources") or [],
                             time=entry.get("Time"))
            event_route(bus, event)
            results.append(EntryResult(event_id=event["id"]))
    return results


# --- schedules -------------------------------------------------------------------------------------------------------

def scheduled_event(rule: Rule, tick: datetime.datetime) -> dict[str, Any]:
    """The event a scheduled rule sends at ``tick``: "Scheduled Event" from "aws.events", the rule as its resource."""
    return envelope(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[rule.arn], time=tick)


def schedule_fire(rule: Rule, now: datetime.datetime) -> ScheduleTick | None:
    """Fire ``rule``'s most recent due tick once: ``None`` when another process fired it (or it is not due)."""
    due = rule.next_fire_at
    if due is None or due > now or not rule.enabled or not rule.schedule_expression:
        return None
    schedule = schedule_parse(rule.schedule_expression, anchor=rule.created_at)
    tick = latest_due(schedule, due, now, rule.created_at)
    following = schedule.next_after(tick, rule.created_at)
    with transaction.atomic():
        advanced = Rule.objects.filter(pk=rule.pk, next_fire_at=due).exclude(state=RuleState.DISABLED).update(next_fire_at=following)
        if not advanced:
            return None
        event = scheduled_event(rule, tick)
        try:
            with transaction.atomic():
                fired = ScheduleTick.objects.create(rule=rule, tick_at=tick, event_id=event["id"])
        except IntegrityError:
            return None
        # Deliveries are due at once (real time), whatever ``now`` the tick was computed for.
        created = _deliveries(rule, event, now=min(now, timezone.now()), scheduled=True)
        ids = [str(d.pk) for d in created]
        if ids:
            transaction.on_commit(lambda: deliveries.delivery_enqueue(ids))
    return fired


def schedules_fire(now: datetime.datetime | None = None) -> int:
    """Beat's tick: fire every due scheduled rule (one indexed query when nothing is due); how many fired."""
    now = now or timezone.now()
    fired = 0
    for rule in Rule.objects.select_related("bus").filter(next_fire_at__lte=now).exclude(state=RuleState.DISABLED):
        if schedule_fire(rule, now) is not None:
            fired += 1
    return fired


__all__ = ["RuleInput", "EntryResult", "bus_create", "bus_delete", "bus_default", "bus_get", "rule_put", "rule_set_state", "rule_delete",
           "targets_put", "targets_remove", "events_put", "event_route", "pattern_test", "schedules_fire", "schedule_fire"]
