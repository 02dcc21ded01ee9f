"""Functions, their immutable code-and-configuration revisions, and layers.

A ``Function`` is the named, mutable thing people edit. Everything that decides how it runs (code,
runtime, handler, memory, timeout, environment, role, layers) lives in a ``FunctionRevision``: a new
row per change, never edited, so an invocation can point at exactly what it ran and a published
version can later be a name for a revision. ``Function.latest`` is ``$LATEST``.
"""

from __future__ import annotations

import uuid

from django.db import models

from core.arns import function_arn, layer_arn, layer_version_arn
from core.models import TimeStampedModel
from functions import limits
from functions.fields import SealedJSONField


class Runtime(models.TextChoices):
    PYTHON_3_11 = "python3.11"
    PYTHON_3_12 = "python3.12"
    PYTHON_3_13 = "python3.13"
    NODEJS_20 = "nodejs20.x"
    NODEJS_22 = "nodejs22.x"
    RUBY_3_3 = "ruby3.3"
    JAVA_17 = "java17"
    JAVA_21 = "java21"
    DOTNET_8 = "dotnet8"  # known, never installed: no .NET SDK in Debian (README: native AOT on provided.al2023)
    PROVIDED_AL2023 = "provided.al2023"

    @property
    def family(self) -> str:
        return runtime_family(self.value)


def runtime_family(identifier: str) -> str:
    """``python`` | ``nodejs`` | ``ruby`` | ``java`` | ``dotnet`` | ``provided`` for a Lambda runtime identifier."""
    for family in ("python", "nodejs", "ruby", "java", "dotnet"):
        if identifier.startswith(family):
            return family
    return "provided"


class Function(TimeStampedModel):
    name = models.CharField(max_length=limits.FUNCTION_NAME_MAX, unique=True)
    description = models.CharField(max_length=limits.DESCRIPTION_MAX, blank=True, default="")
    latest = models.ForeignKey("FunctionRevision", null=True, on_delete=models.PROTECT, related_name="+")
    # Concurrency: None means unreserved (shares the account pool); 0 throttles every invocation.
    reserved_concurrency = models.PositiveIntegerField(null=True, blank=True)
    provisioned_concurrency = models.PositiveIntegerField(default=0)
    # Asynchronous invocation, as Lambda's event invoke config: retries after a function error, and how
    # old an event may grow (waiting for retries or for concurrency) before it is given up.
    async_max_retries = models.PositiveSmallIntegerField(default=2)
    async_max_event_age_s = models.PositiveIntegerField(default=21600)
    # Where an asynchronous invocation's record goes when it succeeds / is given up (a function ARN, for now).
    async_on_success = models.CharField(max_length=256, blank=True, default="")
    async_on_failure = models.CharField(max_length=256, blank=True, default="")
    async_config_modified = models.DateTimeField(null=True, blank=True)  # set by PutFunctionEventInvokeConfig; None: none configured
    # DeadLetterConfig.TargetArn: an SQS queue or SNS topic that gets the events of asynchronous invocations that failed for good.
    dead_letter_target = models.CharField(max_length=256, blank=True, default="")
    tags = models.JSONField(default=dict, blank=True)
    # The resource-based policy's statements (AddPermission), each an IAM statement with its ``Sid``.
    policy_statements = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        # Beyond add/change/delete/view (iam/personas.py): a viewer reads a function but neither runs it nor sees its secrets.
        permissions = [("invoke_function", "Can invoke a function"), ("view_function_secrets", "Can see a function's environment variable values")]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return function_arn(self.name)


class FunctionRevision(models.Model):
    """One immutable snapshot of a function's code and configuration."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    revision_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    runtime = models.CharField(max_length=32, choices=Runtime.choices)
    handler = models.CharField(max_length=limits.HANDLER_MAX)
    memory_size = models.PositiveIntegerField(default=limits.MEMORY_DEFAULT_MB)
    timeout = models.PositiveIntegerField(default=limits.TIMEOUT_DEFAULT_S)
    ephemeral_storage = models.PositiveIntegerField(default=limits.EPHEMERAL_DEFAULT_MB)
    network = models.CharField(max_length=16, choices=[(m, m) for m in limits.NETWORK_MODES], default=limits.NETWORK_OUTBOUND)
    environment = SealedJSONField(default=dict, blank=True, context="function-environment")  # encrypted at rest (functions/fields.py)
    role = models.ForeignKey("iam.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions")
    code_zip = models.FileField(upload_to="code/", max_length=255)
    code_sha256 = models.CharField(max_length=64)
    code_size = models.PositiveBigIntegerField()
    code_unzipped_size = models.PositiveBigIntegerField()
    # The files as typed in the editor, when the code was given inline (else null: a zip upload).
    inline_files = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["function", "-number"]
        constraints = [models.UniqueConstraint(fields=["function", "number"], name="unique_revision_number")]

    def __str__(self) -> str:
        return f"{self.function.name} r{self.number}"

    def ordered_layers(self) -> list[LayerVersion]:
        """The revision's layers in order; from ``prefetch_related("layer_links__layer_version__layer")`` when a list did that."""
        if "layer_links" in getattr(self, "_prefetched_objects_cache", {}):
            return [link.layer_version for link in sorted(self.layer_links.all(), key=lambda link: link.position)]
        return [link.layer_version for link in self.layer_links.select_related("layer_version__layer").order_by("position")]


class FunctionVersion(models.Model):
    """A published version: an immutable name (1, 2, ...) for one revision, as Lambda's PublishVersion."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    revision = models.ForeignKey(FunctionRevision, on_delete=models.PROTECT, related_name="versions")
    description = models.CharField(max_length=limits.DESCRIPTION_MAX, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["function", "version"]
        constraints = [models.UniqueConstraint(fields=["function", "version"], name="unique_function_version")]

    def __str__(self) -> str:
        return f"{self.function.name}:{self.version}"

    @property
    def arn(self) -> str:
        return f"{function_arn(self.function.name)}:{self.version}"


class FunctionAlias(models.Model):
    """A named pointer to a version (or ``$LATEST``), optionally sending a weight of calls to a second version."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=128)
    function_version = models.CharField(max_length=16)  # "$LATEST" or a version number
    additional_version = models.CharField(max_length=16, blank=True, default="")
    additional_weight = models.FloatField(default=0.0)
    description = models.CharField(max_length=limits.DESCRIPTION_MAX, blank=True, default="")
    revision_id = models.UUIDField(default=uuid.uuid4)

    class Meta:
        ordering = ["function", "name"]
        verbose_name_plural = "function aliases"
        constraints = [models.UniqueConstraint(fields=["function", "name"], name="unique_function_alias")]

    def __str__(self) -> str:
        return f"{self.function.name}:{self.name}"

    @property
    def arn(self) -> str:
        return f"{function_arn(self.function.name)}:{self.name}"


class ProvisionedConcurrencyConfig(models.Model):
    """Environments kept initialised for a published version or an alias (PutProvisionedConcurrencyConfig)."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="provisioned_configs")
    qualifier = models.CharField(max_length=128)  # a version number or an alias name
    requested = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["function", "qualifier"]
        constraints = [models.UniqueConstraint(fields=["function", "qualifier"], name="unique_provisioned_qualifier")]

    def __str__(self) -> str:
        return f"{self.function.name}:{self.qualifier} x{self.requested}"


class Layer(TimeStampedModel):
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return layer_arn(self.name)


class LayerVersion(models.Model):
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    description = models.CharField(max_length=limits.DESCRIPTION_MAX, blank=True, default="")
    compatible_runtimes = models.JSONField(default=list, blank=True)
    compatible_architectures = models.JSONField(default=list, blank=True)
    license_info = models.CharField(max_length=512, blank=True, default="")
    # Who else may use it (AddLayerVersionPermission): statements with their ``Sid``.
    policy_statements = models.JSONField(default=list, blank=True)
    zip_file = models.FileField(upload_to="layers/", max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    unzipped_size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["layer__name", "-version"]
        constraints = [models.UniqueConstraint(fields=["layer", "version"], name="unique_layer_version")]

    def __str__(self) -> str:
        return f"{self.layer.name}:{self.version}"

    @property
    def arn(self) -> str:
        return layer_version_arn(self.layer.name, self.version)


class RevisionLayer(models.Model):
    """A layer of a revision, in order: later layers overwrite earlier ones' files, as on Lambda."""

    revision = models.ForeignKey(FunctionRevision, on_delete=models.CASCADE, related_name="layer_links")
    layer_version = models.ForeignKey(LayerVersion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["revision", "position"]
        constraints = [models.UniqueConstraint(fields=["revision", "position"], name="unique_layer_position")]


class SavedTestEvent(TimeStampedModel):
    """A named test event of a function: private (only its creator sees it) or shared."""

    function = models.ForeignKey(Function, on_delete=models.CASCADE, related_name="test_events")
    name = models.CharField(max_length=limits.TEST_EVENT_NAME_MAX)
    event = models.JSONField(null=True, blank=True)
    shared = models.BooleanField(default=False)
    owner = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["function", "name"]
        constraints = [models.UniqueConstraint(fields=["function", "name"], name="unique_test_event_name")]

    def __str__(self) -> str:
        return f"{self.function.name}:{self.name}"
