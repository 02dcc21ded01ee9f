"""The REST API under Schemathesis: ``st run`` against Kiln's ``/api/schema/`` with the admin's token.

Every operation of the schema, Schemathesis' coverage, fuzzing and stateful phases (positive and negative data),
``--max-examples`` per operation and phase, a fixed seed; the checks ``not_a_server_error``,
``status_code_conformance``, ``content_type_conformance`` and ``response_schema_conformance``. The requests are
counted from its HAR report, the failures by check from its JSON report; its own output (each failure with a
``curl`` to reproduce it) is kept in ``var/fuzz/schemathesis.txt``. ``DELETE /api/v1/auth/token/`` is left out: it
would revoke the run's own token, and every later request would answer 401.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chaos.kiln import ROOT, Kiln
from fuzz.report import Part

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")
# Schemathesis' failure codes (``st explain``) -> the check that reports them.
CODES = {"ST101": "not_a_server_error", "ST102": "not_a_server_error", "ST103": "status_code_conformance", "ST104": "content_type_conformance",
         "ST105": "content_type_conformance", "ST106": "content_type_conformance", "ST108": "response_schema_conformance"}
OUTPUT = ROOT / "var" / "fuzz" / "schemathesis.txt"
TIMEOUT_S = 900


def command(kiln: Kiln, *, examples: int, seed: int, report_dir: Path) -> list[str]:
    return [str(Path(sys.executable).with_name("st")), "run", f"{kiln.url}/api/schema/", "-H", f"Authorization: Token {kiln.token}",
            "--checks", ",".join(CHECKS), "--max-examples", str(examples), "--seed", str(seed), "--workers", "2", "--request-timeout", "30",
            "--exclude-operation-id", "v1_auth_token_destroy", "--continue-on-failure", "--generation-database", "none", "--no-color", "--report", "json,har", "--report-dir", str(report_dir)]


def run(kiln: Kiln, *, examples: int, seed: int, report_dir: Path) -> Part:
    part = Part("REST API (Schemathesis)")
    report_dir.mkdir(parents=True, exist_ok=True)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(command(kiln, examples=examples, seed=seed, report_dir=report_dir), capture_output=True, text=True, timeout=TIMEOUT_S,
                              cwd=report_dir)
    except subprocess.TimeoutExpired:
        part.error = f"st run did not finish within {TIMEOUT_S} s"
        return part
    OUTPUT.write_text(done.stdout + done.stderr)
    reports = sorted(report_dir.glob("json-*.json")), sorted(report_dir.glob("har-*.json"))
    if not reports[0]:
        part.error = f"st run exited {done.returncode} without a report:\n{(done.stdout + done.stderr)[-3000:]}"
        return part
    report = json.loads(reports[0][-1].read_text())
    if reports[1]:
        part.requests = len(json.loads(reports[1][-1].read_text())["log"]["entries"])
    part.operations, part.operations_total = report["operations"]["tested"], report["operations"]["total"]
    for failure in report["failures"]:
        check = CODES.get(failure["code"], f"{failure['code']} {failure['title']}")
        part.failures[check] += failure["count"]
        part.examples.setdefault(check, []).append(f"{failure['code']} {failure['title']}: " + ", ".join(failure["operations"][:12])
                                                   + (f" and {len(failure['operations']) - 12} more" if len(failure["operations"]) > 12 else ""))
    for error in report["errors"]:
        part.fail("errors (Schemathesis could not test)", json.dumps(error)[:500])
    if report["test_cases"].get("errored"):
        part.notes.append(f"{report['test_cases']['errored']} test cases errored")
    if done.returncode and not part.failures:
        part.error = f"st run exited {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}"
    if part.failures:
        part.notes.append(f"each failure with a curl command to reproduce it: {OUTPUT.relative_to(ROOT)}")
    return part
