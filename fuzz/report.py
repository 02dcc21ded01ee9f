"""What a ``make fuzz`` run found: per part (REST API, AWS endpoint) the requests sent, the operations reached and
the failures by check, a few of each kind shown in full, and the tracebacks Kiln logged."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

SHOWN_PER_CHECK = 5


@dataclass
class Part:
    name: str
    requests: int = 0
    operations: int = 0
    operations_total: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # check -> failing requests
    examples: dict[str, list[str]] = field(default_factory=dict)  # check -> descriptions of the first few
    notes: list[str] = field(default_factory=list)
    error: str = ""  # the part could not run (a crash of the generator, a missing tool)

    def fail(self, check: str, description: str) -> None:
        self.failures[check] += 1
        shown = self.examples.setdefault(check, [])
        if len(shown) < SHOWN_PER_CHECK:
            shown.append(description)

    @property
    def ok(self) -> bool:
        return not self.error and not self.failures and self.requests > 0


@dataclass
class Summary:
    parts: list[Part] = field(default_factory=list)
    server_log: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.parts) and all(part.ok for part in self.parts)

    def tracebacks(self, limit: int = 5) -> list[str]:
        """The distinct tracebacks in Kiln's log (gunicorn's and the AWS router's), by their last line."""
        found: dict[str, str] = {}
        for match in re.finditer(r"Traceback \(most recent call last\):\n(?:[ \t].*\n)+\S.*", self.server_log):
            block = match.group(0)
            found.setdefault(block.rsplit("\n", 1)[-1], block)
        return list(found.values())[:limit]

    def render(self) -> str:
        lines = ["", "=" * 30 + " make fuzz " + "=" * 30]
        for part in self.parts:
            reached = f"{part.operations}/{part.operations_total}" if part.operations_total else str(part.operations)
            lines.append(f"{part.name}: {part.requests} requests, {reached} operations, {sum(part.failures.values())} failures")
            for check, count in sorted(part.failures.items()):
                lines.append(f"  {check}: {count}")
                for example in part.examples.get(check, []):
                    lines.extend("      " + line for line in example.splitlines())
            lines.extend(f"  note: {note}" for note in part.notes)
            if part.error:
                lines.append(f"  could not run: {part.error}")
        tracebacks = self.tracebacks()
        if tracebacks:
            lines.append("Tracebacks in Kiln's log:")
            for block in tracebacks:
                lines.extend("  " + line for line in block.splitlines()[-12:])
        lines.append("RESULT: " + ("OK, no server error and every answer conforms" if self.ok else "FAILED"))
        return "\n".join(lines)
