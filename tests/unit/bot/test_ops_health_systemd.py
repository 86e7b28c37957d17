"""sd_notify and the progress-gated watchdog, against our own unix datagram socket."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from polymarket_bot.service.systemd import Notifier, Watchdog, watchdog_interval


class Listener:
    """What systemd would receive on NOTIFY_SOCKET."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)
        self.messages: list[str] = []

    def drain(self) -> list[str]:
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return self.messages


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    listen = Listener(str(tmp_path / "notify"))
    try:
        yield listen
    finally:
        listen.sock.close()


def test_messages_follow_the_sd_notify_protocol(listener: Listener, tmp_path: Path) -> None:
    notifier = Notifier(env={"NOTIFY_SOCKET": str(tmp_path / "notify")})
    assert notifier.ready("watching 3\ntargets")
    assert notifier.status("catching up")
    assert notifier.watchdog()
    assert notifier.stopping()
    notifier.close()
    assert listener.drain() == ["READY=1\nSTATUS=watching 3 targets", "STATUS=catching up",
                                "WATCHDOG=1", "STOPPING=1\nSTATUS=stopping"]


def test_abstract_namespace_socket() -> None:
    name = f"pmbot-test-{uuid.uuid4().hex}"
    listen = Listener(b"\0" + name.encode())
    try:
        notifier = Notifier(env={"NOTIFY_SOCKET": f"@{name}"})
        assert notifier.ready()
        assert listen.drain() == ["READY=1\nSTATUS=watching targets"]
    finally:
        listen.sock.close()


def test_everything_is_a_no_op_without_notify_socket() -> None:
    notifier = Notifier(env={})
    assert not notifier.enabled
    assert not notifier.ready() and not notifier.watchdog()
    watchdog = Watchdog(notifier, env={"WATCHDOG_USEC": "1000000"})
    assert not watchdog.enabled


def test_watchdog_interval_respects_watchdog_pid() -> None:
    assert watchdog_interval({"WATCHDOG_USEC": "3000000"}) == 3.0
    assert watchdog_interval({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": str(os.getpid())}) == 3
    assert watchdog_interval({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "x"}) is None


async def test_pings_while_the_loop_progresses_and_stop_when_it_hangs(
        listener: Listener, tmp_path: Path) -> None:
    notifier = Notifier(env={"NOTIFY_SOCKET": str(tmp_path / "notify")})
    watchdog = Watchdog(notifier, env={"WATCHDOG_USEC": "100000"})  # ping every 50 ms
    assert watchdog.enabled and watchdog.period == 0.05
    hung = asyncio.Event()

    async def detection_loop() -> None:  # stands for the engine's cycles
        while not hung.is_set():
            watchdog.progress()
            await asyncio.sleep(0.01)

    loop_task = asyncio.create_task(detection_loop())
    pinger = asyncio.create_task(watchdog.run())
    try:
        for _ in range(500):
            if watchdog.pings >= 5:
                break
            await asyncio.sleep(0.01)
        assert watchdog.pings >= 5
        hung.set()  # the loop hangs: no more progress
        await loop_task
        # one ping may still cover the last cycles; after that, none while the loop is stuck
        for _ in range(500):
            if watchdog.missed >= 1:
                break
            await asyncio.sleep(0.01)
        frozen = watchdog.pings
        for _ in range(500):
            if watchdog.missed >= 6:
                break
            await asyncio.sleep(0.01)
        assert watchdog.missed >= 6
        assert watchdog.pings == frozen
        assert listener.drain() == ["WATCHDOG=1"] * frozen
        # the loop comes back: pings resume
        watchdog.progress()
        for _ in range(500):
            if watchdog.pings > frozen:
                break
            await asyncio.sleep(0.01)
        assert watchdog.pings == frozen + 1
    finally:
        pinger.cancel()
        loop_task.cancel()
        await asyncio.gather(pinger, loop_task, return_exceptions=True)
        notifier.close()
