"""Console: event buses, rules (with their targets inline), and recent deliveries with their outcome."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from buses.models import Delivery, EventBus, Rule, Schedule, ScheduleFire, ScheduleTick, Target


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(EventBus)
class EventBusAdmin(_ReadOnly):
    list_display = ["name", "arn", "description", "created_at"]
    search_fields = ["name"]
    fields = ["name", "arn", "description", "tags", "created_at", "updated_at"]
    readonly_fields = fields

    @admin.display(description="ARN")
    def arn(self, obj: EventBus) -> str:
        return obj.arn


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    can_delete = False
    fields = ["target_id", "arn", "input", "input_path", "input_transformer", "retry_attempts", "max_event_age", "dead_letter_arn"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Rule)
class RuleAdmin(_ReadOnly):
    list_display = ["name", "bus", "state", "event_pattern", "schedule_expression", "next_fire_at"]
    list_filter = ["state", "bus"]
    list_select_related = ["bus"]
    search_fields = ["name", "description"]
    fields = ["name", "bus", "arn", "state", "description", "event_pattern", "schedule_expression", "next_fire_at", "role_arn", "tags", "created_at",
              "updated_at"]
    readonly_fields = fields
    inlines = [TargetInline]

    @admin.display(description="ARN")
    def arn(self, obj: Rule) -> str:
        return obj.arn


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = ["event_id", "created_at", "bus_name", "rule_name", "target_id", "target_arn", "state", "attempts", "error_code"]
    list_filter = ["state", "scheduled", "bus_name"]
    search_fields = ["event_id", "target_arn", "rule_arn"]
    fields = ["event_id", "bus_name", "rule_arn", "target_id", "target_arn", "scheduled", "state", "attempts", "next_attempt_at", "claimed_at",
              "finished_at", "error_code", "error_message", "result", "dead_letter_arn", "retry_attempts", "max_event_age", "event", "payload"]
    readonly_fields = fields

    @admin.display(description="Rule")
    def rule_name(self, obj: Delivery) -> str:
        return obj.rule_arn.rsplit("/", 1)[-1]


@admin.register(ScheduleTick)
class ScheduleTickAdmin(_ReadOnly):
    list_display = ["rule", "tick_at", "fired_at", "event_id"]
    list_select_related = ["rule__bus"]
    fields = list_display
    readonly_fields = fields


@admin.register(Schedule)
class ScheduleAdmin(_ReadOnly):
    list_display = ["name", "group_name", "expression", "timezone", "state", "flexible_mode", "next_tick_at", "next_fire_at"]
    list_filter = ["state", "group_name"]
    search_fields = ["name"]
    fields = ["name", "group_name", "expression", "timezone", "start_date", "end_date", "state", "description", "flexible_mode",
              "flexible_window_minutes", "target", "action_after_completion", "next_tick_at", "next_fire_at", "created_at", "updated_at"]
    readonly_fields = fields


@admin.register(ScheduleFire)
class ScheduleFireAdmin(_ReadOnly):
    list_display = ["schedule_arn", "tick_at", "fire_at", "fired_at", "delivery_id"]
    fields = list_display
    readonly_fields = fields
