"""``make fuzz`` (``scripts/fuzz.sh``): Kiln as ``make run`` starts it (``chaos.kiln.Kiln``: ``scripts/run.sh``, gunicorn,
Celery worker and beat) on port 8791, a private data dir, the machine's PostgreSQL (database ``fuzz_kiln``, made
afresh) and Redis DB 11 (flushed: it is this harness's); then

1. Schemathesis (``fuzz/restapi.py``) against ``/api/schema/`` with the admin's REST token: every operation, checks
   ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance``, ``response_schema_conformance``;
2. Hypothesis (``fuzz/aws.py``): malformed but correctly SigV4-signed requests (root key) to each AWS service the
   endpoint serves: no 5xx, and every error in the service's own wire format.

Prints a summary and exits 1 on any failure (the tracebacks Kiln logged for a 5xx are printed too).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from chaos.infra import database_drop, database_recreate
from chaos.kiln import ROOT, Kiln
from chaos.run import _unmount_under  # a worker stopped hard leaves its /tmp disks mounted under the data dir
from fuzz import aws, restapi
from fuzz.report import Summary


@dataclass
class Options:
    port: int = 8791
    postgres_server: str = "postgres://postgres@127.0.0.1:5432/postgres"
    database_name: str = "fuzz_kiln"
    redis_url: str = "redis://127.0.0.1:6379/11"
    rest_examples: int = 40
    aws_examples: int = 2000
    seed: int = 20261
    parts: tuple[str, ...] = ("rest", "aws")
    keep: bool = False
    static_root: Path = field(default_factory=lambda: ROOT / "var" / "fuzz-static")


def say(message: str) -> None:
    print(f"[fuzz {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def run(options: Options) -> Summary:
    if not options.database_name.startswith("fuzz"):
        raise SystemExit(f"the database name must start with 'fuzz' (got {options.database_name!r}): the harness drops and creates it")
    if _port_taken(options.port):
        raise SystemExit(f"port {options.port} is already taken: stop what listens there or pass --port")
    root = Path(tempfile.mkdtemp(prefix="kiln-fuzz."))
    root.chmod(0o711)
    database_url = database_recreate(options.postgres_server, options.database_name)
    _flush_redis(options.redis_url)
    kiln = Kiln(data_dir=root / "kiln", database_url=database_url, redis_url=options.redis_url, port=options.port, static_root=options.static_root,
                worker_concurrency=4)
    summary = Summary()
    try:
        say(f"starting Kiln on {kiln.url} (database {database_url}, redis {options.redis_url}, data {root})")
        started = time.monotonic()
        kiln.start()
        say(f"Kiln healthy after {time.monotonic() - started:.1f} s")
        if "rest" in options.parts:
            say(f"REST API: Schemathesis, {options.rest_examples} examples per operation")
            summary.parts.append(restapi.run(kiln, examples=options.rest_examples, seed=options.seed, report_dir=root / "schemathesis"))
        if "aws" in options.parts:
            say(f"AWS endpoint: {options.aws_examples} malformed signed requests")
            summary.parts.append(aws.run(kiln, examples=options.aws_examples, seed=options.seed))
        summary.server_log = kiln.log_text()
        return summary
    finally:
        kiln.stop()
        _unmount_under(root)
        if options.keep:
            say(f"kept {root} and the database {database_url}")
        else:
            try:
                database_drop(database_url)
            except Exception as exc:  # noqa: BLE001
                say(f"could not drop {database_url}: {exc}")
            shutil.rmtree(root, ignore_errors=True)


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="make fuzz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--postgres-server", default=os.environ.get("FUZZ_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--database-name", default="fuzz_kiln", help="dropped and created afresh; must start with 'fuzz'")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11", help="flushed at the start: a Redis database of the harness's own")
    parser.add_argument("--rest-examples", type=int, default=40, help="Schemathesis' examples per operation and phase (40)")
    parser.add_argument("--aws-examples", type=int, default=2000, help="malformed AWS requests (2,000)")
    parser.add_argument("--seed", type=int, default=20261, help="the seed of both generators (a run is reproducible)")
    parser.add_argument("--only", choices=("rest", "aws"), default=None)
    parser.add_argument("--keep", action="store_true", help="keep the data dir (Kiln's log, Schemathesis' reports) and the database")
    args = parser.parse_args(argv)
    if urlparse(args.redis_url).path.strip("/") in ("7", "15"):
        parser.error("Redis DBs 7 and 15 are the test suites': use another (11 by default)")
    return Options(port=args.port, postgres_server=args.postgres_server, database_name=args.database_name, redis_url=args.redis_url,
                   rest_examples=args.rest_examples, aws_examples=args.aws_examples, seed=args.seed,
                   parts=(args.only,) if args.only else ("rest", "aws"), keep=args.keep)


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # through the finally blocks: Kiln is stopped and the database dropped


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    options = parse(sys.argv[1:] if argv is None else argv)
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    summary = run(options)
    print(summary.render(), flush=True)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
