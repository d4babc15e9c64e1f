"""The supervision of make run's services (scripts/procs.py): the restart policy (backoff, giving
up after too many restarts in a window) as a pure function, and a real tiny child process killed
with SIGKILL and started again by the Supervisor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import procs

POLICY = procs.RestartPolicy(max_restarts=3, window=60, base_delay=1, max_delay=5)


def test_backoff_doubles_from_the_base_delay_and_is_capped() -> None:
    policy = procs.RestartPolicy(max_restarts=10, window=60, base_delay=1, max_delay=5)
    delays = [policy.next_delay([100.0] * n, 101.0) for n in range(5)]
    assert delays == [1, 2, 4, 5, 5]


def test_gives_up_after_max_restarts_within_the_window() -> None:
    assert POLICY.next_delay([10.0, 20.0], 30.0) == 4
    assert POLICY.next_delay([10.0, 20.0, 30.0], 31.0) is None


def test_restarts_outside_the_window_are_forgotten() -> None:
    # three restarts, but the first two are over a minute old: one recent restart counts
    assert POLICY.next_delay([0.0, 5.0, 70.0], 71.0) == 2


def child(log: Path) -> procs.ServiceProcess:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    return procs.ServiceProcess(name="child", url="", process=process, log=log)


def test_a_killed_child_is_restarted_and_one_that_keeps_dying_is_given_up(tmp_path: Path) -> None:
    lines: list[str] = []
    first = child(tmp_path / "child.log")
    policy = procs.RestartPolicy(max_restarts=1, window=60, base_delay=0.1, max_delay=0.1)
    supervisor = procs.Supervisor([first], lambda _name: child(tmp_path / "child.log"), policy=policy, say=lines.append)
    try:
        assert supervisor.check() and lines == []
        os.kill(first.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while supervisor.services[0].pid == first.pid and time.monotonic() < deadline:
            assert supervisor.check()
            time.sleep(0.05)
        second = supervisor.services[0]
        assert second.pid != first.pid and second.process.poll() is None
        assert "退出(状态 -9)" in lines[0] and "后重启" in lines[0]
        assert "已重启" in lines[1]

        os.kill(second.pid, signal.SIGKILL)  # a second death within the window: given up
        second.process.wait(timeout=10)
        assert not supervisor.check()
        assert "放弃重启" in lines[-1]
    finally:
        for s in [first, *supervisor.services]:
            if s.process.poll() is None:
                s.process.kill()
                s.process.wait()


@pytest.mark.parametrize("bad", [0, -1])
def test_a_policy_of_no_restarts_gives_up_at_the_first_exit(bad: int) -> None:
    assert procs.RestartPolicy(max_restarts=bad).next_delay([], 0.0) is None
