#!/usr/bin/env python3
"""`make run`: the platform on this machine, with demo data.

1. starts the local stack (Kafka + SecantusDB) in .stack/dev with scripts/stack.py;
2. starts the five services as processes (governance 8001, employment 8002, projects 8003,
   notifications 8004, readmodel 8005 with the monitoring page), logs in
   .stack/dev/logs/<service>.log, and waits until each answers GET /readyz with 200;
3. loads the demo dataset of scripts/demo_data.py through the services' HTTP APIs (grids and
   buildings, households, residents, then, once the employment service has the residents from
   Kafka, employment spells and training records), the community work of demo_community.py
   (staff, 四单 requests, disputes, visits, points) and the projects of demo_projects.py (at
   least a tenth of the seed's 635), with a progress bar per stage, and waits until the read
   model has folded it all;
4. prints the monitoring page's and the API docs' addresses, one token per demo role and the
   figures the platform should now show; then serves until Ctrl-C (or SIGTERM), restarting a
   service that exits with backoff (procs.Supervisor: 1 s, 2 s, 4 s …; it gives up, and run
   stops, after 5 restarts of one service within 60 s). Ctrl-C stops the
   services and the stack and deletes the stack's data (Kafka's and the database's) unless
   --keep-data. Logs are kept.

A stack that was already running before (`make stack-up`) is used and left running, data and all.
Data kept from an earlier run with --keep-data is not loaded twice.

    python scripts/run.py [--scale 0.02] [--seed 7] [--no-demo] [--keep-data] [--exit-after-load]

Exit status: 0, or 1 when the stack or a service failed, or when the services rejected demo rows
for any reason other than replication lag (rows the employment service had not yet seen).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).parent))
import demo_community
import demo_data
import demo_projects
import procs
import stack

from relocation_shared.auth import mint_token

ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = ROOT / ".stack" / "dev"
# name (console script <name>-service) → port
SERVICES = {"governance": 8001, "employment": 8002, "projects": 8003, "notifications": 8004, "readmodel": 8005}
DATABASES = {name: name for name in SERVICES}
PROJECTS_MIN_SCALE = 0.1  # below it a county would have no project at all
# Local development only: keyed hashes of ID numbers must stay the same across runs over kept data.
PII_HASH_KEY = "local-development-pii-key-not-for-production"
CITY, XISHUI, RENHUAI = "520300", "520330", "520382"

BATCH_SIZE = 500  # the services' batch_max_items
IN_FLIGHT = 1  # batches sent at once: concurrent transactions on one collection conflict on SecantusDB
# The employment service learns of residents from Kafka, at its own pace: wait for it as long as it
# makes progress, and give up after this many seconds without any.
SYNC_STALL_TIMEOUT = 120.0
SYNC_SAMPLE = 64  # residents polled on the employment service before sending employment rows
REQUEST_TIMEOUT = httpx.Timeout(180.0, connect=5.0)
READY_TIMEOUT = 90.0
SHOWN_REJECTIONS = 5


class LoadError(RuntimeError):
    """A call failed as a whole (not row by row): the load cannot go on."""


# =============================================================================================
# Loading the demo dataset over HTTP
# =============================================================================================


@dataclass
class Stage:
    """What one stage of the load did."""

    name: str
    unit: str
    sent: int = 0
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"key", "field", "error", "message"}
    skipped: int = 0  # rows not sent: a row they point at (household, resident) was rejected
    unsynced: int = 0  # rows the employment service still did not know the resident of, after retries


@dataclass
class LoadReport:
    stages: list[Stage] = field(default_factory=list)
    already_loaded: bool = False
    zero_employment_live: int | None = None  # 零就业家庭 the employment service shows after the load
    community: demo_community.CommunityReport | None = None
    projects: demo_projects.Dataset | None = None

    @property
    def failed(self) -> bool:
        """Rows rejected for a reason other than replication lag."""
        return any(s.rejected for s in self.stages)


Row = tuple[str, dict[str, Any]]  # (local key, request body item)


def _is_sync_lag(rejection: dict[str, Any]) -> bool:
    """The employment service does not know the resident yet: it has not consumed the event."""
    return rejection.get("field") == "resident_id" and rejection.get("error") == "not_found"


class Loader:
    def __init__(
        self,
        governance: httpx.AsyncClient,
        employment: httpx.AsyncClient,
        *,
        in_flight: int = IN_FLIGHT,
        sync_stall_timeout: float = SYNC_STALL_TIMEOUT,
    ) -> None:
        self.governance = governance
        self.employment = employment
        self.slots = asyncio.Semaphore(in_flight)
        self.sync_stall_timeout = sync_stall_timeout
        self.report = LoadReport()

    # --- calls ----------------------------------------------------------------------------------
    async def _call(self, client: httpx.AsyncClient, method: str, path: str, body: Any = None) -> httpx.Response:
        """One request, repeated only when it surely changed nothing: the connection was refused,
        or the service answered 503 (not ready)."""
        delay = 0.5
        for _ in range(10):
            try:
                async with self.slots:
                    response = await client.request(method, path, json=body)
            except httpx.ConnectError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code != 503:
                    return response
                problem = f"503 {response.text[:200]}"
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise LoadError(f"{method} {client.base_url}{path}: {problem}")

    async def _batches(
        self,
        client: httpx.AsyncClient,
        path: str,
        rows: list[Row],
        stage: Stage,
        bar: tqdm,
        retryable: Callable[[dict[str, Any]], bool] = lambda _: False,
    ) -> tuple[dict[str, str], list[Row]]:
        """POST `rows` in batches, a few at a time. Returns the ids of the accepted rows by key and
        the rows rejected in a way `retryable` says may pass later; other rejections go to the stage."""
        ids: dict[str, str] = {}
        again: list[Row] = []

        async def send(chunk: list[Row]) -> None:
            response = await self._call(client, "POST", path, {"items": [body for _, body in chunk]})
            if response.status_code != 200:
                raise LoadError(f"POST {path}: {response.status_code} {response.text[:300]}")
            result = response.json()
            for a in result["accepted"]:
                ids[chunk[a["index"]][0]] = a["id"]
            done = len(result["accepted"])
            for r in result["rejected"]:
                if retryable(r):
                    again.append(chunk[r["index"]])
                else:
                    stage.rejected.append({"key": chunk[r["index"]][0], **r})
                    done += 1
            stage.accepted += len(result["accepted"])
            bar.update(done)

        stage.sent += len(rows)
        async with asyncio.TaskGroup() as tasks:
            for i in range(0, len(rows), BATCH_SIZE):
                tasks.create_task(send(rows[i : i + BATCH_SIZE]))
        return ids, again

    def _bar(self, stage: Stage, total: int) -> tqdm:
        return tqdm(total=total, desc=demo_data.pad(stage.name, 8), unit=stage.unit, dynamic_ncols=True, leave=True)

    def _stage(self, name: str, unit: str) -> Stage:
        stage = Stage(name, unit)
        self.report.stages.append(stage)
        return stage

    # --- stages ---------------------------------------------------------------------------------
    async def already_loaded(self) -> bool:
        """Households already registered in the city: data kept from an earlier run."""
        response = await self._call(self.governance, "GET", f"/api/v1/households?area={CITY}&limit=1")
        if response.status_code != 200:
            raise LoadError(f"GET /api/v1/households: {response.status_code} {response.text[:300]}")
        return bool(response.json())

    async def areas(self, name: str, unit: str, rows: list[dict[str, Any]]) -> None:
        """Grids or buildings, one POST /areas each; an area that exists (409) is fine."""
        stage = self._stage(name, unit)
        stage.sent = len(rows)
        with self._bar(stage, len(rows)) as bar:

            async def create(row: dict[str, Any]) -> None:
                response = await self._call(self.governance, "POST", "/api/v1/areas", row)
                if response.status_code in (201, 409):
                    stage.accepted += 1
                else:
                    stage.rejected.append({"key": row["code"], **_error(response)})
                bar.update(1)

            async with asyncio.TaskGroup() as tasks:
                for row in rows:
                    tasks.create_task(create(row))

    async def households(self, rows: list[dict[str, Any]]) -> dict[str, str]:
        stage = self._stage("搬迁户", "户")
        items = [(r["key"], {k: v for k, v in r.items() if k != "key"}) for r in rows]
        with self._bar(stage, len(items)) as bar:
            ids, _ = await self._batches(self.governance, "/api/v1/households/batch", items, stage, bar)
        return ids

    async def residents(self, rows: list[dict[str, Any]], households: dict[str, str]) -> dict[str, str]:
        stage = self._stage("居民", "人")
        items: list[Row] = []
        for r in rows:
            if r["household_key"] not in households:
                stage.skipped += 1
                continue
            body = {k: v for k, v in r.items() if k not in ("key", "household_key")}
            items.append((r["key"], {"household_id": households[r["household_key"]], **body}))
        with self._bar(stage, len(items)) as bar:
            ids, _ = await self._batches(self.governance, "/api/v1/residents/batch", items, stage, bar)
        return ids

    async def wait_synced(self, resident_ids: list[str]) -> None:
        """Wait until the employment service has a sample of the residents in its roster (it
        consumes the registry's events from Kafka). Rows sent before it has them are retried anyway."""
        step = max(1, len(resident_ids) // SYNC_SAMPLE)
        sample = resident_ids[step - 1 :: step][:SYNC_SAMPLE]
        if not sample:
            return
        last_progress = time.monotonic()
        bar = tqdm(total=len(sample), desc=demo_data.pad("台账同步", 8), unit="人", dynamic_ncols=True, leave=True)
        with bar:

            async def synced(rid: str) -> None:
                nonlocal last_progress
                while True:
                    response = await self._call(self.employment, "GET", f"/api/v1/roster/residents/{rid}")
                    if response.status_code == 200:
                        bar.update(1)
                        last_progress = time.monotonic()
                        return
                    if response.status_code != 404:
                        raise LoadError(f"GET /api/v1/roster/residents: {response.status_code} {response.text[:300]}")
                    if time.monotonic() - last_progress > self.sync_stall_timeout:
                        return
                    await asyncio.sleep(0.5)

            async with asyncio.TaskGroup() as tasks:
                for rid in sample:
                    tasks.create_task(synced(rid))
            if bar.n < len(sample):
                tqdm.write(
                    f"就业服务 {self.sync_stall_timeout:.0f} 秒无进展,抽样居民只同步了 {bar.n}/{len(sample)} 人;"
                    "继续发送,未同步的行会重试"
                )

    async def employment_rows(
        self, name: str, unit: str, path: str, rows: list[dict[str, Any]], residents: dict[str, str]
    ) -> None:
        """Employment spells or training records, with rows about residents the employment service
        has not seen yet sent again (bounded) until it has."""
        stage = self._stage(name, unit)
        pending: list[Row] = []
        for k, r in enumerate(rows):
            if r["resident_key"] not in residents:
                stage.skipped += 1
                continue
            body = {key: v for key, v in r.items() if key != "resident_key"}
            pending.append((f"{r['resident_key']}#{k}", {"resident_id": residents[r["resident_key"]], **body}))
        last_progress, delay = time.monotonic(), 1.0
        with self._bar(stage, len(pending)) as bar:
            while True:
                before = len(pending)
                _, pending = await self._batches(self.employment, path, pending, stage, bar, retryable=_is_sync_lag)
                if not pending:
                    break
                if len(pending) < before:
                    last_progress, delay = time.monotonic(), 1.0
                elif time.monotonic() - last_progress > self.sync_stall_timeout:
                    stage.unsynced = len(pending)
                    break
                bar.set_postfix_str(f"等待同步 {len(pending)}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                stage.sent -= len(pending)  # counted once, however often sent

    async def check_zero_employment(self) -> None:
        response = await self._call(
            self.employment, "GET", f"/api/v1/zero-employment-households?area={CITY}&limit=1000"
        )
        if response.status_code == 200:
            self.report.zero_employment_live = len(response.json())

    async def community(self, url: str, secret: str, ds: demo_data.Dataset, households: dict[str, str]) -> None:
        """社区治理: staff, party organisations, requests, disputes, visits, points (demo_community)."""
        stage = self._stage("社区治理", "次")
        result = await demo_community.load_community(
            url,
            secret,
            communities=ds.communities,
            grids=ds.grids,
            buildings=ds.buildings,
            households=ds.households,
            household_ids=households,
            seed=ds.seed,
        )
        stage.sent = stage.accepted = (
            result.staff + result.requests + result.disputes + result.visits + result.awards + result.redemptions
        )
        stage.rejected = [{"key": "", "field": "", "error": "", "message": e} for e in result.errors]
        self.report.community = result

    async def projects(
        self, url: str, headers: dict[str, str], scale: float, seed: int, communities: list[dict[str, Any]]
    ) -> None:
        """项目资金: the seed's projects (demo_projects), at least a tenth of the city's so that every
        county has some, through the projects service's batch API."""
        stage = self._stage("项目资金", "个")
        by_county: dict[str, list[str]] = {}
        for c in communities:  # the registry's communities: names on the page, cadres to notify
            by_county.setdefault(c["code"][:6], []).append(c["code"])
        pds = demo_projects.generate(scale=max(scale, PROJECTS_MIN_SCALE), seed=seed, by_county=by_county)
        with self._bar(stage, len(pds.projects)) as bar:
            try:
                ids = await asyncio.to_thread(demo_projects.load_over_http, url, headers, pds)
            except demo_projects.LoadError as exc:
                stage.rejected.append({"key": "", "field": "", "error": "", "message": str(exc)})
                return
            bar.update(len(ids))
        stage.sent = len(pds.projects)
        stage.accepted = len(ids)
        self.report.projects = pds

    async def read_model_caught_up(self, url: str) -> None:
        """Wait until the read model has folded every event (its lag gauges at zero), so that the
        monitoring page shows the whole demo at once."""
        deadline = time.monotonic() + self.sync_stall_timeout
        with tqdm(total=None, desc=demo_data.pad("读模型汇总", 8), unit="批", dynamic_ncols=True, leave=True) as bar:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                zero = 0
                while zero < 2 and time.monotonic() < deadline:
                    text = (await client.get("/metrics")).text
                    lags = [
                        float(line.rsplit(" ", 1)[1])
                        for line in text.splitlines()
                        if line.startswith("readmodel_consumer_lag{")
                    ]
                    behind = int(sum(lags))
                    bar.set_postfix_str(f"待汇总 {behind} 条")
                    bar.update(1)
                    zero = zero + 1 if lags and behind == 0 else 0
                    await asyncio.sleep(0.5)


def _error(response: httpx.Response) -> dict[str, Any]:
    """field, error code and message of a service's error answer ({"error", "message", "field"})."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return {"field": "", "error": str(response.status_code), "message": response.text[:200]}
    return {
        "field": str(body.get("field", "")),
        "error": str(body.get("error", response.status_code)),
        "message": str(body.get("message", "")),
    }


async def load(urls: dict[str, str], token: str, ds: demo_data.Dataset, *, secret: str) -> LoadReport:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=urls["governance"], headers=headers, timeout=REQUEST_TIMEOUT) as governance,
        httpx.AsyncClient(base_url=urls["employment"], headers=headers, timeout=REQUEST_TIMEOUT) as employment,
    ):
        loader = Loader(governance, employment)
        if await loader.already_loaded():
            loader.report.already_loaded = True
            return loader.report
        await loader.areas("网格", "个", ds.grids)
        await loader.areas("楼栋", "栋", ds.buildings)
        households = await loader.households(ds.households)
        residents = await loader.residents(ds.residents, households)
        labour = [residents[r["key"]] for r in ds.residents if r["labour_capacity"] and r["key"] in residents]
        await loader.wait_synced(labour)
        await loader.employment_rows("就业", "人", "/api/v1/employments/batch", ds.employments, residents)
        await loader.employment_rows("培训", "人次", "/api/v1/trainings/batch", ds.trainings, residents)
        await loader.check_zero_employment()
        await loader.community(urls["governance"], secret, ds, households)
        await loader.projects(urls["projects"], headers, ds.scale, ds.seed, ds.communities)
        await loader.read_model_caught_up(urls["readmodel"])
        return loader.report


def format_report(report: LoadReport) -> str:
    if report.already_loaded:
        return (
            "已有搬迁户数据(上次用 --keep-data 运行留下),不重复加载演示数据。"
            "要重新加载:不带 --keep-data 运行一次并按 Ctrl-C 退出(会删除数据),或 make clean。"
        )
    lines = ["加载结果:"]
    for s in report.stages:
        extra = "".join(
            [
                f", 未发送 {s.skipped}(所属户/居民被拒)" if s.skipped else "",
                f", 未同步 {s.unsynced}(就业服务尚未收到居民)" if s.unsynced else "",
            ]
        )
        lines.append(
            f"  {demo_data.pad(s.name, 8)}发送 {s.sent:>7,}  接受 {s.accepted:>7,}  拒绝 {len(s.rejected):>5,}{extra}"
        )
    rejected = [(s.name, r) for s in report.stages for r in s.rejected]
    if rejected:
        lines.append(f"被拒绝 {len(rejected)} 行,前 {min(len(rejected), SHOWN_REJECTIONS)} 行:")
        for name, r in rejected[:SHOWN_REJECTIONS]:
            lines.append(f"  [{name}] {r['key']} {r.get('field', '')} {r.get('error', '')}: {r.get('message', '')}")
    if report.zero_employment_live is not None:
        lines.append(f"就业服务当前零就业家庭: {report.zero_employment_live} 户(应为 0)")
    if report.community is not None:
        c = report.community
        lines.append(
            f"社区治理: 人员 {c.staff} 名, 群众点单 {c.requests} 件(已评单关闭 {c.closed}), 矛盾纠纷 {c.disputes} 件, "
            f"上门服务 {c.visits} 次, 积分发放 {c.awards} 次、兑换 {c.redemptions} 次"
        )
    if report.projects is not None:
        fen = sum(p.amount_fen for p in report.projects.projects)
        lines.append(f"项目资金: 项目 {len(report.projects.projects)} 个, 安排资金 {fen / 1_000_000:,.2f} 万元")
    return "\n".join(lines)


# =============================================================================================
# Tokens
# =============================================================================================


def demo_tokens(secret: str, ds: demo_data.Dataset | None) -> list[tuple[str, str, str, str]]:
    """(role, area, who, token) for each demo user."""
    xishui_community = next(c["code"] for c in _communities(ds) if c["code"].startswith(XISHUI))
    grid = f"{xishui_community}-G01"
    users = [
        ("city_officer", CITY, "遵义市后续扶持办"),
        ("county_officer", XISHUI, "习水县后续扶持办"),
        ("county_officer", RENHUAI, "仁怀市后续扶持办"),
        ("community_cadre", xishui_community, "习水县安置社区干部"),
        ("grid_worker", grid, "习水县网格员"),
        ("building_head", f"{grid}-B01", "习水县楼栋长"),
        ("party_secretary", xishui_community, "习水县社区党组织书记"),
        ("commission_viewer", CITY, "遵义市发展改革委"),
        ("bureau_system", CITY, "遵义市人社局系统"),
    ]
    return [
        (
            role,
            area,
            who,
            mint_token(secret=secret, subject=f"demo-{role}-{area}", roles=[role], areas=[area], name=who),
        )
        for role, area, who in users
    ]


def _communities(ds: demo_data.Dataset | None) -> list[dict[str, Any]]:
    if ds is not None:
        return ds.communities
    return [a for a in demo_data.load_areas() if a["level"] == "community"]


# =============================================================================================
# Processes
# =============================================================================================


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: TIME_WAIT is no obstacle
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _stack_up(stack_dir: Path) -> bool:
    status = stack.stack_status(stack_dir)
    return bool(status["kafka"]["healthy"] and status["mongo"]["healthy"])


def _delete_stack_data(stack_dir: Path) -> None:
    """Kafka's log dirs and the database files of the (stopped) stack; config and logs stay."""
    layout = stack.Layout(stack_dir)
    for data in (layout.kafka_data, layout.mongo_data):
        if data.exists():
            shutil.rmtree(data)
    print(f"[run] 已删除 {stack_dir} 中的数据(保留日志)", file=sys.stderr)


def _watch(supervisor: procs.Supervisor) -> int:
    """Block until Ctrl-C/SIGTERM (KeyboardInterrupt); a service that exits is restarted with
    backoff, and run stops (returns 1) only when one was given up on (too many restarts)."""
    while supervisor.check():
        time.sleep(1)
    return 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.02, help="demo data size, 1.0 = the whole city (default 0.02)")
    ap.add_argument("--seed", type=int, default=7, help="demo data seed (default 7)")
    ap.add_argument("--no-demo", action="store_true", help="start everything but load no demo data")
    ap.add_argument("--keep-data", action="store_true", help="keep the stack's data when stopping")
    ap.add_argument("--exit-after-load", action="store_true", help="stop everything once loaded (for scripts)")
    ap.add_argument("--stack-dir", type=Path, default=STACK_DIR, help=f"stack folder (default {STACK_DIR})")
    args = ap.parse_args(argv)
    if not args.scale > 0:
        ap.error("--scale must be positive")

    # Ctrl-C and SIGTERM stop everything, even when started with SIGINT ignored (as a background job)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    stack_dir: Path = args.stack_dir.resolve()
    services: list[procs.ServiceProcess] = []
    envs: dict[str, dict[str, str]] = {}
    stack_ours = False
    status = 0
    try:
        busy = [f"{name} {port}" for name, port in SERVICES.items() if not _port_free(port)]
        if busy:
            raise RuntimeError(f"端口已被占用: {', '.join(busy)}(是否已有一个 make run 在运行?)")
        stack_ours = not _stack_up(stack_dir)
        env = stack.start_stack(stack_dir)
        if not stack_ours:
            print(f"[run] 使用已在运行的本地环境 {stack_dir}:退出时不停止、不删除数据", file=sys.stderr)

        secret = secrets.token_urlsafe(32)  # a new identity-provider key per run
        for name, port in SERVICES.items():
            service_env = {
                **env,
                "JWT_SECRET": secret,
                "PII_HASH_KEY": PII_HASH_KEY,
                "MONGODB_DATABASE": DATABASES[name],
            }
            envs[name] = service_env
            services.append(procs.start_service(name, service_env, log_dir=stack_dir / "logs", port=port))
            print(f"[run] {name}-service 启动中 (pid {services[-1].pid}),日志 {services[-1].log}", file=sys.stderr)
        for s in services:
            s.wait_ready(timeout=READY_TIMEOUT)
        urls = {s.name: s.url for s in services}

        ds: demo_data.Dataset | None = None
        report: LoadReport | None = None
        if not args.no_demo:
            started = time.perf_counter()
            ds = demo_data.generate(args.scale, args.seed)
            print(f"[run] 演示数据已生成({time.perf_counter() - started:.1f} 秒),开始加载", file=sys.stderr)
            loader_token = mint_token(
                secret=secret, subject="demo-loader", roles=["city_officer"], areas=[CITY], name="演示数据加载"
            )
            started = time.perf_counter()
            report = asyncio.run(load(urls, loader_token, ds, secret=secret))
            print(f"[run] 加载用时 {time.perf_counter() - started:.1f} 秒", file=sys.stderr)
            print(format_report(report))
            if report.failed:
                status = 1

        print("\n监测页面(用下面的令牌登录,如市级后续扶持办的令牌):")
        print(f"  {urls['readmodel']}/monitor/")
        print("\n接口文档:")
        for s in services:
            print(f"  {s.name:<14} {s.url}/docs")
        print("\n演示用户令牌(Authorization: Bearer <令牌>,12 小时有效):")
        for role, area, who, token in demo_tokens(secret, ds):
            print(f"  {role:<17} {area:<24} {who}\n    {token}")
        if ds is not None and report is not None and not report.already_loaded:
            print()
            print(demo_data.format_summary(ds.summary()))
        sys.stdout.flush()
        if args.exit_after_load:
            return status
        print("\n按 Ctrl-C 停止。", flush=True)
        supervisor = procs.Supervisor(
            services,
            lambda name: procs.start_service(name, envs[name], log_dir=stack_dir / "logs", port=SERVICES[name]),
        )
        try:
            status = _watch(supervisor) or status
        finally:
            services[:] = supervisor.services  # the restarted processes are the ones to stop
    except KeyboardInterrupt:
        print("\n[run] 正在停止…", file=sys.stderr)
    except (stack.StackError, LoadError, RuntimeError, httpx.HTTPError) as exc:
        print(f"[run] 错误: {exc}", file=sys.stderr)
        status = 1
    finally:
        # the clean-up runs to its end: a second Ctrl-C does not cut it short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for s in reversed(services):
            s.stop()
        if stack_ours:
            try:
                stack.stop_stack(stack_dir)
                if not args.keep_data:
                    _delete_stack_data(stack_dir)
            except (stack.StackError, OSError) as exc:
                print(f"[run] 停止本地环境出错: {exc}", file=sys.stderr)
                status = 1
    return status


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
