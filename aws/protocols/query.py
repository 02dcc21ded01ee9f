"""The ``query`` protocol (IAM, STS): form-encoded requests in, XML responses out, driven by the model.

Requests: ``Action`` names the operation; members are ``Name``, lists ``Name.member.N`` (``Name.N`` when
flattened), maps ``Name.entry.N.key`` / ``.value``, nested structures ``Outer.Inner``. Responses:
``<{Op}Response xmlns=...><{Op}Result>...</{Op}Result><ResponseMetadata><RequestId>``; errors
``<ErrorResponse><Error><Type>Sender|Receiver</Type><Code>..</Code><Message>..</Message></Error><RequestId>``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape
from django.http import HttpResponse

from aws.errors import AwsError
from aws.protocols.xmlshapes import structure_fill, xml_document

CONTENT_TYPE = "text/xml"


def _scalar(shape: Shape, text: str, where: str) -> Any:
    try:
        if shape.type_name in ("integer", "long"):
            return int(text)
        if shape.type_name in ("float", "double"):
            return float(text)
        if shape.type_name == "timestamp":
            return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise AwsError("ValidationError", f"Value '{text}' at '{where}' is not a valid {shape.type_name}.") from None
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


def _parse(shape: Shape, form: Mapping[str, str], prefix: str) -> Any:
    if isinstance(shape, StructureShape):
        result: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = f"{prefix}.{member.serialization.get('name', name)}" if prefix else member.serialization.get("name", name)
            value = _parse(member, form, key)
            if value is not None:
                result[name] = value
        return result if (result or not prefix) else None
    if isinstance(shape, ListShape):
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.{shape.member.serialization.get('name', 'member')}"
        items, index = [], 1
        while True:
            value = _parse(shape.member, form, f"{base}.{index}")
            if value is None:
                break
            items.append(value)
            index += 1
        if not items and form.get(prefix) == "":
            return []
        return items or None
    if isinstance(shape, MapShape):
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name, value_name = shape.key.serialization.get("name", "key"), shape.value.serialization.get("name", "value")  # SNS: Name / Value
        out, index = {}, 1
        while f"{base}.{index}.{key_name}" in form:
            out[form[f"{base}.{index}.{key_name}"]] = _parse(shape.value, form, f"{base}.{index}.{value_name}")
            index += 1
        return out or None
    if prefix not in form:
        return None
    return _scalar(shape, form[prefix], prefix)


def query_parse(operation: OperationModel, form: Mapping[str, str]) -> dict[str, Any]:
    """The operation's input parameters from the form; required members missing → ``ValidationError``."""
    shape = operation.input_shape
    if shape is None:
        return {}
    for name, value in form.items():  # no store keeps U+0000 (PostgreSQL text refuses it): refused here, not as a 500 there
        if "\x00" in name or "\x00" in value:
            raise AwsError("ValidationError", f"1 validation error detected: Value at '{name.replace(chr(0), '')}' failed to satisfy constraint: "
                                              "Member must not contain the NUL character (U+0000)")
    params = _parse(shape, form, "") or {}
    missing = [name for name in shape.required_members if name not in params]
    if missing:
        raise AwsError("ValidationError", f"1 validation error detected: Value null at '{missing[0][:1].lower() + missing[0][1:]}' failed to satisfy constraint: Member must not be null")
    return params


def query_response(service: ServiceModel, operation: OperationModel, result: Mapping[str, Any], request_id: str) -> HttpResponse:
    root = ET.Element(f"{operation.name}Response", xmlns=service.metadata["xmlNamespace"])
    output = operation.output_shape
    if output is not None:
        wrapper = ET.SubElement(root, output.serialization.get("resultWrapper", f"{operation.name}Result"))
        structure_fill(wrapper, output, result)
    metadata = ET.SubElement(root, "ResponseMetadata")
    ET.SubElement(metadata, "RequestId").text = request_id
    return HttpResponse(xml_document(root), content_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id})


def query_error(service: ServiceModel | None, error: AwsError, request_id: str) -> HttpResponse:
    namespace = service.metadata.get("xmlNamespace", "") if service is not None else ""
    root = ET.Element("ErrorResponse", xmlns=namespace) if namespace else ET.Element("ErrorResponse")
    node = ET.SubElement(root, "Error")
    ET.SubElement(node, "Type").text = "Sender" if error.sender else "Receiver"
    ET.SubElement(node, "Code").text = error.code
    ET.SubElement(node, "Message").text = error.message
    ET.SubElement(root, "RequestId").text = request_id
    return HttpResponse(xml_document(root), status=error.status, content_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id})
