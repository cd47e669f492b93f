"""The analysis child's CPU budget: RLIMIT_CPU set per task, so the kernel ends a spinning
analysis with SIGXCPU however long it waits for a CPU (the wall clock is the parent's)."""

from __future__ import annotations

import multiprocessing
import signal
import time

from tidegate.engine.analysis import _cpu_limit


def _spin_under_limit(seconds: float) -> None:
    _cpu_limit(seconds)
    while True:
        pass


def _reset_then_spin_briefly() -> None:
    _cpu_limit(1)
    _cpu_limit(0)  # back to unlimited between tasks
    end = time.process_time() + 1.5
    while time.process_time() < end:
        pass


def test_the_kernel_ends_a_spinning_analysis() -> None:
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=_spin_under_limit, args=(1,))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGXCPU


def test_the_limit_is_lifted_between_tasks() -> None:
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=_reset_then_spin_briefly)
    child.start()
    child.join(60)
    assert child.exitcode == 0
