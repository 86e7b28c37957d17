"""Shared pieces for the alert tests: a token the fake accepts, chats, a queue running as a task."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from polymarket_bot.service.alerts import AlertQueue

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
CRITICAL, HIGH, MEDIUM = "-1001000000001", "-1001000000002", "-1001000000003"
CHATS = {"critical": CRITICAL, "high": HIGH, "medium": MEDIUM}


def make_queue(sim: Any, **kwargs: Any) -> AlertQueue:
    kwargs.setdefault("linger", 0.2)
    kwargs.setdefault("max_backoff", 1.0)
    kwargs.setdefault("request_timeout", 3.0)
    return AlertQueue(TOKEN, kwargs.pop("chats", CHATS), api_url=sim.urls["telegram"], **kwargs)


@contextlib.asynccontextmanager
async def running(queue: AlertQueue) -> AsyncIterator[AlertQueue]:
    task = asyncio.create_task(queue.run())
    try:
        yield queue
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_messages(sim: Any, count: int, chat: str | None = None,
                        timeout: float = 30.0) -> list[dict[str, Any]]:
    return await asyncio.to_thread(sim.sim.telegram.wait_for_messages, count, chat, timeout)


def texts(sim: Any, chat: str | None = None) -> list[str]:
    return [m["text"] for m in sim.sim.telegram.messages(chat)]
