"""Lambda's event source mapping operations over ``events.mappings`` (create, get, update, delete, list)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from aws.context import AwsContext
from aws.registry import operation
from aws.services.lambda_.common import authorized, page
from events.mappings import MappingInput, mapping_create, mapping_delete, mapping_get, mapping_update
from events.models import EventSourceMapping
from functions.versions import function_for, name_split

# Settings a source kind interprets itself, kept as given.
_OPTION_KEYS = ("DestinationConfig", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts", "ParallelizationFactor",
                "TumblingWindowInSeconds")
# What Lambda shows for a stream mapping's settings left out.
_STREAM_DEFAULTS = {"ParallelizationFactor": 1, "MaximumRecordAgeInSeconds": -1, "BisectBatchOnFunctionError": False, "MaximumRetryAttempts": -1,
                    "TumblingWindowInSeconds": 0, "DestinationConfig": {"OnFailure": {}}}


def mapping_configuration(mapping: EventSourceMapping) -> dict[str, Any]:
    function_arn = mapping.function.arn + (f":{mapping.qualifier}" if mapping.qualifier else "")
    out: dict[str, Any] = {
        "UUID": str(mapping.uuid), "BatchSize": mapping.batch_size, "MaximumBatchingWindowInSeconds": mapping.batching_window_s,
        "EventSourceArn": mapping.event_source_arn, "FunctionArn": function_arn, "LastModified": mapping.last_modified,
        "LastProcessingResult": mapping.last_processing_result, "State": mapping.state, "StateTransitionReason": mapping.state_reason,
        "FunctionResponseTypes": list(mapping.function_response_types),
        "EventSourceMappingArn": f"arn:aws:lambda:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:event-source-mapping:{mapping.uuid}",
    }
    if mapping.filter_criteria:
        out["FilterCriteria"] = mapping.filter_criteria
    if mapping.maximum_concurrency:
        out["ScalingConfig"] = {"MaximumConcurrency": mapping.maximum_concurrency}
    if mapping.starting_position:
        out["StartingPosition"] = mapping.starting_position
    if mapping.starting_position_timestamp:
        out["StartingPositionTimestamp"] = mapping.starting_position_timestamp
    if mapping.kind == "dynamodb":
        out.update(_STREAM_DEFAULTS)
    out.update({k: v for k, v in mapping.options.items() if k in _OPTION_KEYS})
    return out


def _input(params: dict[str, Any]) -> MappingInput:
    return MappingInput(
        enabled=params.get("Enabled"), batch_size=params.get("BatchSize"), batching_window_s=params.get("MaximumBatchingWindowInSeconds"),
        maximum_concurrency=(params.get("ScalingConfig") or {}).get("MaximumConcurrency"), filter_criteria=params.get("FilterCriteria"),
        function_response_types=params.get("FunctionResponseTypes"),
        options={k: params[k] for k in _OPTION_KEYS if k in params} or None,
    )


@operation("lambda", "CreateEventSourceMapping")
def create_event_source_mapping(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    authorized(ctx, "CreateEventSourceMapping", params["FunctionName"])
    name, qualifier = name_split(params["FunctionName"])
    function = function_for(name)
    mapping = mapping_create(function=function, qualifier=qualifier or "", source_arn=params.get("EventSourceArn") or "", data=_input(params),
                             starting_position=params.get("StartingPosition") or "", starting_position_timestamp=params.get("StartingPositionTimestamp"))
    return mapping_configuration(mapping)


@operation("lambda", "GetEventSourceMapping")
def get_event_source_mapping(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    mapping = mapping_get(params["UUID"])
    ctx.authorize("lambda:GetEventSourceMapping", f"arn:aws:lambda:{ctx.region}:{settings.KILN_ACCOUNT_ID}:event-source-mapping:{mapping.uuid}")
    return mapping_configuration(mapping)


@operation("lambda", "UpdateEventSourceMapping")
def update_event_source_mapping(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    mapping = mapping_get(params["UUID"])
    ctx.authorize("lambda:UpdateEventSourceMapping", f"arn:aws:lambda:{ctx.region}:{settings.KILN_ACCOUNT_ID}:event-source-mapping:{mapping.uuid}")
    function, qualifier = None, None
    if params.get("FunctionName"):
        name, found = name_split(params["FunctionName"])
        function, qualifier = function_for(name), found or ""
    return mapping_configuration(mapping_update(mapping=mapping, data=_input(params), function=function, qualifier=qualifier))


@operation("lambda", "DeleteEventSourceMapping")
def delete_event_source_mapping(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    mapping = mapping_get(params["UUID"])
    ctx.authorize("lambda:DeleteEventSourceMapping", f"arn:aws:lambda:{ctx.region}:{settings.KILN_ACCOUNT_ID}:event-source-mapping:{mapping.uuid}")
    return mapping_configuration(mapping_delete(mapping=mapping))


@operation("lambda", "ListEventSourceMappings")
def list_event_source_mappings(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.authorize("lambda:ListEventSourceMappings", "*")
    query = EventSourceMapping.objects.select_related("function").order_by("last_modified", "uuid")
    if params.get("FunctionName"):
        name, qualifier = name_split(params["FunctionName"])
        query = query.filter(function__name=name, **({"qualifier": qualifier} if qualifier else {}))
    if params.get("EventSourceArn"):
        query = query.filter(event_source_arn=params["EventSourceArn"])
    chosen, more = page(list(query), params, key=lambda m: str(m.uuid), size=100)
    return {"EventSourceMappings": [mapping_configuration(m) for m in chosen], **more}
