"""Event source mappings: the state machine (pure) and settling when a source cannot start."""

from __future__ import annotations

import re

import pytest

from events import mappings
from events.mappings import SourceKind, transition_allowed
from events.models import EventSourceMapping, MappingState


def test_only_lambdas_moves_are_allowed() -> None:
    assert transition_allowed(MappingState.CREATING, MappingState.ENABLED)
    assert transition_allowed(MappingState.ENABLED, MappingState.DISABLING)
    assert transition_allowed(MappingState.DISABLING, MappingState.DISABLED)
    assert not transition_allowed(MappingState.DISABLING, MappingState.ENABLED)
    assert not transition_allowed(MappingState.ENABLED, MappingState.ENABLED)
    assert not transition_allowed(MappingState.DELETING, MappingState.ENABLED)
    with pytest.raises(ValueError):
        mappings._move("00000000-0000-0000-0000-000000000000", MappingState.DISABLED, MappingState.ENABLED)


def test_a_source_that_cannot_start_leaves_the_mapping_disabled_with_the_reason(transactional_db: None) -> None:
    from functions.services import Code, FunctionConfig, function_create

    def refuse(mapping: EventSourceMapping) -> None:
        raise RuntimeError("the queue is gone")

    mappings.source_kind_register(SourceKind(name="brokenq", arn=re.compile(r"^arn:aws:brokenq:"), batch_default=1, batch_max=10, start=refuse))
    try:
        function = function_create(name="f", config=FunctionConfig(runtime="python3.11", handler="app.handler"), code=Code(files={"app.py": "def handler(e, c):\n    return 1\n"}))
        mapping = mappings.mapping_create(function=function, qualifier="", source_arn="arn:aws:brokenq:x", data=mappings.MappingInput())
        mapping.refresh_from_db()
        assert mapping.state == MappingState.DISABLED and mapping.state_reason == "PROBLEM: the queue is gone"
    finally:
        mappings._KINDS.pop("brokenq", None)
