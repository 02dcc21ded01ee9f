"""``kiln deploy DIR --function NAME [--watch]``: a directory as the function's code, again on every save.

The function is updated (UpdateFunctionCode) when it exists and created (CreateFunction, with
``--runtime``, ``--handler`` and ``--role``) when it does not; given for an existing function, those flags
update its configuration too. Each deploy prints one line with the new CodeSha256 and RevisionId. Kiln's
execution environments belong to a code revision, so the next invocation after a deploy starts fresh.

``--watch`` polls the tree's sizes and modification times (standard library only, every 0.2 s), waits
until a save has settled (0.1 s without further change) and redeploys; a zip identical to the deployed one
is not sent again. Ctrl-C stops it with exit code 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from kilncli.archive import Package, Snapshot, build_zip, snapshot
from kilncli.client import CommandError, error_code, error_message, make_client

POLL_SECONDS = 0.2
SETTLE_SECONDS = 0.1
CREATE_FLAGS = (("runtime", "Runtime", "--runtime"), ("handler", "Handler", "--handler"), ("role", "Role", "--role"))


def add_parser(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("deploy", parents=[common], help="deploy a directory as a function's code",
                                   description="Zip DIR and deploy it as the function's code: update the function, or create it "
                                               "(then --runtime, --handler and --role are required).")
    parser.add_argument("directory", metavar="DIR", type=Path, help="the directory whose files are the function's code")
    parser.add_argument("--function", "-f", required=True, metavar="NAME", help="the function's name (or ARN)")
    parser.add_argument("--runtime", help="runtime when creating, e.g. python3.11 or nodejs20.x")
    parser.add_argument("--handler", help="handler when creating, e.g. app.handler")
    parser.add_argument("--role", metavar="ARN", help="execution role ARN when creating, e.g. arn:aws:iam::000000000000:role/NAME")
    parser.add_argument("--watch", "-w", action="store_true", help="redeploy on every save until Ctrl-C")
    parser.set_defaults(run=run)


def source_dir(path: Path) -> Path:
    if not path.exists():
        raise CommandError(f"{path}: no such directory")
    if not path.is_dir():
        raise CommandError(f"{path}: not a directory (kiln deploy packages a directory's files)")
    return path.resolve()


def deploy_package(lam: Any, name: str, package: Package, settings: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Send ``package`` as ``name``'s code; ``("created" | "updated", the function's configuration)``."""
    try:
        config = lam.update_function_code(FunctionName=name, ZipFile=package.data)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        missing = [flag for key, _, flag in CREATE_FLAGS if not settings.get(key)]
        if missing:
            raise CommandError(f"function {name!r} does not exist; creating it needs --runtime, --handler and --role: "
                               f"missing {', '.join(missing)}") from None
        config = lam.create_function(FunctionName=name, Code={"ZipFile": package.data}, PackageType="Zip",
                                     **{member: settings[key] for key, member, _ in CREATE_FLAGS})
        return "created", _settled(lam, name, config, "function_active_v2")
    config = _settled(lam, name, config, "function_updated_v2")
    changed = {member: settings[key] for key, member, _ in CREATE_FLAGS if settings.get(key) and not _same(member, settings[key], config.get(member))}
    if changed:
        config = _settled(lam, name, lam.update_function_configuration(FunctionName=name, **changed), "function_updated_v2")
    return "updated", config


def _same(member: str, given: str, current: Any) -> bool:
    """Whether a flag's value is what the function has (a role may be given by name, and is answered as an ARN)."""
    return given == current or (member == "Role" and isinstance(current, str) and current.endswith(f"/{given}"))


def _settled(lam: Any, name: str, config: dict[str, Any], waiter: str) -> dict[str, Any]:
    """The configuration once the function is ready to run the new code (at once on Kiln; AWS may take a moment)."""
    if config.get("State") in (None, "Active") and config.get("LastUpdateStatus") in (None, "Successful"):
        return config
    lam.get_waiter(waiter).wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    return lam.get_function_configuration(FunctionName=name)


def deploy_line(action: str, name: str, config: dict[str, Any], package: Package) -> str:
    return (f"{action} {name}: CodeSha256={config.get('CodeSha256')} RevisionId={config.get('RevisionId')} "
            f"({package.files} file{'s' if package.files != 1 else ''}, {len(package.data)} bytes)")


def deploy_once(lam: Any, name: str, root: Path, settings: dict[str, str]) -> Package:
    package = build_zip(root)
    if not package.files:
        raise CommandError(f"{root}: no files to deploy")
    action, config = deploy_package(lam, name, package, settings)
    print(deploy_line(action, name, config, package), flush=True)
    return package


def wait_for_change(root: Path, last: Snapshot, *, poll: float = POLL_SECONDS, settle: float = SETTLE_SECONDS,
                    sleep: Callable[[float], None] = time.sleep) -> Snapshot:
    """Block until ``root``'s snapshot differs from ``last`` and has stayed the same for ``settle`` seconds; the new snapshot."""
    while True:
        sleep(poll)
        current = snapshot(root)
        if current == last:
            continue
        while True:  # debounce: an editor's save can be several writes (truncate, write, rename)
            sleep(settle)
            settled = snapshot(root)
            if settled == current:
                return settled
            current = settled


def watch(lam: Any, name: str, root: Path, settings: dict[str, str], deployed: Package) -> None:
    """Redeploy ``root`` after every settled change, forever; a failed deploy is reported and the watch goes on."""
    print(f"watching {root} for changes (Ctrl-C to stop)", file=sys.stderr, flush=True)
    last = snapshot(root)
    while True:
        last = wait_for_change(root, last)
        package = build_zip(root)
        if package.data == deployed.data:
            continue  # touched, or changed and changed back: the deployed code is this code
        if not package.files:
            print(f"kiln: {root}: no files to deploy; waiting for the next change", file=sys.stderr, flush=True)
            continue
        try:
            action, config = deploy_package(lam, name, package, settings)
        except (ClientError, BotoCoreError, CommandError) as exc:
            message = error_message(exc) if isinstance(exc, ClientError) else str(exc)
            print(f"kiln: deploy failed: {message}; waiting for the next change", file=sys.stderr, flush=True)
            continue
        deployed = package
        print(deploy_line(action, name, config, package), flush=True)


def run(args: argparse.Namespace) -> int:
    root = source_dir(args.directory)
    settings = {key: getattr(args, key) for key, _, _ in CREATE_FLAGS if getattr(args, key)}
    lam = make_client(args, "lambda")
    deployed = deploy_once(lam, args.function, root, settings)
    if not args.watch:
        return 0
    try:
        watch(lam, args.function, root, settings, deployed)
    except KeyboardInterrupt:
        print("stopped watching", file=sys.stderr, flush=True)
    return 0
