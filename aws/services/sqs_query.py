"""SQS's legacy query protocol (form-encoded ``Action=SendMessage``, XML answers), for SDKs older than botocore 1.31.

botocore's SQS model is now JSON-only and carries none of the query names, so they are written here: lists
are ``AttributeName.N``, maps ``Attribute.N.Name``/``.Value`` (``Tag.N.Key``/``.Value``), message attributes
``MessageAttribute.N.Name`` with ``.Value.StringValue|BinaryValue|DataType``, batch entries
``<Op>RequestEntry.N.<Field>``; answers are ``<{Op}Response><{Op}Result>`` with flattened lists
(``<QueueUrl>``, ``<Message>``, ``<SendMessageBatchResultEntry>``, ``<BatchResultErrorEntry>``). Errors name the
query code (``AWS.SimpleQueueService.NonExistentQueue``) in ``<ErrorResponse>``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from django.http import HttpRequest, HttpResponse

from aws.errors import AwsError
from aws.protocols.xmlshapes import xml_document

NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"
_LISTS = {"AttributeNames": "AttributeName", "MessageAttributeNames": "MessageAttributeName", "MessageSystemAttributeNames": "MessageSystemAttributeName",
          "TagKeys": "TagKey", "AWSAccountIds": "AWSAccountId", "Actions": "ActionName", "QueueUrls": "QueueUrl", "queueUrls": "QueueUrl", "Messages": "Message"}
_MAPS = {"Attributes": ("Attribute", "Name", "Value"), "Tags": ("Tag", "Key", "Value"), "tags": ("Tag", "Key", "Value")}
_MESSAGE_MAPS = {"MessageAttributes": "MessageAttribute", "MessageSystemAttributes": "MessageSystemAttribute"}
_FAILED = "BatchResultErrorEntry"


def is_query(request: HttpRequest) -> bool:
    return not request.headers.get("x-amz-target") and request.content_type == "application/x-www-form-urlencoded"


def query_form(request: HttpRequest, body: bytes) -> dict[str, str]:
    form = {k: v for k, v in request.GET.dict().items() if not k.startswith("X-Amz-")}
    try:
        form.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise AwsError("MalformedQueryString", "The request body is not UTF-8 form data.") from None
    return form


def _scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise AwsError("InvalidParameterValue", f"Value {text} is not a valid integer.") from None
    if shape.type_name == "boolean":
        return text.lower() == "true"
    if shape.type_name == "blob":
        return base64.b64decode(text)
    return text


def _indexed(form: Mapping[str, str], prefix: str) -> list[int]:
    found, index = [], 1
    while any(key == f"{prefix}.{index}" or key.startswith(f"{prefix}.{index}.") for key in form):
        found.append(index)
        index += 1
    return found


def _structure(shape: StructureShape, form: Mapping[str, str], prefix: str, op: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        if isinstance(member, ListShape) and isinstance(member.member, StructureShape):  # batch entries
            base = f"{prefix}{op}RequestEntry"
            out[name] = [_structure(member.member, form, f"{base}.{i}.", op) for i in _indexed(form, base)] if _indexed(form, base) else None
        elif isinstance(member, ListShape):
            base = f"{prefix}{_LISTS.get(name, name)}"
            out[name] = [form[f"{base}.{i}"] for i in _indexed(form, base)] or None
        elif name in _MESSAGE_MAPS:
            base = f"{prefix}{_MESSAGE_MAPS[name]}"
            values: dict[str, Any] = {}
            for i in _indexed(form, base):
                value: dict[str, Any] = {"DataType": form.get(f"{base}.{i}.Value.DataType", "")}
                if f"{base}.{i}.Value.StringValue" in form:
                    value["StringValue"] = form[f"{base}.{i}.Value.StringValue"]
                if f"{base}.{i}.Value.BinaryValue" in form:
                    value["BinaryValue"] = base64.b64decode(form[f"{base}.{i}.Value.BinaryValue"])
                values[form.get(f"{base}.{i}.Name", "")] = value
            out[name] = values or None
        elif isinstance(member, MapShape):
            element, key, val = _MAPS.get(name, (name, "Name", "Value"))
            base = f"{prefix}{element}"
            out[name] = {form.get(f"{base}.{i}.{key}", ""): form.get(f"{base}.{i}.{val}", "") for i in _indexed(form, base)} or None
        elif f"{prefix}{name}" in form:
            out[name] = _scalar(member, form[f"{prefix}{name}"])
    return {k: v for k, v in out.items() if v is not None}


def query_params(operation: OperationModel, form: Mapping[str, str]) -> dict[str, Any]:
    return _structure(operation.input_shape, form, "", operation.name) if operation.input_shape is not None else {}


def _fill(parent: ET.Element, shape: StructureShape, value: Mapping[str, Any], op: str) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        if isinstance(member, ListShape):
            element = {"Successful": f"{op}ResultEntry", "Failed": _FAILED}.get(name, _LISTS.get(name, name))
            for entry in item:
                if isinstance(member.member, StructureShape):
                    _fill(ET.SubElement(parent, element), member.member, entry, op)
                else:
                    ET.SubElement(parent, element).text = str(entry)
        elif name in _MESSAGE_MAPS:
            for key, attribute in item.items():
                node = ET.SubElement(parent, _MESSAGE_MAPS[name])
                ET.SubElement(node, "Name").text = key
                inner = ET.SubElement(node, "Value")
                for field in ("StringValue", "BinaryValue"):
                    if attribute.get(field) is not None:
                        data = attribute[field]
                        ET.SubElement(inner, field).text = base64.b64encode(data).decode() if isinstance(data, bytes) else str(data)
                ET.SubElement(inner, "DataType").text = attribute["DataType"]
        elif isinstance(member, MapShape):
            element, key_name, value_name = _MAPS.get(name, (name, "Name", "Value"))
            for key, text in item.items():
                node = ET.SubElement(parent, element)
                ET.SubElement(node, key_name).text = key
                ET.SubElement(node, value_name).text = str(text)
        elif member.type_name == "boolean":
            ET.SubElement(parent, name).text = "true" if item else "false"
        else:
            ET.SubElement(parent, name).text = str(item)


def query_answer(operation: OperationModel, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    root = ET.Element(f"{operation.name}Response", xmlns=NAMESPACE)
    wrapper = ET.SubElement(root, f"{operation.name}Result")
    if operation.output_shape is not None:
        _fill(wrapper, operation.output_shape, result, operation.name)
    ET.SubElement(ET.SubElement(root, "ResponseMetadata"), "RequestId").text = request_id
    return HttpResponse(xml_document(root), content_type="text/xml", headers={"x-amzn-RequestId": request_id})


def query_error_answer(error: AwsError, request_id: str) -> HttpResponse:
    root = ET.Element("ErrorResponse", xmlns=NAMESPACE)
    node = ET.SubElement(root, "Error")
    ET.SubElement(node, "Type").text = "Sender" if error.sender else "Receiver"
    ET.SubElement(node, "Code").text = error.query_code or error.code
    ET.SubElement(node, "Message").text = error.message
    ET.SubElement(node, "Detail")
    ET.SubElement(root, "RequestId").text = request_id
    return HttpResponse(xml_document(root), status=error.status, content_type="text/xml", headers={"x-amzn-RequestId": request_id})
