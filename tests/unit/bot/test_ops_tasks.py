"""Supervised tasks: a crash is logged once and the task restarted; one that keeps crashing
ends the process; each task's liveness is what /health shows."""

from __future__ import annotations

import asyncio
import logging

import pytest

from polymarket_bot.service.tasks import Job, Tasks, Throttle


async def settle(condition, rounds: int = 2000) -> None:
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
        await asyncio.sleep(0.001)
    raise AssertionError("condition never became true")


async def test_a_crashing_task_is_restarted_and_its_traceback_logged_once(caplog) -> None:
    runs: list[int] = []

    async def flaky() -> None:
        runs.append(1)
        if len(runs) <= 3:
            raise RuntimeError("boom")
        await asyncio.Event().wait()

    tasks = Tasks(max_delay=0)
    caplog.set_level(logging.ERROR, "polymarket_bot")
    task = tasks.start("flaky", flaky)
    await settle(lambda: len(runs) == 4)
    view = tasks.snapshot()["flaky"]
    assert (view["state"], view["restarts"], view["status"]) == ("running", 3, "ok")
    assert view["last_error"] == "RuntimeError"  # the kind only: a message may hold a secret
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1  # then rate-limited: not a traceback per crash
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_task_that_keeps_crashing_stops_the_process() -> None:
    fatal: list[str] = []

    async def broken() -> None:
        raise KeyError("always")

    tasks = Tasks(on_fatal=fatal.append, fatal_after=3, max_delay=0)
    await tasks.start("broken", broken)
    assert fatal == ["broken"] and tasks.fatal == "broken"
    assert tasks.snapshot()["broken"] | {"last_beat_seconds_ago": None} == {
        "status": "failing", "state": "dead", "restarts": 2, "last_error": "KeyError",
        "last_beat_seconds_ago": None}


async def test_a_task_without_beats_is_stalled() -> None:
    tasks = Tasks()
    hung = tasks.start("hung", asyncio.Event().wait, stall_after=0)
    beating = tasks.start("beating", asyncio.Event().wait, stall_after=3600)
    tasks.beat("beating")
    await asyncio.sleep(0.01)
    views = tasks.snapshot()
    assert (views["hung"]["state"], views["hung"]["status"]) == ("stalled", "failing")
    assert (views["beating"]["state"], views["beating"]["status"]) == ("running", "ok")
    for task in tasks.cancel():
        with pytest.raises(asyncio.CancelledError):
            await task
    assert hung.cancelled() and beating.cancelled()


def test_throttle_lets_one_line_through_then_counts_the_rest() -> None:
    throttle = Throttle(every=3600)
    assert throttle.allow("disk full") == (True, 0)
    assert [throttle.allow("disk full") for _ in range(3)] == [(False, 0)] * 3
    assert throttle.allow("other") == (True, 0)


async def test_an_auxiliary_task_is_restarted_however_often_it_fails() -> None:
    fatal: list[str] = []
    runs: list[int] = []

    async def telegram() -> None:
        runs.append(1)
        if len(runs) <= 5:
            raise OSError("network unreachable")
        await asyncio.Event().wait()

    tasks = Tasks(on_fatal=fatal.append, fatal_after=3, max_delay=0)
    task = tasks.start("telegram", telegram, critical=False)
    await settle(lambda: len(runs) == 6)
    assert fatal == [] and tasks.snapshot()["telegram"]["state"] == "running"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_jobs_start_under_their_names_with_their_supervision() -> None:
    fatal: list[str] = []

    async def broken() -> None:
        raise OSError("network unreachable")

    tasks = Tasks(on_fatal=fatal.append, fatal_after=2, max_delay=0)
    started = tasks.start_all([Job("watchdog", asyncio.Event().wait, stall_after=3600),
                               Job("alerts", broken, critical=False)])
    assert [task.get_name() for task in started] == ["watchdog", "alerts"]
    await settle(lambda: tasks.snapshot()["alerts"]["restarts"] >= 3)
    views = tasks.snapshot()
    assert list(views) == ["watchdog", "alerts"]  # /health shows each job by its name
    assert views["watchdog"]["state"] == "running" and views["alerts"]["status"] == "degraded"
    assert fatal == []  # an auxiliary job fails for as long as it takes
    for task in tasks.cancel():
        with pytest.raises(asyncio.CancelledError):
            await task
