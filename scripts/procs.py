"""Start the platform's services as processes (for make run, the e2e tests and the benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServiceProcess:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: see {self.log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s: see {self.log}")

    def stop(self, timeout: float = 15) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_service(name: str, env: dict[str, str], *, log_dir: Path, port: int | None = None) -> ServiceProcess:
    """Run the console script `<name>-service` of this environment with `env` added."""
    log_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = log_dir / f"{name}.log"
    process = subprocess.Popen(
        [str(BIN / f"{name}-service")],
        env={**os.environ, **env, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return ServiceProcess(name=name, url=f"http://127.0.0.1:{port}", process=process, log=log)


# --- supervision: restart a service that exited, as an operator's process manager would -------


@dataclass(frozen=True)
class RestartPolicy:
    """Restart with exponential backoff (base, 2·base, 4·base … up to max_delay); give up when
    `max_restarts` restarts already happened within the last `window` seconds."""

    max_restarts: int = 5
    window: float = 60.0
    base_delay: float = 1.0
    max_delay: float = 30.0

    def next_delay(self, restarts: list[float], now: float) -> float | None:
        """Seconds to wait before the next restart, or None to give up; `restarts` holds the
        monotonic times of the restarts so far."""
        recent = [t for t in restarts if now - t < self.window]
        if len(recent) >= self.max_restarts:
            return None
        return min(self.base_delay * 2 ** len(recent), self.max_delay)


@dataclass
class _Slot:
    service: ServiceProcess
    restarts: list[float]
    due: float | None = None  # when the pending restart is due


class Supervisor:
    """Watches processes; one that exited is started again by `restart(name)` after the policy's
    delay. `check()` is called periodically and returns False once a service was given up on."""

    def __init__(
        self,
        services: list[ServiceProcess],
        restart: Callable[[str], ServiceProcess],
        *,
        policy: RestartPolicy = RestartPolicy(),
        say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slots = {s.name: _Slot(s, []) for s in services}
        self.restart = restart
        self.policy = policy
        self.say = say
        self.clock = clock

    @property
    def services(self) -> list[ServiceProcess]:
        return [slot.service for slot in self.slots.values()]

    def check(self) -> bool:
        now = self.clock()
        for name, slot in self.slots.items():
            code = slot.service.process.poll()
            if code is None:
                continue
            if slot.due is None:
                delay = self.policy.next_delay(slot.restarts, now)
                if delay is None:
                    self.say(
                        f"[run] {name}-service 退出(状态 {code}),{self.policy.window:.0f} 秒内已重启 "
                        f"{self.policy.max_restarts} 次,放弃重启,见 {slot.service.log}"
                    )
                    return False
                slot.due = now + delay
                self.say(f"[run] {name}-service 退出(状态 {code}),{delay:.0f} 秒后重启,见 {slot.service.log}")
            elif now >= slot.due:
                slot.service = self.restart(name)
                slot.restarts.append(now)
                slot.due = None
                self.say(f"[run] {name}-service 已重启 (pid {slot.service.pid}),第 {len(slot.restarts)} 次")
        return True
