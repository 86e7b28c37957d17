"""The store's API: detection, intents, positions, the journal, flags, the file itself."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from state_helpers import CONDITION, OTHER_WALLET, TOKEN, WALLET, detection, result

from polymarket_bot.models import IntentStatus, Side
from polymarket_bot.state import Store, utc_day


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(tmp_path / "state" / "bot.db")
    yield opened
    opened.close()


def record(store: Store, **kwargs) -> str | None:
    """Record one detection; returns the intent id (None for a skip)."""
    fill, decision, intent = detection(**kwargs)
    assert store.record_detection(fill, decision, intent)
    return intent.id if intent else None


def bought(store: Store, shares: str, price: str, **kwargs) -> str:
    """A buy intent of `shares` filled completely at `price`."""
    intent_id = record(store, size=shares, price=price, **kwargs)
    store.apply_result(intent_id, result(f"0x{intent_id}", "matched", shares, price))
    return intent_id


def test_the_file_is_private_durable_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "bot.db"
    with Store(path) as store:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        pragma = {name: store._db.execute(f"PRAGMA {name}").fetchone()[0]
                  for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
    # at rest NORMAL (1): each durable commit raises it to FULL for itself (next test)
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1,
                      "busy_timeout": 5000}


def test_a_durable_commit_is_fsynced_and_the_others_are_not(store: Store) -> None:
    """What decides a copy (the detection, a batch of them) commits under synchronous=FULL;
    what a restart can rebuild from the exchange (signed hash, result, cursor) does not."""
    levels: list[tuple[str, str]] = []
    level = {"now": "NORMAL"}  # at rest (the test above)

    def trace(statement: str) -> None:
        if statement.startswith("PRAGMA synchronous="):
            level["now"] = statement.split("=", 1)[1]
        elif statement == "COMMIT":
            levels.append((trace.what, level["now"]))

    store._db.set_trace_callback(trace)
    trace.what = "detection"
    intent_id = record(store, size="10", price="0.5")
    trace.what = "batch"
    with store.batch():
        record(store, size="10", price="0.5")
        record(store, size="20", price="0.5")
    trace.what = "signed"
    store.mark_signed(intent_id, f"0x{intent_id}", {"salt": 1})
    trace.what = "result"
    store.apply_result(intent_id, result(f"0x{intent_id}", "matched", "10", "0.5"))
    trace.what = "cursor"
    store.set_cursor("chain", "1")
    store._db.set_trace_callback(None)
    assert levels == [("detection", "FULL"), ("batch", "FULL"), ("signed", "NORMAL"),
                      ("result", "NORMAL"), ("cursor", "NORMAL")]
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 1


def test_what_was_not_synced_is_flushed_soon_after_off_the_caller(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The WAL pages of commits without fsync reach the disk from a background thread, a few
    commits of one moment in one flush, so the next durable commit syncs only its own."""
    flushed: list[tuple[str, str]] = []
    real = os.fdatasync

    def spy(fd: int) -> None:
        flushed.append((os.readlink(f"/proc/self/fd/{fd}"), threading.current_thread().name))
        real(fd)

    monkeypatch.setattr(os, "fdatasync", spy)
    # a gathering window wide enough for three writes even on a loaded CI machine
    monkeypatch.setattr(store._flusher, "_gather", 0.5)
    record(store, size="10", price="0.5")  # durable: syncs itself, nothing to flush after it
    time.sleep(0.2)
    assert flushed == []
    for cursor in ("1", "2", "3"):
        store.set_cursor("chain", cursor)
    deadline = time.monotonic() + 5
    while not flushed and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.6)  # a second flush, if the writes had not shared one, would be done by now
    assert flushed == [(f"{store.path.resolve()}-wal", "wal-flush")]
    store.close()  # stops the thread; closing twice is harmless
    assert not any(t.name == "wal-flush" for t in threading.enumerate())


def test_cursors_and_flags(store: Store) -> None:
    assert store.get_cursor("chain") is None
    store.set_cursor("chain", "100")
    store.set_cursor("chain", "105")
    assert store.get_cursor("chain") == "105"
    assert store.get_flag("paused") is None
    store.set_flag("paused", "operator")
    assert store.get_flag("paused") == "operator"
    store.set_flag("paused", None)
    assert store.get_flag("paused") is None


def test_a_fill_is_recorded_once_whichever_source_sees_it(store: Store) -> None:
    fill, decision, intent = detection()
    assert store.record_detection(fill, decision, intent)
    again = fill.model_copy(update={"source": "data_api"})
    assert not store.record_detection(again, decision, intent)
    assert store.seen([fill.key, "unknown"]) == {fill.key}
    assert [i.id for i in store.unresolved_intents()] == [intent.id]
    assert len(store.decisions()) == 1
    assert store.fill_of_intent(intent.id) == fill
    assert store.fill_of_intent("unknown") is None


def test_seen_handles_more_keys_than_sqlite_binds(store: Store) -> None:
    keys = [detection(copy=False) for _ in range(3)]
    for fill, decision, _ in keys:
        store.record_detection(fill, decision, None)
    asked = [f"absent-{n}" for n in range(1200)] + [fill.key for fill, _, _ in keys]
    assert store.seen(asked) == {fill.key for fill, _, _ in keys}


def test_a_skip_is_journaled_without_an_intent(store: Store) -> None:
    fill, decision, intent = detection(copy=False)
    assert intent is None and store.record_detection(fill, decision, None)
    (entry,) = store.decisions()
    assert (entry["action"], entry["reason"], entry["intent_id"]) == ("skip", "price_band", None)
    assert store.unresolved_intents() == []


def test_detection_tracks_what_the_target_holds(store: Store) -> None:
    assert store.target_holding(WALLET, TOKEN) is None
    record(store, size="30", price="0.5")
    record(store, side=Side.SELL, size="10", price="0.6", copy=False)
    assert store.target_holding(WALLET, TOKEN) == 20
    record(store, side=Side.SELL, size="50", price="0.6", copy=False)
    assert store.target_holding(WALLET, TOKEN) == 0  # never below zero
    store.set_target_holding(WALLET, TOKEN, D("42.5"))
    assert store.target_holding(WALLET, TOKEN) == D("42.5")


def test_a_decision_about_another_fill_is_refused(store: Store) -> None:
    fill, _, _ = detection()
    _, other_decision, other_intent = detection()
    with pytest.raises(ValueError, match="about this fill"):
        store.record_detection(fill, other_decision, other_intent)
    assert store.seen([fill.key]) == set()


def test_a_failure_inside_the_detection_leaves_nothing_behind(store: Store) -> None:
    first_fill, first_decision, first_intent = detection()
    assert store.record_detection(first_fill, first_decision, first_intent)
    fill, decision, intent = detection()
    clash = intent.model_copy(update={"id": first_intent.id})  # the intent insert fails
    with pytest.raises(sqlite3.IntegrityError):
        store.record_detection(fill, decision, clash)
    assert store.seen([fill.key]) == set()  # so the fill is detected again, not lost
    assert len(store.decisions()) == 1
    assert store.target_holding(WALLET, TOKEN) == first_fill.size
    assert store.record_detection(fill, decision, intent)


def test_an_intent_goes_signed_posted_done(store: Store) -> None:
    intent_id = record(store, size="10", price="0.5")
    assert store.intent(intent_id).status is IntentStatus.PENDING
    store.mark_signed(intent_id, "0xabc", {"salt": 1, "signature": "0xsig"})
    assert store.signed_order(intent_id) == {"salt": 1, "signature": "0xsig"}
    signed = store.intent(intent_id)
    assert (signed.status, signed.order_id) == (IntentStatus.SIGNED, "0xabc")
    store.mark_posted(intent_id)
    assert store.intent(intent_id).status is IntentStatus.POSTED
    store.apply_result(intent_id, result("0xabc", "matched", "10", "0.5"))
    assert store.intent(intent_id).status is IntentStatus.DONE
    store.mark_posted(intent_id)  # a late call cannot reopen it
    assert store.intent(intent_id).status is IntentStatus.DONE
    assert store.unresolved_intents() == []
    with pytest.raises(ValueError, match="past signing"):
        store.mark_signed(intent_id, "0xdef", {})


def test_applying_a_result_again_changes_nothing(store: Store) -> None:
    intent_id = record(store, size="100", price="0.5", order_type="GTC")
    store.apply_result(intent_id, result("0x1", "live", "40", "0.5"))
    store.apply_result(intent_id, result("0x1", "live", "40", "0.5"))
    assert store.position(TOKEN).size == 40 and store.intent(intent_id).status is \
        IntentStatus.POSTED
    store.apply_result(intent_id, result("0x1", "matched", "100", "0.49"))
    store.apply_result(intent_id, result("0x1", "matched", "100", "0.49"))
    store.apply_result(intent_id, result("0x1", "live", "40", "0.5"))  # a stale answer
    position = store.position(TOKEN)
    assert (position.size, position.cost) == (100, D(49))
    assert store.copied(WALLET, TOKEN) == 100
    assert store.intent(intent_id).status is IntentStatus.DONE
    assert store._db.execute("SELECT status FROM orders").fetchone()[0] == "matched"
    assert store.integrity_check() == []


def test_fees_are_cumulative_too(store: Store) -> None:
    intent_id = record(store, size="10", price="0.5")
    store.apply_result(intent_id, result("0x1", "matched", "10", "0.5"), fee=D("0.05"))
    store.apply_result(intent_id, result("0x1", "matched", "10", "0.5"), fee=D("0.05"))
    assert store.position(TOKEN).cost == D("5.05")


def test_average_cost_and_realized_pnl_of_the_day(store: Store) -> None:
    bought(store, "10", "0.40")
    bought(store, "30", "0.60")
    assert store.position(TOKEN).cost == D(22)  # 40 shares at 0.55
    sell = record(store, side=Side.SELL, size="20", price="0.70")
    when = 1_800_000_000.0
    store.apply_result(sell, result("0xsell", "matched", "20", "0.70"), fee=D("0.10"), now=when)
    position = store.position(TOKEN)
    assert (position.size, position.cost) == (20, D(11))
    pnl = D(14) - D("0.10") - D(11)  # proceeds - fee - cost of the shares sold
    assert position.realized_pnl == pnl
    assert store.daily_pnl(utc_day(when)) == pnl  # no mark yet: no unrealized part
    assert store.daily_pnl(utc_day(when), {TOKEN: D("0.30")}) == pnl + 20 * D("0.30") - 11
    store.set_mark(TOKEN, D("0.65"))
    assert store.daily_pnl(utc_day(when)) == pnl + 20 * D("0.65") - 11
    assert store.daily_pnl("2001-01-01") == 20 * D("0.65") - 11
    assert store.integrity_check() == []


def test_selling_everything_closes_the_position(store: Store) -> None:
    bought(store, "10", "0.40")
    sell = record(store, side=Side.SELL, size="10", price="0.30")
    store.apply_result(sell, result("0xsell", "matched", "10", "0.30"))
    position = store.position(TOKEN)
    assert (position.size, position.cost, position.realized_pnl) == (0, 0, D(-1))
    assert store.positions() == [] and store.open_positions() == 0


def test_an_exit_sells_out_of_its_own_wallet_s_copy_first(store: Store) -> None:
    bought(store, "30", "0.5", wallet=WALLET)
    bought(store, "10", "0.5", wallet=OTHER_WALLET)
    exit_intent = record(store, side=Side.SELL, size="15", price="0.5", wallet=WALLET)
    assert store.copied(WALLET, TOKEN) == 15  # the pending exit is already spoken for
    store.apply_result(exit_intent, result("0xexit", "matched", "15", "0.5"))
    assert store.copied_by_wallet(WALLET) == {TOKEN: 15}
    assert store.copied(OTHER_WALLET, TOKEN) == 10
    oversold = record(store, side=Side.SELL, size="20", price="0.5", wallet=WALLET)
    store.apply_result(oversold, result("0xover", "matched", "20", "0.5"))
    assert store.copied(WALLET, TOKEN) == 0
    assert store.copied(OTHER_WALLET, TOKEN) == 5  # the excess comes out of the others
    assert store.copied_by_wallet(WALLET) == {}


def test_results_move_the_intent_through_its_states(store: Store) -> None:
    def status_after(*answers, order_type: str = "FAK") -> IntentStatus:
        intent_id = record(store, size="10", price="0.5", order_type=order_type)
        store.mark_signed(intent_id, f"0x{intent_id}", {})
        for answer in answers:
            store.apply_result(intent_id, answer.model_copy(update={"order_id": f"0x{intent_id}"}))
        return store.intent(intent_id).status

    assert status_after(result("", "unmatched")) is IntentStatus.DONE
    assert status_after(result("", "rejected", error="invalid signature")) is IntentStatus.FAILED
    assert status_after(result("", "rejected", error="429", retryable=True)) is \
        IntentStatus.SIGNED
    assert status_after(result("", "not_found")) is IntentStatus.SIGNED
    assert status_after(result("", "delayed")) is IntentStatus.POSTED
    assert status_after(result("", "live"), order_type="GTC") is IntentStatus.POSTED
    assert status_after(result("", "matched", "4", "0.5"), order_type="GTC") is \
        IntentStatus.POSTED
    assert status_after(result("", "live"), result("", "canceled", "4", "0.5"),
                        order_type="GTC") is IntentStatus.DONE


def test_failing_an_intent_that_filled_in_part_makes_it_done(store: Store) -> None:
    failed = record(store)
    store.mark_failed(failed, "gave up")
    assert (store.intent(failed).status, store.intent(failed).error) == (
        IntentStatus.FAILED, "gave up")
    partial = record(store, size="10", price="0.5", order_type="GTC")
    store.apply_result(partial, result("0xp", "live", "3", "0.5"))
    store.mark_failed(partial, "cancel after TTL failed")
    assert store.intent(partial).status is IntentStatus.DONE
    # an intent given up on that turns out to have filled: DONE, and the fill is counted
    store.apply_result(failed, result("0xlate", "matched", "10", "0.5"))
    assert store.intent(failed).status is IntentStatus.DONE
    assert store.position(TOKEN).size == 13


def test_an_order_cannot_be_applied_to_another_intent(store: Store) -> None:
    first, second = record(store), record(store)
    store.apply_result(first, result("0xsame", "matched", "10", "0.5"))
    with pytest.raises(ValueError, match="another intent"):
        store.apply_result(second, result("0xsame", "matched", "10", "0.5"))
    with pytest.raises(KeyError):
        store.apply_result("no-such-intent", result("0xnew", "matched", "1", "0.5"))


def test_exposure_counts_holdings_and_pending_buys(store: Store) -> None:
    bought(store, "10", "0.40")
    assert store.exposure(CONDITION) == 4
    pending = record(store, size="20", price="0.50", order_type="GTC")
    assert store.exposure(CONDITION) == 14
    store.apply_result(pending, result("0xg", "live", "5", "0.50"))
    assert store.exposure(CONDITION) == D(4) + D("2.5") + 15 * D("0.5")
    record(store, token_id="2002", size="10", price="0.30")  # the other outcome, same market
    assert store.exposure(CONDITION) == 17
    record(store, side=Side.SELL, size="5", price="0.9")  # sells add no exposure
    assert store.exposure(CONDITION) == 17
    assert store.exposure("0x" + "99" * 32) == 0


def test_open_positions_include_tokens_a_pending_buy_opens(store: Store) -> None:
    bought(store, "10", "0.40")
    assert store.open_positions() == 1
    record(store, size="10", price="0.40")  # same token: still one
    record(store, token_id="3003", size="10", price="0.40")
    assert store.open_positions() == 2


def test_trade_counts_and_last_trade_ignore_failed_intents(store: Store) -> None:
    old = record(store, at=1000.0)
    assert store.last_trade_at(WALLET, CONDITION) == 1000.0
    failed = record(store, at=2000.0)
    store.mark_failed(failed, "rejected")
    record(store, at=3000.0, wallet=OTHER_WALLET)
    assert store.trades_since(1500.0) == 1
    assert store.trades_since(0) == 2
    assert store.last_trade_at(WALLET, CONDITION) == 1000.0
    assert store.last_trade_at(WALLET, "0xother") is None
    assert old


def test_the_journal_filters_and_counts(store: Store) -> None:
    record(store, at=100.0)
    fill, decision, _ = detection(copy=False, at=200.0, wallet=OTHER_WALLET)
    store.record_detection(fill, decision, None)
    record(store, at=300.0)
    assert [d["decided_at"] for d in store.decisions()] == [300.0, 200.0, 100.0]
    assert [d["decided_at"] for d in store.decisions(since=150.0)] == [300.0, 200.0]
    assert [d["reason"] for d in store.decisions(wallet=OTHER_WALLET)] == ["price_band"]
    assert len(store.decisions(reason="copied")) == 2
    assert len(store.decisions(limit=1)) == 1
    newest = store.decisions()[0]
    assert (newest["size"], newest["limit_price"], newest["intent_status"]) == (
        D(10), D("0.5"), "pending")
    assert store.decision_counts(0) == {"copied": 2, "price_band": 1}
    assert store.decision_counts(250.0) == {"copied": 1}


def test_integrity_check_finds_broken_invariants(store: Store) -> None:
    bought(store, "10", "0.40")
    assert store.integrity_check() == []
    store._db.execute("UPDATE positions SET size = '11' WHERE token_id = ?", (TOKEN,))
    store._db.execute("PRAGMA foreign_keys = OFF")
    store._db.execute(
        "INSERT INTO intents (id, fill_key, wallet, token_id, condition_id, side, size, "
        "limit_price, order_type, status, created_at, updated_at) VALUES ('orphan', 'nofill', "
        "'w', 't', 'c', 'BUY', '1', '0.5', 'FAK', 'pending', 0, 0)")
    problems = store.integrity_check()
    assert f"position {TOKEN}: size 11 but its fills sum to 10" in problems
    assert "intent orphan: its target fill is missing" in problems
    assert "intent orphan: no copy decision was journaled for it" in problems
    assert any(p.startswith("foreign key: intents") for p in problems)


def test_a_sweep_reads_only_the_intents_it_may_have_to_settle(store: Store) -> None:
    now, stuck_before = 10_000.0, 9_970.0

    def intent(at: float, *, order_type: str = "FAK", expires_at: float | None = None,
               status: str | None = None) -> str:
        fill, decision, made = detection(at=at, order_type=order_type)
        made = made.model_copy(update={"expires_at": expires_at})
        assert store.record_detection(fill, decision, made)
        if status in ("signed", "posted", "done"):
            store.mark_signed(made.id, f"0x{made.id}", {"n": 1})
        if status in ("posted", "done"):
            answer = "live" if status == "posted" else "matched"
            store.apply_result(made.id, result(f"0x{made.id}", answer, "0" if status ==
                                               "posted" else "10", "0.5"))
        if status == "failed":
            store.mark_failed(made.id, "given up")
        return made.id

    due = {
        intent(9_000.0),  # pending, stuck
        intent(9_100.0, status="signed"),  # signed, stuck
        intent(9_990.0, status="posted"),  # posted although it cannot rest: asked until final
        intent(9_200.0, order_type="GTC", expires_at=9_999.0, status="posted"),  # expired
    }
    intent(9_995.0)  # pending, just made: its worker has it
    intent(9_996.0, status="signed")
    intent(9_300.0, order_type="GTC", expires_at=10_500.0, status="posted")  # still resting
    intent(9_400.0, order_type="GTC", status="posted")  # resting without a time-to-live
    intent(9_000.0, status="done")
    intent(9_000.0, status="failed")
    swept = store.intents_to_sweep(now, stuck_before, ("GTC", "GTD"))
    assert {i.id for i in swept} == due
    assert [i.created_at for i in swept] == sorted(i.created_at for i in swept)
