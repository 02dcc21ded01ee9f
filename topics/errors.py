"""SNS's errors as domain errors: the code is SNS's wire code (``NotFound``, ``InvalidParameter``, ...).

The AWS adapter renders them in the query protocol's XML; the domain only states what went wrong, in AWS's words.
"""

from __future__ import annotations

from core.errors import KilnError


class TopicError(KilnError):
    status = 400
    code = "InvalidParameter"


class TopicNotFound(TopicError):
    status = 404
    code = "NotFound"


def invalid(what: str) -> TopicError:
    """``InvalidParameter`` with AWS's ``Invalid parameter: ...`` wording."""
    return TopicError(f"Invalid parameter: {what}", code="InvalidParameter")


def invalid_value(message: str) -> TopicError:
    """``ParameterValueInvalid`` (the model's InvalidParameterValueException): message attributes and the like."""
    return TopicError(message, code="ParameterValueInvalid")


def no_topic() -> TopicNotFound:
    return TopicNotFound("Topic does not exist", code="NotFound")


def no_subscription() -> TopicNotFound:
    return TopicNotFound("Subscription does not exist", code="NotFound")
