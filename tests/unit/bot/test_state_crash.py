"""kill -9 in the middle of a write: the store keeps all of it or none of it.

A child process opens the store and is killed (SIGKILL, no cleanup) from inside SQLite, at the
moment a chosen statement of a transaction starts: the statements before it have run, the commit
has not.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from polymarket_bot.models import IntentStatus
from polymarket_bot.state import Store

HELPERS = Path(__file__).parent

CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from state_helpers import detection, result
    from polymarket_bot.state import Store

    store = Store(Path(sys.argv[1]))
    step = sys.argv[2]

    def kill_at(prefix):
        def trace(sql):
            if sql.lstrip().startswith(prefix):
                os.kill(os.getpid(), signal.SIGKILL)
        store._db.set_trace_callback(trace)

    fill, decision, intent = detection(size="10", price="0.5")
    print(fill.key, intent.id, flush=True)
    if step == "detection":
        kill_at("INSERT INTO intents")
    store.record_detection(fill, decision, intent)
    if step == "apply":
        kill_at("INSERT INTO our_fills")
    store.apply_result(intent.id, result("0xorder", "matched", "10", "0.5"))
    os.kill(os.getpid(), signal.SIGKILL)
""")


def run_until_killed(path: Path, step: str) -> tuple[str, str]:
    child = subprocess.run([sys.executable, "-c", CHILD, str(path), step, str(HELPERS)],
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == -signal.SIGKILL, child.stderr
    key, intent_id = child.stdout.split()
    return key, intent_id


@pytest.mark.parametrize("step", ["detection", "apply", "end"])
def test_a_kill_mid_transaction_keeps_all_or_nothing(tmp_path: Path, step: str) -> None:
    path = tmp_path / "bot.db"
    key, intent_id = run_until_killed(path, step)
    with Store(path) as store:
        assert store.integrity_check() == []
        if step == "detection":  # fill, decision and intent are gone together
            assert store.seen([key]) == set()
            assert store.decisions() == [] and store.intent(intent_id) is None
            return
        assert store.seen([key]) == {key}
        if step == "apply":  # the detection stands; the fill of our order is not half-applied
            assert store.intent(intent_id).status is IntentStatus.PENDING
            assert store.position("1001") is None and store.copied_by_wallet(
                store.intent(intent_id).wallet) == {}
            return
        assert store.intent(intent_id).status is IntentStatus.DONE
        assert store.position("1001").size == 10
