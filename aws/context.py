"""What an operation handler knows about its request: who signed it, from where, and how to ask IAM.

``AwsContext.authorize`` evaluates the principal's policies (loaded once per request) and raises
``AccessDenied`` in the words AWS uses, naming the principal, action and resource; a denial of a request
signed with an execution environment's credentials is also logged in the invocation it came from.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from aws.errors import AwsError
from iam.credentials import Principal
from iam.evaluation import Decision, NamedPolicy
from iam.selectors import principal_authorize, principal_policies
from invoker.submit import invocation_log_denial


@dataclass
class AwsContext:
    request: HttpRequest
    principal: Principal
    service: str
    region: str
    request_id: str
    source_ip: str
    secure: bool = False
    _policies: list[NamedPolicy] | None = field(default=None, repr=False)

    def request_context(self) -> dict[str, Any]:
        now = datetime.datetime.now(datetime.UTC)
        return {"aws:SourceIp": self.source_ip, "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(int(now.timestamp())),
                "aws:SecureTransport": self.secure, "aws:RequestedRegion": self.region, "aws:UserAgent": self.request.headers.get("user-agent", "")}

    def decide(self, action: str, resource: str, context: dict[str, Any] | None = None) -> Decision:
        if self._policies is None and not self.principal.is_root:
            self._policies = principal_policies(self.principal)
        return principal_authorize(self.principal, action=action, resource=resource, context={**self.request_context(), **(context or {})},
                                   policies=self._policies)

    def authorize(self, action: str, resource: str, context: dict[str, Any] | None = None) -> Decision:
        decision = self.decide(action, resource, context)
        if not decision.allowed:
            why = "with an explicit deny in an identity-based policy" if decision.decision == "explicitDeny" else f"because no identity-based policy allows the {action} action"
            message = f"User: {self.principal.arn} is not authorized to perform: {action} on resource: \"{resource}\" {why}"
            if self.principal.invocation_id:  # signed with an execution environment's credentials (invoker/credentials.py)
                invocation_log_denial(invocation_id=self.principal.invocation_id, message=message)
            raise AwsError("AccessDeniedException" if self.service in ("lambda", "logs") else "AccessDenied", message, status=403)
        return decision
