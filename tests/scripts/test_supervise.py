"""scripts/supervise.sh (sourced by scripts/run.sh): what it waits before starting a process again (no Kiln needed)."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUPERVISE = ROOT / "scripts" / "supervise.sh"


def delays(command: str, seconds: float) -> list[float]:
    """The delays the supervisor announced while it ran ``command`` for ``seconds``, then stopped it with SIGTERM."""
    process = subprocess.Popen(["bash", "-c", f'. "{SUPERVISE}"; supervise probe sh -c "$0"', command], stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    return [float(d) for d in re.findall(r"kiln: probe exited with status \d+; restarting it in ([\d.]+)s", err)]


def test_a_process_that_keeps_exiting_at_once_is_started_again_with_a_doubling_delay() -> None:
    assert delays("exit 3", 7.5)[:3] == [1, 2, 4]


def test_a_process_that_lived_five_seconds_starts_again_after_one_second_each_time() -> None:
    # 5 s of life is the edge: one that got that far and then exited by itself is not crash-looping (1, 1; not 1, 2)
    assert delays("sleep 5.2; exit 3", 12.0)[:2] == [1, 1]


def test_a_crash_loop_after_kills_starts_its_back_off_from_one_second(tmp_path: Path) -> None:
    # killed twice, then exits by itself at once: the kills did not grow the delay
    runs = tmp_path / "runs"
    seen = delays(f'n=$(cat {runs} 2>/dev/null || echo 0); echo $((n+1)) > {runs}; [ "$n" -lt 2 ] && kill -9 $$; exit 3', 4.5)
    assert seen[:4] == [0.1, 0.1, 1, 2], seen


def test_a_process_killed_by_a_signal_is_started_again_at_once_each_time() -> None:
    seen = delays("kill -9 $$", 2.0)
    assert len(seen) >= 8 and set(seen) == {0.1}, seen


def test_sigterm_stops_the_child_with_the_supervisor(tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    process = subprocess.Popen(["bash", "-c", f'. "{SUPERVISE}"; supervise probe sh -c "$0"', f"echo $$ > {marker}; exec sleep 60"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 5
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    child = int(marker.read_text())
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=10)
    assert process.returncode == 0
    assert not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text().lower()
