"""Reading buses, rules and targets: lookups by name or ARN (the default bus exists on first use), listings."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from buses.errors import not_found
from buses.models import DEFAULT_BUS, EventBus, Rule, Target


def bus_default() -> EventBus:
    """The account's default bus, created the first time anything asks for it."""
    bus = EventBus.objects.filter(name=DEFAULT_BUS).first()
    if bus is not None:
        return bus
    try:
        with transaction.atomic():
            return EventBus.objects.create(name=DEFAULT_BUS)
    except IntegrityError:
        return EventBus.objects.get(name=DEFAULT_BUS)


def bus_name_of(name_or_arn: str | None) -> str:
    """A bus name from ``EventBusName`` as given (a name or an ARN); ``default`` when empty."""
    text = name_or_arn or DEFAULT_BUS
    prefix = "arn:aws:events:"
    if text.startswith(prefix) and ":event-bus/" in text:
        return text.split(":event-bus/", 1)[1]
    return text


def bus_find(name_or_arn: str | None) -> EventBus | None:
    name = bus_name_of(name_or_arn)
    if name == DEFAULT_BUS:
        return bus_default()
    return EventBus.objects.filter(name=name).first()


def bus_get(name_or_arn: str | None) -> EventBus:
    bus = bus_find(name_or_arn)
    if bus is None:
        raise not_found(f"Event bus {bus_name_of(name_or_arn)} does not exist.")
    return bus


def bus_list(*, prefix: str = "") -> list[EventBus]:
    bus_default()
    buses: QuerySet[EventBus] = EventBus.objects.order_by("name")
    return list(buses.filter(name__startswith=prefix) if prefix else buses)


def rule_get(bus: EventBus, name: str) -> Rule:
    rule = Rule.objects.select_related("bus").filter(bus=bus, name=name).first()
    if rule is None:
        raise not_found(f"Rule {name} does not exist on EventBus {bus.name}.")
    return rule


def rule_list(bus: EventBus, *, prefix: str = "") -> list[Rule]:
    rules = Rule.objects.select_related("bus").filter(bus=bus).order_by("name")
    return list(rules.filter(name__startswith=prefix) if prefix else rules)


def rule_names_by_target(bus: EventBus, target_arn: str) -> list[str]:
    return list(Rule.objects.filter(bus=bus, targets__arn=target_arn).order_by("name").values_list("name", flat=True).distinct())


def targets_of(rule: Rule) -> list[Target]:
    return list(Target.objects.filter(rule=rule).order_by("target_id"))


def resource_by_arn(arn: str) -> EventBus | Rule | None:
    """A bus or rule by ARN (``event-bus/<name>``, ``rule/<name>``, ``rule/<bus>/<name>``)."""
    prefix = f"arn:aws:events:{settings.KILN_REGION}:{settings.KILN_ACCOUNT_ID}:"
    if not arn.startswith(prefix):
        return None
    rest = arn[len(prefix):]
    if rest.startswith("event-bus/"):
        return bus_find(rest[len("event-bus/"):])
    if rest.startswith("rule/"):
        parts = rest[len("rule/"):].split("/")
        bus = bus_find(parts[0] if len(parts) == 2 else DEFAULT_BUS)
        if bus is None:
            return None
        return Rule.objects.select_related("bus").filter(bus=bus, name=parts[-1]).first()
    return None
