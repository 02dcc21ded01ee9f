"""HTTP APIs with their stages and routes, and function URLs.

An ``HttpApi`` is served at ``/gw/{id}/...`` and on ``{id}.execute-api.localhost``; a ``Route`` binds a
route key (``GET /users/{id}``, ``ANY /files/{proxy+}`` or ``$default``) to a function and a payload
format version. A ``FunctionUrl`` serves one function at ``/url/{url_id}/...`` with payload 2.0.
"""

from __future__ import annotations

from django.db import models

from core.models import TimeStampedModel

DEFAULT_STAGE = "$default"
DEFAULT_ROUTE = "$default"


class PayloadFormat(models.TextChoices):
    V1 = "1.0"
    V2 = "2.0"


class AuthType(models.TextChoices):
    NONE = "NONE"
    AWS_IAM = "AWS_IAM"


class HttpApi(TimeStampedModel):
    id = models.CharField(primary_key=True, max_length=10, editable=False)
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=1024, blank=True, default="")
    # Normalised CORS configuration: allowOrigins, allowMethods, allowHeaders, exposeHeaders, maxAge, allowCredentials.
    cors = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "HTTP API"

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Stage(TimeStampedModel):
    api = models.ForeignKey(HttpApi, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=128)
    variables = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["api", "name"]
        constraints = [models.UniqueConstraint(fields=["api", "name"], name="unique_stage_name")]

    def __str__(self) -> str:
        return self.name


class Route(TimeStampedModel):
    api = models.ForeignKey(HttpApi, on_delete=models.CASCADE, related_name="routes")
    route_key = models.CharField(max_length=512)
    method = models.CharField(max_length=16, blank=True, default="")  # "" for $default
    path = models.CharField(max_length=496, blank=True, default="")  # "" for $default
    function = models.ForeignKey("functions.Function", on_delete=models.CASCADE, related_name="http_routes")
    payload_format_version = models.CharField(max_length=3, choices=PayloadFormat.choices, default=PayloadFormat.V2)

    class Meta:
        ordering = ["api", "path", "method"]
        constraints = [models.UniqueConstraint(fields=["api", "route_key"], name="unique_route_key")]

    def __str__(self) -> str:
        return self.route_key


class FunctionUrl(TimeStampedModel):
    url_id = models.CharField(primary_key=True, max_length=32, editable=False)
    function = models.OneToOneField("functions.Function", on_delete=models.CASCADE, related_name="url_config")
    auth_type = models.CharField(max_length=8, choices=AuthType.choices, default=AuthType.NONE)
    cors = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["function__name"]
        verbose_name = "function URL"

    def __str__(self) -> str:
        return self.url_id
