#!/usr/bin/env python3
"""Local test/dev stack of real components: Apache Kafka (single-node KRaft) and SecantusDB.

Both run as detached processes (own process group, pid file) under one stack folder:

    <dir>/stack.json              ports of the running stack
    <dir>/env                     `export KAFKA_BOOTSTRAP_SERVERS=... MONGODB_URI=...`
    <dir>/kafka/                  server.properties, log4j.properties, data/ (log.dirs), kafka.pid
    <dir>/mongo/                  secantusd.toml (empty: no config auto-discovery), data/, mongo.pid
    <dir>/logs/kafka.log          broker log (log4j, WARN and up) and the JVM's stdout/stderr
    <dir>/logs/mongo.log          SecantusDB log

Kafka's jars come from Maven Central through scripts/kafka/pom.xml into
${RELOCATION_CACHE:-~/.cache/relocation-platform}/kafka-libs (once). Needs a JDK 17 and Maven.

Usage (run it with the project's interpreter, .venv/bin/python, which has pymongo and aiokafka):

    python scripts/stack.py start [--dir DIR] [--kafka-port 19092] [--mongo-port 27117]
    python scripts/stack.py status|env|stop|clean [--dir DIR]

`start` prints only the `export ...` lines on stdout (progress goes to stderr), so
`eval "$(python scripts/stack.py start)"` works. From Python (e.g. a pytest fixture):

    sys.path.insert(0, "scripts"); import stack
    env = stack.start_stack(".stack/test", kafka_port=19192, mongo_port=27217)
    ...
    stack.stop_stack(".stack/test")
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parent.parent
POM = REPO_ROOT / "scripts" / "kafka" / "pom.xml"
KAFKA_VERSION = "3.9.1"
KAFKA_JAR = f"kafka_2.13-{KAFKA_VERSION}.jar"
DEFAULT_DIR = REPO_ROOT / ".stack"
DEFAULT_KAFKA_PORT = 19092
DEFAULT_MONGO_PORT = 27117
HEALTH_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
HOST = "127.0.0.1"

T = TypeVar("T")

# Popen objects of processes started by this interpreter, so that stop_stack() can reap them
# (a killed child that is never waited for stays a zombie and looks alive to kill(pid, 0)).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class StackError(RuntimeError):
    """The stack could not be started, checked or stopped; the message says why and where to look."""


def _say(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Paths and state
# ---------------------------------------------------------------------------------------------


class Layout:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.logs = self.root / "logs"
        self.kafka = self.root / "kafka"
        self.kafka_data = self.kafka / "data"
        self.kafka_pid = self.kafka / "kafka.pid"
        self.kafka_log = self.logs / "kafka.log"
        self.server_properties = self.kafka / "server.properties"
        self.log4j_properties = self.kafka / "log4j.properties"
        self.mongo = self.root / "mongo"
        self.mongo_data = self.mongo / "data"
        self.mongo_pid = self.mongo / "mongo.pid"
        self.mongo_log = self.logs / "mongo.log"
        self.mongo_config = self.mongo / "secantusd.toml"
        self.state = self.root / "stack.json"
        self.env = self.root / "env"
        self.lock = self.root / ".lock"


def cache_dir() -> Path:
    base = os.environ.get("RELOCATION_CACHE") or str(Path.home() / ".cache" / "relocation-platform")
    return Path(base).expanduser().resolve()


def _read_state(layout: Layout) -> dict[str, int]:
    try:
        data = json.loads(layout.state.read_text())
        return {"kafka_port": int(data["kafka_port"]), "mongo_port": int(data["mongo_port"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _ports(layout: Layout, kafka_port: int | None, mongo_port: int | None) -> tuple[int, int]:
    state = _read_state(layout)
    return (
        kafka_port or state.get("kafka_port", DEFAULT_KAFKA_PORT),
        mongo_port or state.get("mongo_port", DEFAULT_MONGO_PORT),
    )


def make_env(kafka_port: int, mongo_port: int) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{kafka_port}",
        "MONGODB_URI": f"mongodb://{HOST}:{mongo_port}/?directConnection=true",
    }


def format_env(env: dict[str, str]) -> str:
    return "".join(f"export {key}={value}\n" for key, value in env.items())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so two `start`s on the same folder (or cache) do not race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _running_pid(pid_file: Path, marker: str) -> int | None:
    """The pid in pid_file if that process is alive and its command line contains marker
    (so a recycled pid of an unrelated process is never taken for ours)."""
    pid = _read_pid(pid_file)
    if pid is None or not _alive(pid):
        return None
    cmd = _cmdline(pid)
    if cmd is not None and marker not in cmd:
        return None
    return pid


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _spawn(cmd: list[str], cwd: Path, log_file: Path, pid_file: Path) -> int:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own session and process group: pgid == pid
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def _kill_group(pid: int, name: str, timeout: float = STOP_TIMEOUT) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            # group already gone; the leader may still be a zombie to reap
            pass
        except PermissionError:
            raise StackError(f"not allowed to stop {name} (pid {pid})") from None
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 10.0)
        while time.monotonic() < deadline:
            if not _alive(pid):
                _CHILDREN.pop(pid, None)
                return
            time.sleep(0.1)
        if sig == signal.SIGTERM:
            _say(f"{name} (pid {pid}) did not stop within {timeout:.0f}s: sending SIGKILL")
    raise StackError(f"{name} (pid {pid}) is still running after SIGKILL")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


# ---------------------------------------------------------------------------------------------
# Health checks
# ---------------------------------------------------------------------------------------------


def _run_coro(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(), also when the caller is itself inside a running event loop (async fixture)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="stack-health", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def mongo_healthy(mongo_port: int, timeout: float = 2.0) -> bool:
    try:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError
    except ImportError as exc:  # pragma: no cover - wrong interpreter
        raise StackError(f"pymongo is missing ({exc}): run this script with .venv/bin/python (make install)") from exc
    ms = int(timeout * 1000)
    client: MongoClient[dict[str, Any]] = MongoClient(
        make_env(0, mongo_port)["MONGODB_URI"],
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
    )
    try:
        return bool(client.admin.command("ping").get("ok"))
    except PyMongoError:
        return False
    finally:
        client.close()


async def _kafka_ping(bootstrap: str, timeout: float) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
        return bool(cluster.get("brokers"))
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def kafka_healthy(kafka_port: int, timeout: float = 5.0) -> bool:
    try:
        import aiokafka  # noqa: F401
    except ImportError as exc:  # pragma: no cover - wrong interpreter
        raise StackError(f"aiokafka is missing ({exc}): run this script with .venv/bin/python (make install)") from exc
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # connection-refused noise while the broker boots
    try:
        return _run_coro(_kafka_ping(f"{HOST}:{kafka_port}", timeout))
    finally:
        quiet.setLevel(level)


def _wait_healthy(name: str, check: Any, pid_file: Path, marker: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if _running_pid(pid_file, marker) is None:
            raise StackError(f"{name} exited during start-up; see {log}. Last lines:\n{_tail(log)}")
        if check():
            return
        if time.monotonic() >= deadline:
            raise StackError(
                f"{name} did not become healthy within {timeout:.0f}s; see {log}. Last lines:\n{_tail(log)}"
            )
        time.sleep(0.5)


# ---------------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------------


def _require_tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise StackError(
            f"`{tool}` not found on PATH. The local Kafka needs a JDK 17 (java) and Maven (mvn); "
            "on Debian/Ubuntu: apt-get install openjdk-17-jdk-headless maven"
        )
    return path


def kafka_libs() -> Path:
    """The folder of Kafka's runtime jars, resolved from Maven Central once into the cache."""
    libs = cache_dir() / "kafka-libs"
    if (libs / KAFKA_JAR).is_file():
        return libs
    mvn = _require_tool("mvn")
    with _locked(cache_dir() / "kafka-libs.lock"):
        if (libs / KAFKA_JAR).is_file():
            return libs
        partial = cache_dir() / f"kafka-libs.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        _say(f"resolving Kafka {KAFKA_VERSION} jars with Maven into {libs} (once)")
        cmd = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={partial}",
        ]
        result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not (partial / KAFKA_JAR).is_file():
            shutil.rmtree(partial, ignore_errors=True)
            raise StackError(
                f"Maven could not resolve the Kafka jars (exit {result.returncode}): {' '.join(cmd)}\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        # Move the complete folder into place in one step, so an interrupted download is never taken
        # for a complete one.
        shutil.rmtree(libs, ignore_errors=True)
        partial.rename(libs)
    return libs


def _write_kafka_config(layout: Layout, kafka_port: int) -> None:
    controller_port = kafka_port + 1
    layout.kafka_data.mkdir(parents=True, exist_ok=True)
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.server_properties.write_text(
        "\n".join(
            [
                "# Written by scripts/stack.py: single-node KRaft broker+controller for local tests.",
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@{HOST}:{controller_port}",
                f"listeners=PLAINTEXT://{HOST}:{kafka_port},CONTROLLER://{HOST}:{controller_port}",
                f"advertised.listeners=PLAINTEXT://{HOST}:{kafka_port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={layout.kafka_data}",
                "auto.create.topics.enable=false",
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "",
            ]
        )
    )
    layout.log4j_properties.write_text(
        "\n".join(
            [
                "# Written by scripts/stack.py: WARN and up, to the stack's logs/kafka.log.",
                "log4j.rootLogger=WARN, file",
                "log4j.appender.file=org.apache.log4j.FileAppender",
                f"log4j.appender.file.File={layout.kafka_log}",
                "log4j.appender.file.Append=true",
                "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
                "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
                "",
            ]
        )
    )


def _new_cluster_id() -> str:
    """A random cluster id as Kafka writes them (URL-safe base64 of 16 bytes). Like Kafka's own
    `Uuid.randomUuid`, never one that starts with '-': the storage tool's argument parser would
    take it for an option (one start in 64 failed with "--cluster-id: expected one argument")."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _format_kafka_storage(layout: Layout, java: str, libs: Path) -> None:
    if (layout.kafka_data / "meta.properties").is_file():
        return  # formatted by an earlier start: keep the data and the cluster id
    cmd = [
        java,
        "-cp",
        f"{libs}/*",
        f"-Dlog4j.configuration=file:{layout.log4j_properties}",
        "kafka.tools.StorageTool",
        "format",
        f"--cluster-id={_new_cluster_id()}",
        "-c",
        str(layout.server_properties),
    ]
    result = subprocess.run(cmd, cwd=layout.kafka, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    with open(layout.kafka_log, "a") as log:
        log.write(f"--- kafka storage format (exit {result.returncode})\n{result.stdout}{result.stderr}")
    if result.returncode != 0:
        raise StackError(f"formatting Kafka's storage failed; see {layout.kafka_log}:\n{result.stdout}{result.stderr}")


def _start_kafka(layout: Layout, kafka_port: int, timeout: float) -> None:
    marker = _kafka_marker(layout)
    if _running_pid(layout.kafka_pid, marker) is not None:
        _say(f"kafka already running (pid {_read_pid(layout.kafka_pid)}), waiting until healthy")
    else:
        java = _require_tool("java")
        libs = kafka_libs()
        for port in (kafka_port, kafka_port + 1):
            if _port_in_use(port):
                raise StackError(f"port {port} on {HOST} is already in use by another process: pick --kafka-port")
        _write_kafka_config(layout, kafka_port)
        _format_kafka_storage(layout, java, libs)
        cmd = [
            java,
            "-Xms256m",
            "-Xmx512m",
            "-Djava.awt.headless=true",
            "-cp",
            f"{libs}/*",
            f"-Dlog4j.configuration=file:{layout.log4j_properties}",
            "kafka.Kafka",
            str(layout.server_properties),
        ]
        pid = _spawn(cmd, layout.kafka, layout.kafka_log, layout.kafka_pid)
        _say(f"kafka {KAFKA_VERSION} started (pid {pid}) on {HOST}:{kafka_port}, log {layout.kafka_log}")
    _wait_healthy("kafka", lambda: kafka_healthy(kafka_port), layout.kafka_pid, marker, layout.kafka_log, timeout)


# ---------------------------------------------------------------------------------------------
# SecantusDB
# ---------------------------------------------------------------------------------------------


def _kafka_marker(layout: Layout) -> str:
    # /proc/PID/cmdline with NULs as spaces: the properties file is the last argument
    return f"{layout.server_properties} "


def _mongo_marker(layout: Layout) -> str:
    return f"--storage-path {layout.mongo_data} "


# How long an open transaction may sit idle before the server aborts it and releases its locks.
# SecantusDB's default is 60 s, like MongoDB's transactionLifetimeLimitSeconds, and its daemon
# takes no setting for it (not in the toml, not on the command line, not by setParameter: only
# the SecantusDBServer constructor has `transaction_lifetime_seconds`), so the daemon's own
# `secantus.cli.main` is run with the server class bound to this value. A service killed with a
# transaction open then blocks the document it wrote for 5 s instead of a minute; production
# MongoDB gets 10 s (its limit counts from the start, SecantusDB's from the last statement:
# deploy/k8s/configmap.yaml, docker-compose.yml).
TRANSACTION_LIFETIME_SECONDS = 5
SECANTUS_LAUNCHER = (
    "import functools, sys; import secantus.cli as cli; "
    "cli.SecantusDBServer = functools.partial("
    f"cli.SecantusDBServer, transaction_lifetime_seconds={TRANSACTION_LIFETIME_SECONDS}); "
    "sys.exit(cli.main())"
)


def _start_mongo(layout: Layout, mongo_port: int, timeout: float) -> None:
    marker = _mongo_marker(layout)
    if _running_pid(layout.mongo_pid, marker) is not None:
        _say(f"secantusdb already running (pid {_read_pid(layout.mongo_pid)}), waiting until healthy")
    else:
        if _port_in_use(mongo_port):
            raise StackError(f"port {mongo_port} on {HOST} is already in use by another process: pick --mongo-port")
        layout.mongo_data.mkdir(parents=True, exist_ok=True)
        layout.logs.mkdir(parents=True, exist_ok=True)
        # An explicit (empty) config file turns off secantus' auto-discovery of ./secantusd.toml,
        # ~/.secantus/secantusd.toml and /etc/secantus/secantusd.toml: the stack is the same everywhere.
        if not layout.mongo_config.exists():
            layout.mongo_config.write_text("# Written by scripts/stack.py: all settings are on the command line.\n")
        cmd = [
            sys.executable,
            "-c",
            SECANTUS_LAUNCHER,
            "--config",
            str(layout.mongo_config),
            "--host",
            HOST,
            "--port",
            str(mongo_port),
            "--storage-path",
            str(layout.mongo_data),
        ]
        pid = _spawn(cmd, layout.mongo, layout.mongo_log, layout.mongo_pid)
        _say(f"secantusdb started (pid {pid}) on {HOST}:{mongo_port}, log {layout.mongo_log}")
    _wait_healthy("secantusdb", lambda: mongo_healthy(mongo_port), layout.mongo_pid, marker, layout.mongo_log, timeout)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def start_stack(
    dir: str | os.PathLike[str] = DEFAULT_DIR,
    kafka_port: int | None = None,
    mongo_port: int | None = None,
    timeout: float = HEALTH_TIMEOUT,
) -> dict[str, str]:
    """Start (or reuse, if already running and healthy) Kafka and SecantusDB in `dir`.

    Returns the environment for clients: KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI. Also writes it
    as `export` lines to `<dir>/env`. Raises StackError with a pointer to the log on failure.
    """
    layout = Layout(dir)
    layout.root.mkdir(parents=True, exist_ok=True)
    with _locked(layout.lock):
        state = _read_state(layout)
        kafka_port = kafka_port or DEFAULT_KAFKA_PORT
        mongo_port = mongo_port or DEFAULT_MONGO_PORT
        if state and (state["kafka_port"], state["mongo_port"]) != (kafka_port, mongo_port) and _any_running(layout):
            raise StackError(
                f"the stack in {layout.root} is running with kafka port {state['kafka_port']} and mongo port "
                f"{state['mongo_port']}; stop it first (scripts/stack.py stop --dir {layout.root})"
            )
        layout.state.write_text(json.dumps({"kafka_port": kafka_port, "mongo_port": mongo_port}) + "\n")
        if _running_pid(layout.kafka_pid, _kafka_marker(layout)) is None:
            _require_tool("java")  # fail before starting anything when the JDK or the jars are missing
            kafka_libs()
        try:
            _start_mongo(layout, mongo_port, timeout)
            _start_kafka(layout, kafka_port, timeout)
        except BaseException:
            # leave nothing half-started behind; the logs stay for a look
            with contextlib.suppress(Exception):
                stop_stack(layout.root)
            raise
        env = make_env(kafka_port, mongo_port)
        layout.env.write_text(format_env(env))
        _say(f"stack healthy in {layout.root}")
        return env


def _any_running(layout: Layout) -> bool:
    return (
        _running_pid(layout.kafka_pid, _kafka_marker(layout)) is not None
        or _running_pid(layout.mongo_pid, _mongo_marker(layout)) is not None
    )


def stop_stack(dir: str | os.PathLike[str] = DEFAULT_DIR) -> None:
    """Stop Kafka and SecantusDB of the stack in `dir` (SIGTERM to each process group, then SIGKILL)."""
    layout = Layout(dir)
    if not layout.root.is_dir():
        return
    errors: list[str] = []
    for name, pid_file, marker in (
        ("kafka", layout.kafka_pid, _kafka_marker(layout)),
        ("secantusdb", layout.mongo_pid, _mongo_marker(layout)),
    ):
        pid = _running_pid(pid_file, marker)
        if pid is not None:
            _say(f"stopping {name} (pid {pid})")
            try:
                _kill_group(pid, name)
            except StackError as exc:
                errors.append(str(exc))
                continue
        pid_file.unlink(missing_ok=True)
    if errors:
        raise StackError("; ".join(errors))


@contextlib.contextmanager
def stack_from_env(dir: str | os.PathLike[str], *, kafka_port: int, mongo_port: int) -> Iterator[dict[str, str]]:
    """The stack the environment names (KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI both set), or else
    one started in `dir` on these ports for the time of the `with`, and stopped after it."""
    bootstrap, mongo_uri = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URI")
    if bootstrap and mongo_uri:
        yield {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "MONGODB_URI": mongo_uri}
        return
    env = start_stack(dir, kafka_port=kafka_port, mongo_port=mongo_port)
    try:
        yield env
    finally:
        stop_stack(dir)


def clean_stack(dir: str | os.PathLike[str] = DEFAULT_DIR) -> None:
    """Stop the stack in `dir` and delete the folder (data, logs, config)."""
    layout = Layout(dir)
    stop_stack(layout.root)
    if not layout.root.exists():
        return
    ours = {"stack.json", "env", "kafka", "mongo", "logs", ".lock"}
    strangers = [p.name for p in layout.root.iterdir() if p.name not in ours]
    if strangers:
        raise StackError(f"not deleting {layout.root}: it holds files the stack did not make: {sorted(strangers)[:5]}")
    shutil.rmtree(layout.root)
    _say(f"deleted {layout.root}")


def stack_status(
    dir: str | os.PathLike[str] = DEFAULT_DIR, kafka_port: int | None = None, mongo_port: int | None = None
) -> dict[str, Any]:
    layout = Layout(dir)
    kafka_port, mongo_port = _ports(layout, kafka_port, mongo_port)
    kafka_pid = _running_pid(layout.kafka_pid, _kafka_marker(layout))
    mongo_pid = _running_pid(layout.mongo_pid, _mongo_marker(layout))
    return {
        "dir": str(layout.root),
        "kafka": {
            "pid": kafka_pid,
            "port": kafka_port,
            "healthy": kafka_pid is not None and kafka_healthy(kafka_port),
            "log": str(layout.kafka_log),
        },
        "mongo": {
            "pid": mongo_pid,
            "port": mongo_port,
            "healthy": mongo_pid is not None and mongo_healthy(mongo_port),
            "log": str(layout.mongo_log),
        },
    }


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("command", choices=["start", "stop", "clean", "status", "env"])
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help="stack folder (default: .stack in the repo root)")
    parser.add_argument(
        "--kafka-port",
        type=int,
        default=None,
        help=f"Kafka client port; the controller listens on port+1 (default {DEFAULT_KAFKA_PORT})",
    )
    parser.add_argument("--mongo-port", type=int, default=None, help=f"SecantusDB port (default {DEFAULT_MONGO_PORT})")
    parser.add_argument("--timeout", type=float, default=HEALTH_TIMEOUT, help="seconds to wait for health (60)")
    args = parser.parse_args(argv)

    try:
        if args.command == "start":
            env = start_stack(args.dir, args.kafka_port, args.mongo_port, args.timeout)
            sys.stdout.write(format_env(env))
        elif args.command == "stop":
            stop_stack(args.dir)
        elif args.command == "clean":
            clean_stack(args.dir)
        elif args.command == "env":
            layout = Layout(args.dir)
            sys.stdout.write(format_env(make_env(*_ports(layout, args.kafka_port, args.mongo_port))))
        elif args.command == "status":
            status = stack_status(args.dir, args.kafka_port, args.mongo_port)
            for name in ("kafka", "mongo"):
                item = status[name]
                state = "healthy" if item["healthy"] else ("running, NOT healthy" if item["pid"] else "stopped")
                print(f"{name:6} {state:22} pid={item['pid'] or '-'} port={item['port']} log={item['log']}")
            return 0 if status["kafka"]["healthy"] and status["mongo"]["healthy"] else 1
    except StackError as exc:
        print(f"stack: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
