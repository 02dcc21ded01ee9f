"""``make chaos`` (``scripts/chaos.sh``): Kiln on a private PostgreSQL cluster and a private Redis, asynchronous
invocations and SQS messages sent while its worker, a web worker, Redis and PostgreSQL are killed or
restarted; then the drain, and what became of each. Exits 1 when anything accepted is lost, a row is not
final within ``--drain-timeout`` seconds of the last fault (and the last submission), or a result was
recorded twice.

``--short`` is the run ``make test`` makes (tests/chaos): 1,000 invocations, one worker kill, one Redis
restart, on a database of the machine's PostgreSQL (``--postgres-server``) instead of a private cluster.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from chaos import report as reporting
from chaos import workload
from chaos.faults import Faults, Plan
from chaos.infra import PrivatePostgres, PrivateRedis, database_drop, database_recreate
from chaos.kiln import ROOT, Kiln


@dataclass
class Options:
    count: int = 10_000
    sqs_messages: int = 500
    threads: int = 8
    plan: Plan = field(default_factory=Plan)
    postgres_server: str | None = None  # None: a private cluster (restartable); else a server URL to make a database on
    database_name: str = "kiln_chaos"
    redis_aof: bool = False
    drain_timeout_s: float = 120.0
    worker_concurrency: int = 8
    keep: bool = False
    static_root: Path | None = None
    record: bool = True  # the function records its runs in a table (re-runs counted); else it only answers


def say(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(options: Options) -> reporting.Report:
    root = Path(tempfile.mkdtemp(prefix="kiln-chaos."))
    root.chmod(0o711)
    redis = PrivateRedis(root / "redis", appendonly=options.redis_aof)
    postgres: PrivatePostgres | None = None
    kiln: Kiln | None = None
    database_url = ""
    try:
        redis.start()
        if options.postgres_server is None:
            postgres = PrivatePostgres(root / "postgres")
            postgres.init()
            database_url = postgres.url
        else:
            database_url = database_recreate(options.postgres_server, options.database_name)
        say(f"redis {redis.url} (appendonly {'yes' if options.redis_aof else 'no'}); database {database_url}; data {root}")
        kiln = Kiln(data_dir=root / "kiln", database_url=database_url, redis_url=redis.url, worker_concurrency=options.worker_concurrency,
                    static_root=options.static_root)
        started = time.monotonic()
        kiln.start()
        say(f"Kiln healthy at {kiln.url} after {time.monotonic() - started:.1f} s")
        queue_url = workload.setup(kiln.url, kiln.root_key, sqs=options.record and options.sqs_messages > 0, record=options.record)
        return _load_and_judge(options, kiln, redis, postgres, database_url, queue_url)
    finally:
        if kiln is not None:
            kiln.stop()
        redis.stop()
        if postgres is not None:
            try:
                postgres.stop("fast")
            except RuntimeError as exc:
                say(f"could not stop the private PostgreSQL: {exc}")
        elif database_url and not options.keep:
            try:
                database_drop(database_url)
            except Exception as exc:  # noqa: BLE001
                say(f"could not drop {database_url}: {exc}")
        _unmount_under(root)
        if options.keep:
            say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _load_and_judge(options: Options, kiln: Kiln, redis: PrivateRedis, postgres: PrivatePostgres | None, database_url: str,
                    queue_url: str | None) -> reporting.Report:
    submitted = workload.Submitted()
    faults = Faults(plan=options.plan, kiln=kiln, restart_redis=redis.restart, restart_postgres=postgres.restart if postgres else None)
    load_started = time.monotonic()
    hard_deadline = load_started + 900  # the whole load phase, whatever happens
    step = max(options.count // 10, 1)

    def progress(n: int) -> None:
        if n % step == 0:
            say(f"{n} accepted")

    say(f"submitting {options.count} asynchronous invocations on {options.threads} connections"
        + (f" and {options.sqs_messages} SQS messages" if queue_url else ""))
    faults.start(load_started)
    sender = None
    if queue_url:
        sender = threading.Thread(target=workload.send_messages, args=(kiln.url, kiln.root_key, queue_url, options.sqs_messages, submitted),
                                  kwargs={"deadline": hard_deadline}, daemon=True)
        sender.start()
    workload.submit_all(kiln.url, kiln.token, options.count, options.threads, submitted, deadline=hard_deadline, on_progress=progress)
    say(f"submission done in {submitted.last_at - load_started:.1f} s; waiting for the faults to end")
    faults.join(max(hard_deadline - time.monotonic(), 1))
    if sender is not None:
        sender.join(max(hard_deadline - time.monotonic(), 1))
    quiet_from = max(faults.last_fault_at, submitted.last_at)
    deadline = quiet_from + options.drain_timeout_s
    say(f"faults done; waiting up to {deadline - time.monotonic():.0f} s for the drain")
    drained_at = reporting.wait_drained(database_url, set(submitted.accepted), deadline)
    rows = reporting.read_rows(database_url)  # before the function's records: a row final now has its record already
    sqs_drained = True
    runs: dict[str, int] = {}
    while options.record:  # the function's records of its runs (SQS messages may still be on their way)
        try:
            runs = workload.recorded_runs(kiln.url, kiln.root_key)
        except Exception as exc:  # noqa: BLE001
            say(f"could not read the runs yet: {exc}")
        if all(runs.get("sqs:" + m) for m in submitted.sqs_sent):
            break
        if time.monotonic() > deadline:
            sqs_drained = False
            break
        time.sleep(2)
    result = reporting.build(rows, runs if options.record else None, submitted)
    result.drained = drained_at is not None
    result.sqs_drained = sqs_drained
    result.submit_s = submitted.last_at - load_started
    if drained_at is not None:
        result.drain_after_submit_s = max(drained_at - submitted.last_at, 0.0)
        result.drain_after_fault_s = max(drained_at - faults.last_fault_at, 0.0) if faults.last_fault_at else None
    result.faults = [f"+{f.at_s}s {f.what}" for f in faults.log]
    result.fault_errors = list(faults.errors)
    if not result.drained or result.lost:
        try:
            result.broker = reporting.broker_snapshot(redis.url, result.lost_ids)
        except Exception as exc:  # noqa: BLE001 - a diagnosis only
            result.broker = f"could not read it: {exc}"
    log = kiln.log_text()
    result.faults.append(f"restarts by make run's supervisor: {log.count('kiln: worker exited')} worker, {log.count('kiln: web exited')} web")
    return result


def _unmount_under(root: Path) -> None:
    """A SIGKILLed worker leaves its /tmp disks mounted under the data dir (invoker/tmpdisk.py)."""
    try:
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines() if line.split()[1].startswith(str(root))]
    except OSError:
        return
    for mount in sorted(mounts, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True)


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=None, help="asynchronous invocations (10,000; --short: 1,000)")
    parser.add_argument("--sqs", type=int, default=None, help="SQS messages through an event source mapping (500; --short: 0)")
    parser.add_argument("--threads", type=int, default=8, help="submitting connections")
    parser.add_argument("--worker-kills", type=int, default=None, help="SIGKILLs of the Celery worker (8; --short: 1)")
    parser.add_argument("--kill-every", type=float, default=10.0, help="seconds between worker kills (each once its replacement is up)")
    parser.add_argument("--no-web-kill", action="store_true", help="do not SIGKILL a gunicorn worker")
    parser.add_argument("--no-postgres-restart", action="store_true")
    parser.add_argument("--redis-aof", action="store_true", help="Redis with appendonly (a crash then loses at most a second of writes)")
    parser.add_argument("--postgres-server", default=None, help="make the database on this server instead of a private cluster (no PostgreSQL restart)")
    parser.add_argument("--database-name", default="kiln_chaos")
    parser.add_argument("--drain-timeout", type=float, default=120.0, help="seconds after the last fault within which every row must be final")
    parser.add_argument("--no-record", action="store_true", help="the function only answers (no write per run): re-runs and SQS are not counted")
    parser.add_argument("--short", action="store_true", help="the run of make test: 1,000 invocations, one worker kill, one Redis restart, --no-record")
    parser.add_argument("--keep", action="store_true", help="keep the data dir (logs) and database")
    parser.add_argument("--static-root", type=Path, default=ROOT / "var" / "chaos-static",
                        help="where Kiln's collected static files are kept between runs (collected again only when they changed)")
    args = parser.parse_args(argv)
    if args.short:
        plan = Plan(worker_kills=1 if args.worker_kills is None else args.worker_kills, first_kill_s=2.0, web_kill_at_s=None, redis_restart_at_s=4.0,
                    postgres_restart_at_s=None)
        count, sqs = args.count or 1000, 0 if args.sqs is None else args.sqs
    else:
        plan = Plan(worker_kills=8 if args.worker_kills is None else args.worker_kills, kill_every_s=args.kill_every,
                    web_kill_at_s=None if args.no_web_kill else 6.0,
                    postgres_restart_at_s=None if args.no_postgres_restart or args.postgres_server else 30.0)
        count, sqs = args.count or 10_000, 500 if args.sqs is None else args.sqs
    return Options(count=count, sqs_messages=sqs, threads=args.threads, plan=plan, postgres_server=args.postgres_server, database_name=args.database_name,
                   redis_aof=args.redis_aof, drain_timeout_s=args.drain_timeout, keep=args.keep, static_root=args.static_root,
                   record=not (args.no_record or args.short))


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # through the finally blocks: everything the harness started is stopped


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    options = parse(sys.argv[1:] if argv is None else argv)
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    result = run(options)
    print(result.render(), flush=True)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
