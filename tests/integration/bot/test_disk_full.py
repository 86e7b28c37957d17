"""A full disk under a running engine: nothing traded, one clear log line (no traceback per
cycle), /health degraded; trading resumes by itself once space is freed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from disk_helpers import fill, small_disk
from sources_helpers import DAY, inject
from test_ops_health_endpoints import Running, running, wait_health

from polymarket_sim.app import RunningSim

pytestmark = pytest.mark.integration
__all__ = ["running"]  # the fixture, used by name


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """The engine's state dir (the `running` fixture's tmp_path) on a small disk of its own."""
    with small_disk(4096) as disk:
        yield disk


async def test_a_full_disk_logs_one_line_degrades_health_and_recovers(
        running: Running, sim: RunningSim, tmp_path: Path, caplog) -> None:
    await wait_health(running.server, "ok")
    caplog.set_level(logging.ERROR, "polymarket_bot")
    filler = fill(tmp_path)
    inject(sim, *DAY[0])
    document = await wait_health(running.server, "degraded")
    assert document["components"]["db"]["error"] == "write failed: the disk is full"
    await asyncio.sleep(2)  # some twenty more detection cycles, every one of them failing
    assert running.store.decisions() == []  # fails closed: nothing decided, nothing traded
    failures = [r for r in caplog.records if "disk is full" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is None
    assert not any(r.exc_info for r in caplog.records)

    filler.unlink()  # space freed: the same fill is detected again, from the unmoved cursor
    deadline = time.monotonic() + 30
    while not running.store.decisions():
        assert time.monotonic() < deadline, "the fill was never recorded after space was freed"
        await asyncio.sleep(0.05)
    document = await wait_health(running.server, "ok")
    assert "error" not in document["components"]["db"]
