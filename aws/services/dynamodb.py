"""DynamoDB adapter (awsJson 1.0, target prefix ``DynamoDB_20120810``): thin, over ``tables``.

Attribute values cross the wire untouched: the body is read with ``json.loads`` and only checked against
the model's shapes (a wrong JSON type is a ``SerializationException``); an ``AttributeValue`` is passed on as
its JSON (``B`` stays base64 text, ``N`` a string) and answered the same way, so items round-trip exactly.
Answers carry ``X-Amz-Crc32`` (botocore checks it). Errors are ``{"__type": "<namespace>#<Code>",
"message": ...}`` as DynamoDB sends them (``Item`` on a failed condition when asked, ``CancellationReasons`` on
a cancelled transaction). Every operation asks IAM for ``dynamodb:<Action>`` on the table's ARN (an index's
for a Query or Scan of one); batches and transactions ask for each table, transactions per item action.
PartiQL statements are parsed before they run, to ask for ``dynamodb:PartiQL<Select|Insert|Update|Delete>``
on the table they name (``tables.partiql``).
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from django.conf import settings
from django.http import HttpResponse

from aws.context import AwsContext
from aws.errors import AwsError
from aws.models import service_model
from aws.protocols.awsjson import json_operation
from aws.registry import handler_for, operation
from core.errors import KilnError
from tables import items, partiql, services
from tables.errors import ConditionFailed, StatementDenied, TransactionCanceled
from tables.models import Table
from tables.selectors import table_arn, table_description, table_get, table_names

CONTENT_TYPE = "application/x-amz-json-1.0"
_NAMESPACES = {"ValidationException": "com.amazon.coral.validate", "SerializationException": "com.amazon.coral.service",
               "AccessDeniedException": "com.amazon.coral.service", "UnknownOperationException": "com.amazon.coral.service",
               "UnrecognizedClientException": "com.amazon.coral.service", "IncompleteSignatureException": "com.amazon.coral.service",
               "MissingAuthenticationTokenException": "com.amazon.coral.service"}
_STATUS = {"InternalServerError": 500}
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")


# --- the wire --------------------------------------------------------------------------------------------------------

def _answer(document: dict[str, Any], request_id: str, status: int = 200) -> HttpResponse:
    body = json.dumps(document, separators=(",", ":")).encode()
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPE)
    response["x-amzn-RequestId"] = request_id
    response["x-amz-crc32"] = str(zlib.crc32(body) & 0xFFFFFFFF)
    return response


def error_answer(error: AwsError, request_id: str) -> HttpResponse:
    namespace = _NAMESPACES.get(error.code, "com.amazonaws.dynamodb.v20120810")
    document: dict[str, Any] = {"__type": f"{namespace}#{error.code}", "message": error.message}
    document.update({k: v for k, v in error.fields.items() if k not in document})
    return _answer(document, request_id, status=error.status)


def _aws(error: KilnError) -> AwsError:
    fields: dict[str, Any] = {}
    if isinstance(error, ConditionFailed) and error.item is not None:
        fields["Item"] = error.item
    if isinstance(error, TransactionCanceled):
        fields["CancellationReasons"] = error.reasons
    return AwsError(error.code, error.message, status=_STATUS.get(error.code, error.status), sender=error.status < 500, fields=fields)


def _checked(shape: Shape, value: Any, path: str) -> None:
    """Refuse a JSON value of the wrong type for ``shape`` (attribute values are left to the table service)."""
    if value is None or shape.name == "AttributeValue":
        return
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise _serialization(path, "structure")
        for name, member in shape.members.items():
            if name in value:
                _checked(member, value[name], name)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise _serialization(path, "list")
        for member in value:
            _checked(shape.member, member, path)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise _serialization(path, "map")
        for member in value.values():
            _checked(shape.value, member, path)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _serialization(path, "integer")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _serialization(path, "boolean")
    elif kind in ("string", "blob") and not isinstance(value, str):
        raise _serialization(path, "string")


def _serialization(path: str, expected: str) -> AwsError:
    return AwsError("SerializationException", f"Unexpected value type in payload: {path} must be a {expected}" if path else
                    "Start of structure or map found where not expected.")


def _params(op: OperationModel, body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
        if not isinstance(document, dict):
            raise AwsError("SerializationException", "Start of list found where not expected")
        if op.input_shape is not None:
            _checked(op.input_shape, document, "")
    except (ValueError, UnicodeDecodeError):
        raise AwsError("SerializationException", "Unable to parse the request body as JSON.") from None
    except RecursionError:  # a document (or an attribute value) nested thousands deep
        raise AwsError("SerializationException", "Unable to parse the request body as JSON: it is nested too deeply.") from None
    if op.input_shape is not None:
        missing = [name for name in op.input_shape.required_members if document.get(name) is None]
        if op.name == "CreateTable" and "TableName" in missing:  # CreateTable's own wording (the control plane's validator)
            raise AwsError("ValidationException", "The parameter 'TableName' is required but was not present in the request")
        if missing:
            shown = "; ".join(f"Value null at '{n[:1].lower() + n[1:]}' failed to satisfy constraint: Member must not be null" for n in missing)
            raise AwsError("ValidationException", f"{len(missing)} validation error{'s' if len(missing) > 1 else ''} detected: {shown}")
    return document


def dispatch(ctx: AwsContext, *, verification: object, body: bytes | None) -> HttpResponse:
    model = service_model("dynamodb")
    try:
        op = json_operation(model, ctx.request)
        handler = handler_for("dynamodb", op.name)
        if handler is None:
            raise AwsError("UnknownOperationException", f"Kiln does not implement DynamoDB {op.name} yet.")
        try:
            result = handler(ctx, _params(op, body or b""))
        except KilnError as error:
            raise _aws(error) from None
    except AwsError as error:
        return error_answer(error, ctx.request_id)
    return _answer(result, ctx.request_id)


# --- authorization ---------------------------------------------------------------------------------------------------

def _authorize(ctx: AwsContext, action: str, resource: str, context: dict[str, Any] | None = None) -> None:
    """``dynamodb:<action>`` on ``resource``; a denial is ``AccessDeniedException`` in DynamoDB's words."""
    try:
        ctx.authorize(f"dynamodb:{action}", resource, context)
    except AwsError as error:
        if error.code not in ("AccessDenied", "AccessDeniedException"):
            raise
        raise AwsError("AccessDeniedException", error.message.replace(f'"{resource}"', resource)) from None


def _name(params: dict[str, Any]) -> str:
    name = params.get("TableName")
    if not isinstance(name, str):
        raise AwsError("ValidationException", "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
    constraint = f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: Member must "
    if not name:
        raise AwsError("ValidationException", constraint + "have length greater than or equal to 1")
    if len(name) > 1024:
        raise AwsError("ValidationException", constraint + "have length less than or equal to 1024")
    if not name.startswith("arn:"):  # a name (not an ARN): DynamoDB checks its length and characters before looking it up
        if len(name) > 255:
            raise AwsError("ValidationException", constraint + "have length less than or equal to 255")
        if not _TABLE_NAME.fullmatch(name):
            raise AwsError("ValidationException", constraint + "satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    # a table's ARN names it as well as its name does
    return name.split(":table/", 1)[1] if name.startswith("arn:aws:dynamodb:") and ":table/" in name else name


def _table_request(ctx: AwsContext, params: dict[str, Any], action: str, *, index: bool = False) -> dict[str, Any]:
    name = _name(params)
    _enums_check(params)
    resource = table_arn(name)
    if index and params.get("IndexName"):
        resource += f"/index/{params['IndexName']}"
    _authorize(ctx, action, resource)
    return {**params, "TableName": name}


_ENUMS = {"ReturnValues": "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", "ReturnConsumedCapacity": "[INDEXES, TOTAL, NONE]",
          "ReturnItemCollectionMetrics": "[SIZE, NONE]"}
_ENUM_VALUES = {"ReturnValues": {"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"}, "ReturnConsumedCapacity": {"INDEXES", "TOTAL", "NONE"},
                "ReturnItemCollectionMetrics": {"SIZE", "NONE"}}


def _enums_check(params: dict[str, Any]) -> None:
    """The request's Return* enums, all reported together, before the table is looked up (as DynamoDB does)."""
    wrong = [f"Value '{params[k]}' at '{k[0].lower() + k[1:]}' failed to satisfy constraint: Member must satisfy enum value set: {allowed}"
             for k, allowed in _ENUMS.items() if isinstance(params.get(k), str) and params[k] not in _ENUM_VALUES[k]]
    if wrong:
        count = f"{len(wrong)} validation error{'s' if len(wrong) > 1 else ''} detected: "
        raise AwsError("ValidationException", count + "; ".join(wrong))


# --- control plane ---------------------------------------------------------------------------------------------------

@operation("dynamodb", "CreateTable")
def create_table(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _name(params)
    _authorize(ctx, "CreateTable", table_arn(name))
    table = services.table_create(
        name=name, key_schema=params.get("KeySchema"), attribute_definitions=params.get("AttributeDefinitions"),
        billing_mode=params.get("BillingMode"), provisioned_throughput=params.get("ProvisionedThroughput"),
        global_indexes=params.get("GlobalSecondaryIndexes"), local_indexes=params.get("LocalSecondaryIndexes"),
        stream_specification=params.get("StreamSpecification"), table_class=params.get("TableClass"), tags=params.get("Tags"),
        deletion_protection=bool(params.get("DeletionProtectionEnabled")))
    return {"TableDescription": table_description(table, counts=False)}


@operation("dynamodb", "DescribeTable")
def describe_table(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _name(params)
    _authorize(ctx, "DescribeTable", table_arn(name))
    return {"Table": table_description(table_get(name))}


@operation("dynamodb", "ListTables")
def list_tables(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    _authorize(ctx, "ListTables", "*")
    limit = params.get("Limit")
    if limit is not None and not 1 <= limit <= 100:
        raise AwsError("ValidationException", f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
                       + ("Member must have value greater than or equal to 1" if limit < 1 else "Member must have value less than or equal to 100"))
    page = limit or 100
    names = table_names(after=params.get("ExclusiveStartTableName") or "", limit=page + 1)
    out: dict[str, Any] = {"TableNames": names[:page]}
    if len(names) > page:
        out["LastEvaluatedTableName"] = names[page - 1]
    return out


@operation("dynamodb", "UpdateTable")
def update_table(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _name(params)
    _authorize(ctx, "UpdateTable", table_arn(name))
    table = services.table_update(
        name=name, billing_mode=params.get("BillingMode"), provisioned_throughput=params.get("ProvisionedThroughput"),
        attribute_definitions=params.get("AttributeDefinitions"), gsi_updates=params.get("GlobalSecondaryIndexUpdates"),
        stream_specification=params.get("StreamSpecification"), table_class=params.get("TableClass"),
        deletion_protection=params.get("DeletionProtectionEnabled"))
    return {"TableDescription": table_description(table)}


@operation("dynamodb", "DeleteTable")
def delete_table(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _name(params)
    _authorize(ctx, "DeleteTable", table_arn(name))
    table = table_get(name)
    description = table_description(table)
    services.table_delete(name=name)
    description["TableStatus"] = "DELETING"
    return {"TableDescription": description}


@operation("dynamodb", "UpdateTimeToLive")
def update_time_to_live(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _name(params)
    _authorize(ctx, "UpdateTimeToLive", table_arn(name))
    spec = params.get("TimeToLiveSpecification") or {}
    table = services.table_ttl_update(name=name, attribute=spec.get("AttributeName"), enabled=spec.get("Enabled"))
    return {"TimeToLiveSpecification": {"AttributeName": table.ttl_attribute, "Enabled": table.ttl_enabled}}


@operation("dynamodb", "DescribeTimeToLive")
def describe_time_to_live(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    name = _name(params)
    _authorize(ctx, "DescribeTimeToLive", table_arn(name))
    table = table_get(name)
    if table.ttl_enabled:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}


def _tagged(ctx: AwsContext, params: dict[str, Any], action: str) -> Table:
    arn = params.get("ResourceArn")
    _authorize(ctx, action, arn if isinstance(arn, str) else "*")
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) == 6 and parts[:3] == ["arn", "aws", "dynamodb"] and parts[4] != settings.KILN_ACCOUNT_ID:
        # another account's table: AWS answers as for a resource no resource-based policy shares with the caller
        raise AwsError("AccessDeniedException", f"User: {ctx.principal.arn} is not authorized to perform: dynamodb:{action} on resource: {arn} "
                                                f"because no resource-based policy allows the dynamodb:{action} action")
    return services.table_of_arn(arn)


@operation("dynamodb", "TagResource")
def tag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    _tagged(ctx, params, "TagResource")
    services.table_tag(arn=params.get("ResourceArn"), tags=params.get("Tags"))
    return {}


@operation("dynamodb", "UntagResource")
def untag_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    _tagged(ctx, params, "UntagResource")
    services.table_untag(arn=params.get("ResourceArn"), keys=params.get("TagKeys"))
    return {}


@operation("dynamodb", "ListTagsOfResource")
def list_tags_of_resource(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    table = _tagged(ctx, params, "ListTagsOfResource")
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(table.tags.items())]}


@operation("dynamodb", "DescribeEndpoints")
def describe_endpoints(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Endpoints": [{"Address": ctx.request.get_host() or f"dynamodb.{settings.KILN_REGION}.amazonaws.com", "CachePeriodInMinutes": 1440}]}


@operation("dynamodb", "DescribeLimits")
def describe_limits(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    _authorize(ctx, "DescribeLimits", "*")
    return {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}


# --- data plane ------------------------------------------------------------------------------------------------------

@operation("dynamodb", "PutItem")
def put_item(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_put(_table_request(ctx, params, "PutItem"))


@operation("dynamodb", "GetItem")
def get_item(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_get(_table_request(ctx, params, "GetItem"))


@operation("dynamodb", "UpdateItem")
def update_item(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_update(_table_request(ctx, params, "UpdateItem"))


@operation("dynamodb", "DeleteItem")
def delete_item(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_delete(_table_request(ctx, params, "DeleteItem"))


@operation("dynamodb", "Query")
def query(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_query(_table_request(ctx, params, "Query", index=True))


@operation("dynamodb", "Scan")
def scan(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_scan(_table_request(ctx, params, "Scan", index=True))


def _request_items(ctx: AwsContext, params: dict[str, Any], action: str) -> dict[str, Any]:
    asked = params.get("RequestItems")
    if not isinstance(asked, dict):
        return params
    renamed = {}
    for name, spec in asked.items():
        table = _name({"TableName": name})
        _authorize(ctx, action, table_arn(table))
        renamed[table] = spec
    return {**params, "RequestItems": renamed}


@operation("dynamodb", "BatchGetItem")
def batch_get_item(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_batch_get(_request_items(ctx, params, "BatchGetItem"))


@operation("dynamodb", "BatchWriteItem")
def batch_write_item(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_batch_write(_request_items(ctx, params, "BatchWriteItem"))


_TRANSACT_ACTIONS = {"Get": "GetItem", "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def _transact_items(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    actions = params.get("TransactItems")
    if not isinstance(actions, list):
        return params
    renamed = []
    for action in actions:
        if isinstance(action, dict):
            action = dict(action)
            for kind, iam_action in _TRANSACT_ACTIONS.items():
                spec = action.get(kind)
                if isinstance(spec, dict):
                    name = _name(spec)
                    _authorize(ctx, iam_action, table_arn(name))
                    action[kind] = {**spec, "TableName": name}
        renamed.append(action)
    return {**params, "TransactItems": renamed}


@operation("dynamodb", "TransactGetItems")
def transact_get_items(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_transact_get(_transact_items(ctx, params))


@operation("dynamodb", "TransactWriteItems")
def transact_write_items(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    return items.item_transact_write(_transact_items(ctx, params))


# --- PartiQL ---------------------------------------------------------------------------------------------------------

def _statement_authorize(ctx: AwsContext, statement: partiql.Statement, *, single: bool = False) -> None:
    """``dynamodb:PartiQL<Select|Insert|Update|Delete>`` on the statement's table (its index's ARN for a SELECT of one);
    a SELECT says whether it scans (``dynamodb:FullTableScan``; ``single``: a batch's or a transaction's, by key)."""
    table, index = partiql.statement_target(statement)
    resource = table_arn(table) + (f"/index/{index}" if index else "")
    context = None
    if statement.action == "PartiQLSelect":
        try:
            scans = not single and partiql.select_scans(statement)
        except KilnError:  # no such table or index: IAM decides first, the statement's run says so after
            scans = False
        context = {"dynamodb:FullTableScan": "true" if scans else "false"}
    _authorize(ctx, statement.action, resource, context)


def _statement_authorizer(ctx: AwsContext, *, single: bool = False, per_statement: bool = False) -> partiql.Authorize:
    """The check ``tables.partiql`` runs on each parsed statement (``single``: a batch's or a transaction's, reads by key;
    ``per_statement``: a batch's, whose refused statement answers on its own, ``AccessDenied``)."""
    def authorize(statement: partiql.Statement) -> None:
        try:
            _statement_authorize(ctx, statement, single=single)
        except AwsError as error:
            if per_statement:
                raise StatementDenied(error.message) from None
            raise
    return authorize


@operation("dynamodb", "ExecuteStatement")
def execute_statement(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    _enums_check(params)
    return partiql.statement_execute(params, _statement_authorizer(ctx))


@operation("dynamodb", "BatchExecuteStatement")
def batch_execute_statement(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    _enums_check(params)
    return partiql.statements_batch(params, _statement_authorizer(ctx, single=True, per_statement=True))


@operation("dynamodb", "ExecuteTransaction")
def execute_transaction(ctx: AwsContext, params: dict[str, Any]) -> dict[str, Any]:
    _enums_check(params)
    return partiql.statements_transact(params, _statement_authorizer(ctx, single=True))
