"""Run every simulated service in one process: one asyncio loop, one port per service.

The real services are separate hosts, so each gets its own base URL (consecutive ports from `port`,
or free ports when `port` is 0). `serve` prints those URLs as one JSON line for scripts to read;
`start_background` runs the same thing in a thread for tests and benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from . import admin, data_api, gamma, resolution, telegram
from . import scenario as scenarios
from .chain import rpc
from .chain.node import ChainNode
from .clob import routes as clob
from .context import Sim

log = logging.getLogger(__name__)

# The order is the port order: clob = port, data = port + 1, ...
SERVICES: dict[str, Callable[[Sim], web.Application]] = {
    "clob": clob.build_app,
    "data": data_api.build_app,
    "gamma": gamma.build_app,
    "rpc": rpc.build_app,
    "telegram": telegram.build_app,
    "admin": admin.build_app,
}


@dataclass
class Options:
    host: str = "127.0.0.1"
    port: int = 0
    chain_id: int = 137
    block_time: float = 0.2
    scenario: scenarios.Scenario | None = None
    positions_lag: float = 0.0


@dataclass
class Simulator:
    """The assembled simulator: build it, `start()` it inside a loop, `stop()` it."""

    options: Options
    sim: Sim = field(init=False)
    urls: dict[str, str] = field(default_factory=dict)
    _runners: list[web.AppRunner] = field(default_factory=list)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sim = Sim(chain_id=self.options.chain_id, positions_lag=self.options.positions_lag)
        self.sim.chain = ChainNode(self.sim, block_time=self.options.block_time)
        sim = self.sim
        self.sim.chain.on_events(lambda events: resolution.apply_chain_events(sim, events))

    async def start(self) -> dict[str, str]:
        await self.sim.chain.start()
        apps = {}
        for name, build in SERVICES.items():
            app = build(self.sim)
            if name != "admin":
                app.middlewares.append(self.sim.faults.middleware(name))
            apps[name] = app
        admin.attach(apps["admin"], self)
        for offset, (name, app) in enumerate(apps.items()):
            port = self.options.port + offset if self.options.port else 0
            self.urls[name] = await self._listen(app, port)
        if self.options.scenario is not None:
            scenarios.apply(self.sim, self.options.scenario)
            self.play(self.options.scenario)
        return self.urls

    def play(self, scenario: scenarios.Scenario) -> None:
        """Run a scenario's scripted trades in the background of the loop."""
        task = asyncio.get_running_loop().create_task(scenarios.run(self.sim, scenario))
        task.add_done_callback(_report_failure)
        self._tasks.append(task)

    async def _listen(self, app: web.Application, port: int) -> str:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.options.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.options.host, port))
        site = web.SockSite(runner, sock)
        await site.start()
        self._runners.append(runner)
        bound = sock.getsockname()[1]
        host = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
        return f"http://{host}:{bound}"

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for runner in reversed(self._runners):
            await runner.cleanup()
        await self.sim.chain.stop()


def _report_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("scenario %s stopped", task.get_name(), exc_info=task.exception())


async def serve(options: Options) -> None:
    """Serve until SIGINT/SIGTERM, after printing the service URLs as one JSON line."""
    simulator = Simulator(options)
    urls = await simulator.start()
    sys.stdout.write(json.dumps(urls) + "\n")
    sys.stdout.flush()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    try:
        await stopped.wait()
    finally:
        await simulator.stop()


@dataclass
class RunningSim:
    """A simulator running in a background thread (tests, benchmarks)."""

    urls: dict[str, str]
    sim: Sim
    simulator: Simulator
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread

    def call(self, fn: Callable, *args, timeout: float = 30.0):
        """Run `fn(*args)` on the simulator's loop (the engine and ledger are not thread-safe)."""

        async def wrapper():
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.simulator.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


def start_background(scenario: scenarios.Scenario | str | Path | None = None, chain_id: int = 137,
                     block_time: float = 0.2, host: str = "127.0.0.1",
                     port: int = 0) -> RunningSim:
    if isinstance(scenario, str | Path):
        scenario = scenarios.Scenario.load(scenario)
    simulator = Simulator(Options(host=host, port=port, chain_id=chain_id, block_time=block_time,
                                  scenario=scenario))
    loop = asyncio.new_event_loop()
    started: dict = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started["urls"] = loop.run_until_complete(simulator.start())
        except BaseException as exc:  # surfaced to the caller below
            started["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="polymarket-sim", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not ready.wait(0.1):
        if time.monotonic() > deadline:
            raise TimeoutError("the simulator did not start within 60 s")
    if "error" in started:
        raise started["error"]
    return RunningSim(started["urls"], simulator.sim, simulator, loop, thread)


@contextlib.contextmanager
def serve_in_thread(app: web.Application) -> Iterator[str]:
    """One service app on a free loopback port, from a background loop: its base URL.

    For tests of a single service; whole-simulator tests use `start_background`.
    """
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
