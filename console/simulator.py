"""The console's IAM policy simulator: a role or user, an action and a resource in; IAM's decision and the
statement that decided it out (``iam.selectors.policy_simulate``, the evaluator every signed request meets).

A GET form, so a simulation is a link that can be shared; nothing is written.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from core.errors import KilnError
from iam.selectors import policy_simulate, simulation_principals

DECISIONS = {"allowed": "Allowed", "explicitDeny": "Denied by an explicit Deny", "implicitDeny": "Denied: no statement allows it (implicit deny)"}


def _context(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise KilnError(f"Context keys must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise KilnError('Context keys must be a JSON object, e.g. {"aws:SourceIp": "10.0.0.1"}.')
    return value


def policy_simulator_view(site: AdminSite, request: HttpRequest) -> HttpResponse:
    form = {name: request.GET.get(name, default) for name, default in (("principal", ""), ("action", ""), ("resource", "*"), ("context", ""))}
    result: dict[str, Any] | None = None
    error = ""
    if form["principal"] and form["action"]:
        try:
            simulation = policy_simulate(principal_arn=form["principal"], action=form["action"].strip(), resource=form["resource"].strip(),
                                         context=_context(form["context"]))
            statement = simulation.decision.statement
            result = {"simulation": simulation, "allowed": simulation.decision.allowed, "label": DECISIONS[simulation.decision.decision],
                      "decision": simulation.decision.decision, "statement": statement,
                      "statement_json": json.dumps(simulation.deciding_statement, indent=2) if simulation.deciding_statement is not None else "",
                      "policies": [p.name for p in simulation.policies], "matched": simulation.decision.matched}
        except KilnError as exc:
            error = exc.message
    context: dict[str, Any] = {**site.each_context(request), "title": "Policy simulator", "form": form, "principals": simulation_principals(),
                               "result": result, "error": error}
    return TemplateResponse(request, "console/policy_simulator.html", context)
