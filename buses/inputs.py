"""What a target receives: the event, ``Input`` (constant JSON), ``InputPath`` (a JSONPath into the event)
or ``InputTransformer`` (``InputPathsMap`` variables substituted into ``InputTemplate``); pure.

Transformer substitution as EventBridge documents it: a template starting with ``{`` or ``[`` is JSON, and a
variable outside quotes becomes its JSON value (a string quoted), inside quotes its text (JSON-escaped); any
other template is text, where a string variable is its bare text. A path that matches nothing is ``null``
(empty inside quotes). Predefined variables: ``aws.events.rule-arn``, ``aws.events.rule-name``,
``aws.events.event.ingestion-time``, ``aws.events.event`` and ``aws.events.event.json`` (the whole event).
"""

from __future__ import annotations

import json
import re
from typing import Any

from buses import limits
from buses.errors import invalid

_PATH = re.compile(r"^\$(\.[A-Za-z0-9_\-]+|\[\d+\]|\['[^']+'\])*$")
_STEP = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\['([^']+)'\]")
_VARIABLE = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_VAR_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")
_MISSING = object()


def path_valid(path: str) -> bool:
    return bool(_PATH.match(path or ""))


def path_get(document: Any, path: str) -> Any:
    """The value at a JSONPath (``$``, ``.name``, ``[n]``, ``['name']``); ``_MISSING`` when nothing is there."""
    value = document
    for name, index, quoted in _STEP.findall(path[1:]):
        key = name or quoted
        if key:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


def transformer_check(transformer: dict[str, Any], target_id: str) -> None:
    """InputTransformer's checks at PutTargets."""
    template = transformer.get("InputTemplate")
    if template is None:
        raise invalid("InputTemplate is a required argument of InputTransformer.")
    if len(template) > limits.INPUT_TEMPLATE_MAX:
        raise invalid(f"InputTemplate for target {target_id} is longer than {limits.INPUT_TEMPLATE_MAX} characters.")
    paths = transformer.get("InputPathsMap") or {}
    if len(paths) > limits.INPUT_PATHS_MAP_MAX:
        raise invalid(f"InputPathsMap for target {target_id} has more than {limits.INPUT_PATHS_MAP_MAX} entries.")
    for name, path in paths.items():
        if not _VAR_NAME.match(name) or name.startswith("aws."):
            raise invalid(f"InputPathsMap has an invalid key: {name}. Keys are letters, digits, '_' and '-', and may not start with 'aws.'.")
        if not path_valid(path):
            raise invalid(f"InputPathsMap has an invalid value for key {name}: {path} is not a valid JSONPath.")


def _substitute(template: str, values: dict[str, Any]) -> str:
    json_mode = template.lstrip()[:1] in ("{", "[")
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "\\" and in_string:
            out.append(template[i:i + 2])
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
            out.append(ch)
            i += 1
            continue
        match = _VARIABLE.match(template, i) if ch == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if in_string:
                text = "" if value is _MISSING or value is None else (value if isinstance(value, str) else json.dumps(value))
                out.append(json.dumps(text)[1:-1])
            elif value is _MISSING:
                out.append("null")
            elif isinstance(value, str) and not json_mode:
                out.append(value)
            else:
                out.append(json.dumps(value))
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def payload_for(event: dict[str, Any], *, rule_arn: str, rule_name: str, input_text: str = "", input_path: str = "",
                transformer: dict[str, Any] | None = None, ingestion_time: str = "") -> str:
    """The text a target receives for ``event``."""
    if input_text:
        return input_text
    if input_path:
        value = path_get(event, input_path)
        return "null" if value is _MISSING else json.dumps(value)
    if transformer:
        values: dict[str, Any] = {name: path_get(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
        values.update({"aws.events.rule-arn": rule_arn, "aws.events.rule-name": rule_name,
                       "aws.events.event.ingestion-time": ingestion_time or event.get("time", ""),
                       "aws.events.event": event, "aws.events.event.json": event})
        return _substitute(transformer.get("InputTemplate") or "", values)
    return json.dumps(event)
