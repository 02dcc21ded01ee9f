"""EventBridge adapter (awsJson 1.1, target prefix ``AWSEvents``): thin, over the ``buses`` app.

Buses (default and custom), rules with an ``EventPattern`` and/or a ``ScheduleExpression``, targets,
PutEvents, TestEventPattern and tags. IAM: each operation authorizes ``events:<Operation>`` on the bus or
rule it touches (PutEvents once per bus named in its entries). Errors are EventBridge's exception names
(``ResourceNotFoundException``, ``ValidationException``, ``InvalidEventPatternException``, ...).
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

from django.conf import settings
from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.models import service_model
from aws.protocols.awsjson import json_operation, json_parse, json_response
from aws.registry import handler_for, operation
from buses import limits, services
from buses.models import DEFAULT_BUS, EventBus, Rule, Target
from buses.selectors import bus_get, bus_list, bus_name_of, rule_get, rule_list, rule_names_by_target, targets_of
from core.errors import KilnError


def _aws(error: KilnError) -> AwsError:
    return AwsError(error.code, error.message, status=error.status, sender=error.status < 500)


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    model = service_model("events")
    op = json_operation(model, ctx.request)
    handler = handler_for("events", op.name)
    if handler is None:
        raise AwsError("UnsupportedOperation", f"Kiln does not implement EventBridge {op.name} yet.")
    try:
        result = handler(ctx, json_parse(op, body or b""))
    except KilnError as error:
        raise _aws(error) from None
    except AwsError as error:
        if error.code == "AccessDenied":  # EventBridge names it AccessDeniedException
            raise AwsError("AccessDeniedException", error.message, status=400, fields=error.fields) from None
        raise
    return json_response(model, op, result, request_id=ctx.request_id)


def _arn(kind: str, name: str) -> str:
    return f"arn:aws:events:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:{kind}/{name}"


def _bus_arn(name_or_arn: str | None) -> str:
    return _arn("event-bus", bus_name_of(name_or_arn))


def _rule_arn(bus_name: str, name: str) -> str:
    return _arn("rule", name if bus_name == DEFAULT_BUS else f"{bus_name}/{name}")


def _page(items: list[Any], params: dict[str, Any], key: Any) -> tuple[list[Any], dict[str, str]]:
    """One page (``Limit`` 1-100) after ``NextToken`` (the last key shown, base64)."""
    limit = params.get("Limit")
    if limit is not None and not 1 <= limit <= limits.LIST_LIMIT_MAX:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                       f"Member must have value {'less' if limit > 1 else 'greater'} than or equal to {limits.LIST_LIMIT_MAX if limit > 1 else 1}")
    after = ""
    if params.get("NextToken"):
        try:
            after = base64.urlsafe_b64decode(params["NextToken"].encode()).decode()
            if not after or base64.urlsafe_b64encode(after.encode()).decode() != params["NextToken"]:
                raise ValueError(params["NextToken"])
        except (binascii.Error, ValueError):
            raise AwsError("ValidationException", "The NextToken is not valid.") from None
    rest = [item for item in items if key(item) > after] if after else items
    size = limit or limits.LIST_LIMIT_MAX
    shown = rest[:size]
    more = {"NextToken": base64.urlsafe_b64encode(key(shown[-1]).encode()).decode()} if len(rest) > size else {}
    return shown, more


def _tags_in(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}


# --- buses -----------------------------------------------------------------------------------------------------------

def _bus_out(bus: EventBus) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": bus.name, "Arn": bus.arn, "CreationTime": bus.created_at, "LastModifiedTime": bus.updated_at}
    if bus.description:
        out["Description"] = bus.description
    return out


@operation("events", "CreateEventBus")
def create_event_bus(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params.get("Name") or ""
    ctx.authorize("events:CreateEventBus", _arn("event-bus", name))
    if params.get("EventSourceName"):
        raise AwsError("ValidationException", "Partner event sources are not available in Kiln.")
    bus = services.bus_create(name=name, description=params.get("Description") or "", tags=_tags_in(params.get("Tags")))
    return {"EventBusArn": bus.arn, **({"Description": bus.description} if bus.description else {})}


@operation("events", "DeleteEventBus")
def delete_event_bus(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = bus_name_of(params.get("Name"))
    ctx.authorize("events:DeleteEventBus", _arn("event-bus", name))
    services.bus_delete(name=name)
    return {}


@operation("events", "DescribeEventBus")
def describe_event_bus(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("events:DescribeEventBus", _bus_arn(params.get("Name")))
    return _bus_out(bus_get(params.get("Name")))


@operation("events", "ListEventBuses")
def list_event_buses(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("events:ListEventBuses", _arn("event-bus", "*"))
    shown, more = _page(bus_list(prefix=params.get("NamePrefix") or ""), params, lambda b: b.name)
    return {"EventBuses": [_bus_out(b) for b in shown], **more}


# --- rules -----------------------------------------------------------------------------------------------------------

def _rule_out(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": rule.name, "Arn": rule.arn, "State": rule.state, "EventBusName": rule.bus.name}
    for key, value in (("EventPattern", rule.event_pattern), ("ScheduleExpression", rule.schedule_expression), ("Description", rule.description),
                       ("RoleArn", rule.role_arn), ("ManagedBy", rule.managed_by)):
        if value:
            out[key] = value
    return out


def _rule(ctx: AwsContext, params: dict[str, Any], action: str, member: str = "Name") -> Rule:
    bus = bus_get(params.get("EventBusName"))
    ctx.authorize(f"events:{action}", _rule_arn(bus.name, params.get(member) or ""))
    return rule_get(bus, params.get(member) or "")


@operation("events", "PutRule")
def put_rule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bus = bus_get(params.get("EventBusName"))
    ctx.authorize("events:PutRule", _rule_arn(bus.name, params.get("Name") or ""))
    rule = services.rule_put(bus=bus, data=services.RuleInput(
        name=params.get("Name") or "", event_pattern=params.get("EventPattern"), schedule_expression=params.get("ScheduleExpression"),
        state=params.get("State"), description=params.get("Description"), role_arn=params.get("RoleArn"), tags=_tags_in(params.get("Tags"))))
    return {"RuleArn": rule.arn}


@operation("events", "DescribeRule")
def describe_rule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    rule = _rule(ctx, params, "DescribeRule")
    return {**_rule_out(rule), "CreatedBy": settings.KILN_ACCOUNT_ID}


@operation("events", "ListRules")
def list_rules(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bus = bus_get(params.get("EventBusName"))
    ctx.authorize("events:ListRules", _rule_arn(bus.name, "*"))
    shown, more = _page(rule_list(bus, prefix=params.get("NamePrefix") or ""), params, lambda r: r.name)
    return {"Rules": [_rule_out(r) for r in shown], **more}


@operation("events", "EnableRule")
def enable_rule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.rule_set_state(rule=_rule(ctx, params, "EnableRule"), enabled=True)
    return {}


@operation("events", "DisableRule")
def disable_rule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    services.rule_set_state(rule=_rule(ctx, params, "DisableRule"), enabled=False)
    return {}


@operation("events", "DeleteRule")
def delete_rule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bus = bus_get(params.get("EventBusName"))
    name = params.get("Name") or ""
    ctx.authorize("events:DeleteRule", _rule_arn(bus.name, name))
    rule = Rule.objects.select_related("bus").filter(bus=bus, name=name).first()
    if rule is not None:  # deleting a rule that is not there succeeds
        services.rule_delete(rule=rule, force=bool(params.get("Force")))
    return {}


# --- targets ---------------------------------------------------------------------------------------------------------

def _target_out(target: Target) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": target.target_id, "Arn": target.arn}
    if target.role_arn:
        out["RoleArn"] = target.role_arn
    if target.input:
        out["Input"] = target.input
    if target.input_path:
        out["InputPath"] = target.input_path
    if target.input_transformer:
        out["InputTransformer"] = target.input_transformer
    if target.retry_policy_set:
        out["RetryPolicy"] = {"MaximumRetryAttempts": target.retry_attempts, "MaximumEventAgeInSeconds": target.max_event_age}
    if target.dead_letter_arn:
        out["DeadLetterConfig"] = {"Arn": target.dead_letter_arn}
    out.update(target.parameters or {})
    return out


@operation("events", "PutTargets")
def put_targets(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    rule = _rule(ctx, params, "PutTargets", "Rule")
    failed = services.targets_put(rule=rule, targets=params.get("Targets") or [])
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


@operation("events", "RemoveTargets")
def remove_targets(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    rule = _rule(ctx, params, "RemoveTargets", "Rule")
    failed = services.targets_remove(rule=rule, ids=params.get("Ids") or [])
    return {"FailedEntryCount": len(failed), "FailedEntries": failed}


@operation("events", "ListTargetsByRule")
def list_targets_by_rule(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    rule = _rule(ctx, params, "ListTargetsByRule", "Rule")
    shown, more = _page(targets_of(rule), params, lambda t: t.target_id)
    return {"Targets": [_target_out(t) for t in shown], **more}


@operation("events", "ListRuleNamesByTarget")
def list_rule_names_by_target(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    bus = bus_get(params.get("EventBusName"))
    ctx.authorize("events:ListRuleNamesByTarget", _rule_arn(bus.name, "*"))
    shown, more = _page(rule_names_by_target(bus, params.get("TargetArn") or ""), params, lambda n: n)
    return {"RuleNames": shown, **more}


# --- events ----------------------------------------------------------------------------------------------------------

@operation("events", "PutEvents")
def put_events(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("EndpointId"):
        raise AwsError("ValidationException", "Global endpoints are not available in Kiln.")
    entries = params.get("Entries") or []
    for bus_arn in sorted({_bus_arn(e.get("EventBusName")) for e in entries}):
        ctx.authorize("events:PutEvents", bus_arn)
    for entry in entries:
        if isinstance(entry.get("Time"), int | float):
            entry["Time"] = datetime.datetime.fromtimestamp(entry["Time"], datetime.UTC)
    results = services.events_put(entries)
    out = []
    for result in results:
        out.append({"EventId": result.event_id} if result.event_id else {"ErrorCode": result.error_code, "ErrorMessage": result.error_message})
    return {"FailedEntryCount": sum(1 for r in results if not r.event_id), "Entries": out}


@operation("events", "TestEventPattern")
def test_event_pattern(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("events:TestEventPattern", "*")
    return {"Result": services.pattern_test(params.get("EventPattern") or "", params.get("Event") or "")}


# --- tags ------------------------------------------------------------------------------------------------------------

@operation("events", "TagResource")
def tag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("events:TagResource", params.get("ResourceARN") or "")
    services.resource_tag(arn=params.get("ResourceARN") or "", tags=_tags_in(params.get("Tags")))
    return {}


@operation("events", "UntagResource")
def untag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("events:UntagResource", params.get("ResourceARN") or "")
    services.resource_untag(arn=params.get("ResourceARN") or "", keys=params.get("TagKeys") or [])
    return {}


@operation("events", "ListTagsForResource")
def list_tags_for_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("events:ListTagsForResource", params.get("ResourceARN") or "")
    tags = services.resource_tags(params.get("ResourceARN") or "")
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
