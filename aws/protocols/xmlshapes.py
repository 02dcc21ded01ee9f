"""XML <-> values for botocore shapes, shared by the ``rest-xml`` and ``query`` protocols.

Generic over the service model: structures by member ``locationName``, lists wrapped in ``<member>``
(or the member's ``locationName``) unless ``flattened``, maps as ``entry/key/value``, timestamps ISO 8601,
booleans ``true``/``false``, blobs base64. Members bound to headers, the URI, the query string or the
status code are skipped here: the REST layer places those.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from botocore.model import ListShape, MapShape, Shape, StructureShape

_LOCATED = {"header", "headers", "uri", "querystring", "statusCode"}


def timestamp_iso(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return str(value)


def scalar_text(shape: Shape, value: Any) -> str:
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp":
        return timestamp_iso(value)
    if shape.type_name == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return str(value)


def element_name(shape: Shape, default: str) -> str:
    return shape.serialization.get("name", default)


def shape_to_xml(parent: ET.Element, shape: Shape, value: Any, name: str) -> None:
    """Append ``value`` (of ``shape``) to ``parent`` as element(s) called ``name``."""
    if value is None:
        return
    if isinstance(shape, StructureShape):
        node = ET.SubElement(parent, name)
        structure_fill(node, shape, value)
    elif isinstance(shape, ListShape):
        member = shape.member
        if shape.serialization.get("flattened"):
            for item in value:
                shape_to_xml(parent, member, item, element_name(member, name))
        else:
            node = ET.SubElement(parent, name)
            for item in value:
                shape_to_xml(node, member, item, element_name(member, "member"))
    elif isinstance(shape, MapShape):
        node = parent if shape.serialization.get("flattened") else ET.SubElement(parent, name)
        for key, item in value.items():
            entry = ET.SubElement(node, name if shape.serialization.get("flattened") else "entry")
            ET.SubElement(entry, element_name(shape.key, "key")).text = str(key)
            shape_to_xml(entry, shape.value, item, element_name(shape.value, "value"))
    else:
        ET.SubElement(parent, name).text = scalar_text(shape, value)


def structure_fill(node: ET.Element, shape: StructureShape, value: Mapping[str, Any]) -> None:
    for member_name, member in shape.members.items():
        if member.serialization.get("location") in _LOCATED or member_name not in value:
            continue
        if member.serialization.get("xmlAttribute"):
            node.set(element_name(member, member_name), scalar_text(member, value[member_name]))
            continue
        shape_to_xml(node, member, value[member_name], element_name(member, member_name))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _scalar_value(shape: Shape, text: str) -> Any:
    text = text or ""
    if shape.type_name in ("integer", "long"):
        return int(text)
    if shape.type_name in ("float", "double"):
        return float(text)
    if shape.type_name == "boolean":
        return text.strip().lower() == "true"
    if shape.type_name == "blob":
        return base64.b64decode(text)
    return text


def xml_to_shape(node: ET.Element, shape: Shape) -> Any:
    """The value of ``shape`` held by ``node`` (a structure's element, or a scalar's)."""
    if isinstance(shape, StructureShape):
        result: dict[str, Any] = {}
        children = list(node)
        for member_name, member in shape.members.items():
            if member.serialization.get("location") in _LOCATED:
                continue
            wanted = element_name(member, member_name)
            if member.serialization.get("xmlAttribute"):
                for attr, attr_value in node.attrib.items():
                    if _local(attr) == wanted:
                        result[member_name] = attr_value
                continue
            if isinstance(member, ListShape) and member.serialization.get("flattened"):
                items = [c for c in children if _local(c.tag) == element_name(member.member, wanted)]
                if items:
                    result[member_name] = [xml_to_shape(c, member.member) for c in items]
                continue
            found = next((c for c in children if _local(c.tag) == wanted), None)
            if found is not None:
                result[member_name] = xml_to_shape(found, member)
        return result
    if isinstance(shape, ListShape):
        item_name = element_name(shape.member, "member")
        return [xml_to_shape(c, shape.member) for c in node if _local(c.tag) == item_name]
    if isinstance(shape, MapShape):
        out: dict[str, Any] = {}
        for entry in node:
            key = next((c.text or "" for c in entry if _local(c.tag) == element_name(shape.key, "key")), "")
            item = next((c for c in entry if _local(c.tag) == element_name(shape.value, "value")), None)
            out[key] = xml_to_shape(item, shape.value) if item is not None else None
        return out
    return _scalar_value(shape, node.text or "")


def xml_document(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")
