"""Spare runtimes that have loaded the AWS SDK before their function is known, and whom they may serve.

A Python spare (``KILN_PREWARM_SDK``, on by default) imports boto3 and parses botocore's models of the
common services (runtimes/python/kiln_preload.py); a Node.js spare requires the v3 clients for S3,
DynamoDB (and its document client), SQS and SNS from the runtime's SDK and makes a throwaway client of
each with explicit placeholders (runtimes/nodejs/bootstrap.cjs), so V8 has compiled what a constructor
runs and no provider has read the environment or ~/.aws. Both then wait, as any spare
does, on ``GET /runtime/kiln/configuration``, sending the names of what they loaded. A cold start then
pays for the handler's own import and client construction only, not the SDK's load.

Why spares and not a forked zygote: every environment needs its own mount, PID, user and network
namespaces, cgroup and ``/tmp``, made by bubblewrap as it starts the process; a child forked from a
template would inherit the template's namespaces, and giving it new ones needs privileges the sandbox
does not have. A spare is that environment made ahead, with the SDK loaded in it: it serves one
function only, nothing is shared between processes (no state, no ``random`` seed, no credentials), and
the cost is the load's CPU off the cold path and its memory in each spare (docs/benchmarks.md).

Whom a preloading spare serves (``serves``):
- only once it holds (has sent its ``kiln/configuration`` request): while it still loads, an on-demand
  start is never slower than the spare would be for a function that does not use the SDK;
- Python: not a function whose code or layers provide any top-level module the preload imported or
  looked for without finding (its own boto3, botocore, urllib3, six, certifi, awscrt...): on Lambda its
  ``/var/task`` and ``/opt/python`` come first on ``sys.path``, so its copy must win, and in a runtime
  that has imported the runtime's copy it could not. That function starts on demand;
- Node.js: any function, since ``require`` caches by file and the function's own copy of a client (in its
  package or a layer) is another file; except one setting a variable the SDK reads when it is loaded
  (``NODE_LOAD_TIME_VARIABLES``), which a preloaded SDK has read already.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from functions.runtimes import RuntimeInfo
from invoker import codecache

if TYPE_CHECKING:
    from invoker.environment import EnvironmentConfig, ExecutionEnvironment

log = logging.getLogger(__name__)

PRELOAD_FAMILIES = ("python", "nodejs")
# What @aws-sdk/* (its @aws/lambda-invoke-store) reads from the environment while it is required.
NODE_LOAD_TIME_VARIABLES = ("AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA", "AWS_LAMBDA_BENCHMARK_MODE")


def preloads(runtime: RuntimeInfo) -> bool:
    """Whether a spare of this runtime loads the SDK while it waits."""
    if not settings.KILN_PREWARM_SDK or runtime.family not in PRELOAD_FAMILIES or not runtime.kiln_bootstrap:
        return False
    if runtime.family == "nodejs":
        from invoker.sandbox import node_sdk_dir

        return node_sdk_dir() is not None
    return True


def held_names(body: bytes) -> list[str]:
    """The module names a spare reported with its ``kiln/configuration`` request (none for a plain spare)."""
    try:
        names = json.loads(body or b"{}").get("preloaded", [])
    except (ValueError, AttributeError):
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _top_level_names(directory: Path) -> set[str]:
    """The importable top-level names a ``sys.path`` entry provides: packages (any directory) and modules."""
    try:
        entries = os.listdir(directory)
    except OSError:
        return set()
    names = set()
    for entry in entries:
        if entry.endswith(".py") or entry.endswith(".pyc"):
            names.add(entry.rpartition(".")[0])
        elif entry.endswith(".so"):
            names.add(entry.partition(".")[0])  # name.cpython-311-x86_64-linux-gnu.so, name.abi3.so
        elif "." not in entry and (directory / entry).is_dir():
            names.add(entry)
    return names


def python_paths(runtime: RuntimeInfo, task_dir: Path, opt_dir: Path | None) -> list[Path]:
    """The function's own entries at the front of ``sys.path`` (runtimes/python/kiln_bootstrap.py)."""
    version = "python" + ".".join(runtime.version.split(".")[:2])
    paths = [task_dir]
    if opt_dir is not None:
        paths += [opt_dir / "python" / "lib" / version / "site-packages", opt_dir / "python"]
    return paths


def conflicts(runtime: RuntimeInfo, preloaded: list[str], environment: dict[str, str], task_dir: Path, opt_dir: Path | None) -> list[str]:
    """What in the function would have been found instead of what the spare loaded; empty: it may serve it."""
    if runtime.family == "nodejs":
        return [name for name in NODE_LOAD_TIME_VARIABLES if name in environment]
    if runtime.family != "python" or not preloaded:
        return []
    wanted = set(preloaded)
    found: set[str] = set()
    for path in python_paths(runtime, task_dir, opt_dir):
        found |= _top_level_names(path) & wanted
    return sorted(found)


def serves(env: ExecutionEnvironment, config: EnvironmentConfig) -> bool:
    """Whether this preloading spare may be given ``config``'s function now (see the module's docstring)."""
    if not env.holding():
        return False
    try:
        task_dir = codecache.code_dir(config.code_sha256, config.code_zip)
        opt_dir = codecache.opt_dir(list(config.layers)) if config.layers else None
    except (OSError, ValueError):
        return False  # the on-demand start reports what is wrong with the code
    found = conflicts(config.runtime, env.preloaded(), config.environment, task_dir, opt_dir)
    if found:
        log.info("%s brings its own %s: started on demand, not on a spare that preloaded the SDK", config.function_name, ", ".join(found))
    return not found
