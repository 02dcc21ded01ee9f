"""The invoker's structure (issue 14 §5): the web side loads without the sandbox stack, both lives (an
invocation's and an environment's) refuse illegal moves, and the sandbox kinds sit behind one ``Executor``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from invoker.environment import ENV_TRANSITIONS, EnvState, ExecutionEnvironment, IllegalMove
from invoker.models import TRANSITIONS, IllegalTransition, InvocationStatus, transition

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_STACK = ("invoker.pool", "invoker.environment", "invoker.sandbox", "invoker.runtime_api", "invoker.network", "invoker.tmpdisk",
                 "invoker.cgroups", "invoker.prewarm", "invoker.run", "invoker.callrunner")


def test_the_web_urlconf_loads_without_the_sandbox_stack() -> None:
    code = ("import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'console.settings'); import django; django.setup(); "
            "import console.urls; print(' '.join(sorted(m for m in sys.modules if m.startswith('invoker.'))))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert "invoker.calls" in loaded and "invoker.submit" in loaded
    assert not set(loaded) & set(SANDBOX_STACK), sorted(set(loaded) & set(SANDBOX_STACK))


def test_dispatch_sends_tasks_by_name_without_importing_them() -> None:
    source = (ROOT / "invoker" / "dispatch.py").read_text()
    assert "invoker.tasks import" not in source and "send_task" in source


@pytest.mark.parametrize("source, target", [(s, t) for s in InvocationStatus for t in InvocationStatus])
def test_an_invocation_moves_only_as_transitions_allow(source: InvocationStatus, target: InvocationStatus) -> None:
    if target in TRANSITIONS[source]:
        assert transition(source, target) == (source.value, target.value)
    else:
        with pytest.raises(IllegalTransition, match=f"from {source.value} to {target.value}"):
            transition(source, target)


def test_final_statuses_are_final() -> None:
    for status in (InvocationStatus.SUCCEEDED, InvocationStatus.FAILED, InvocationStatus.TIMED_OUT, InvocationStatus.THROTTLED):
        assert TRANSITIONS[status] == frozenset()


def _environment(state: EnvState) -> ExecutionEnvironment:
    env = ExecutionEnvironment.__new__(ExecutionEnvironment)  # its life only: no runtime is started
    env.id, env._state, env._process = "test-env", state, None
    return env


@pytest.mark.parametrize("source, target", [(s, t) for s in EnvState for t in EnvState])
def test_an_environment_moves_only_as_its_life_allows(source: EnvState, target: EnvState) -> None:
    env = _environment(source)
    if target in ENV_TRANSITIONS[source]:
        env._move(target)
        assert env.state is target
    else:
        with pytest.raises(IllegalMove):
            env._move(target)
        assert env.state is source


def test_an_environment_whose_runtime_is_gone_is_not_taken() -> None:
    env = _environment(EnvState.READY)
    assert not env.alive and not env.take() and env.state is EnvState.READY


def test_no_module_but_the_environment_reads_its_process() -> None:
    readers = [p.name for p in (ROOT / "invoker").glob("*.py") if p.name != "environment.py" and "._process" in p.read_text()]
    assert readers == []


def test_the_sandbox_kinds_are_executors(settings) -> None:
    from invoker import sandbox

    settings.KILN_SANDBOX = "process"
    chosen = sandbox.executor()
    assert isinstance(chosen, sandbox.ProcessExecutor) and not chosen.isolated
    layout = chosen.layout(Path("/w/task"), Path("/w/opt"), Path("/w/tmp"))
    assert (layout.task, layout.opt, layout.tmp) == ("/w/task", "/w/opt", "/w/tmp")
    assert sandbox.BwrapExecutor().layout(Path("/w/task"), Path("/w/opt"), Path("/w/tmp")).task == "/var/task"
    request = sandbox.SandboxRequest(env_id="refused", argv_inside=["/bin/true"], environment={}, task_dir=Path("/tmp"), opt_dir=Path("/tmp"),
                                     tmp_dir=Path("/tmp/x"), interpreter="", memory_mb=128, ephemeral_mb=16)
    with pytest.raises(sandbox.SandboxUnavailable):
        sandbox.RefusedExecutor().launch(request)
