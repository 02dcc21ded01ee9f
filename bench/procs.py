"""Subprocesses of the bench: started in their own session, always stopped (group included) on exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "wb")
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self._running.append((name, process))
        return process

    def pid_of(self, name: str) -> int:
        """The pid of the running process started as ``name``."""
        return next(p.pid for n, p in self._running if n == name)

    def log_tail(self, name: str, chars: int = 3000) -> str:
        try:
            return (self.log_dir / f"{name}.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def check(self, name: str, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")

    def stop(self, process: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
        self._running = [(n, p) for n, p in self._running if p is not process]
        if process.poll() is None:
            try:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever it left in its session
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self) -> None:
        for _, process in reversed(list(self._running)):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout_s: float, what: str, checks=()) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for check in checks:
            check()
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def python() -> str:
    return sys.executable
