"""Schema versions: additive migrations, so the previous release runs on a newer file."""

from __future__ import annotations

import logging
from decimal import Decimal as D
from pathlib import Path

import pytest
from state_helpers import TOKEN, WALLET, detection, result

from polymarket_bot.models import IntentStatus, Side
from polymarket_bot.state import Store
from polymarket_bot.state.schema import MIGRATIONS, Migration, check_additive

# What a next release might add: a column with a default on a table this release writes, a new
# table and an index. The current code plays "v1", the store opened with these plays "v2".
NEXT = Migration(len(MIGRATIONS) + 1, "fees and labels", (
    "ALTER TABLE intents ADD COLUMN builder_fee TEXT NOT NULL DEFAULT '0'",
    "ALTER TABLE positions ADD COLUMN label TEXT",
    "CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS intents_builder_fee ON intents (builder_fee)",
))
V2 = (*MIGRATIONS, NEXT)


def versions(store: Store) -> list[int]:
    return [row[0] for row in store._db.execute(
        "SELECT version FROM schema_migrations ORDER BY version")]


def test_a_new_file_gets_every_migration_once(tmp_path: Path) -> None:
    with Store(tmp_path / "bot.db") as store:
        assert versions(store) == [m.version for m in MIGRATIONS]
        assert store.version == MIGRATIONS[-1].version
    with Store(tmp_path / "bot.db") as store:  # reopening applies nothing again
        assert versions(store) == [m.version for m in MIGRATIONS]


def test_an_older_file_is_migrated_forward_keeping_its_data(tmp_path: Path) -> None:
    with Store(tmp_path / "bot.db") as old:
        fill, decision, intent = detection()
        old.record_detection(fill, decision, intent)
    with Store(tmp_path / "bot.db", migrations=V2) as new:
        assert new.version == NEXT.version
        assert new.seen([fill.key]) == {fill.key}
        assert new._db.execute("SELECT builder_fee FROM intents").fetchone()[0] == "0"


def test_the_previous_release_runs_on_a_file_the_next_one_migrated(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "bot.db"
    with Store(path, migrations=V2) as v2:  # the new release ran, wrote state, was rolled back
        fill, decision, intent = detection(size="20", price="0.5")
        v2.record_detection(fill, decision, intent)
        v2.apply_result(intent.id, result("0x1", "matched", "20", "0.5"))
        v2._db.execute("INSERT INTO alerts (text) VALUES ('hello')")
    with caplog.at_level(logging.WARNING), Store(path) as v1:
        assert v1.version == NEXT.version
        assert "newer than this release knows" in caplog.text
        assert versions(v1) == [m.version for m in V2]  # nothing was undone
        # everything v1 does still works on the wider tables
        assert v1.position(TOKEN).size == 20 and v1.copied(WALLET, TOKEN) == 20
        fill, decision, sell = detection(side=Side.SELL, size="5", price="0.6")
        assert v1.record_detection(fill, decision, sell)
        v1.mark_signed(sell.id, "0x2", {"order": 1})
        v1.apply_result(sell.id, result("0x2", "matched", "5", "0.6"))
        assert v1.intent(sell.id).status is IntentStatus.DONE
        assert v1.position(TOKEN).size == 15 and v1.exposure(intent.condition_id) == D("7.5")
        assert v1.integrity_check() == []
    with Store(path, migrations=V2) as again:  # and rolling forward again is fine too
        assert again._db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 1
        assert again.position(TOKEN).size == 15


@pytest.mark.parametrize("statement", [
    "DROP TABLE flags",
    "ALTER TABLE intents RENAME TO old_intents",
    "ALTER TABLE intents DROP COLUMN error",
    "ALTER TABLE intents ADD COLUMN mandatory TEXT NOT NULL",
    "CREATE TABLE flags (name TEXT)",
    "UPDATE positions SET size = '0'",
    "CREATE TRIGGER t AFTER INSERT ON flags BEGIN DELETE FROM flags; END",
])
def test_destructive_migrations_are_refused_before_touching_the_file(
        tmp_path: Path, statement: str) -> None:
    bad = Migration(len(MIGRATIONS) + 1, "bad", (statement,))
    with pytest.raises(ValueError, match="not additive"):
        check_additive(bad)
    with Store(tmp_path / "bot.db") as store:
        store.set_flag("paused", "yes")
    with pytest.raises(ValueError, match="not additive"):
        Store(tmp_path / "bot.db", migrations=(*MIGRATIONS, bad))
    with Store(tmp_path / "bot.db") as store:
        assert store.get_flag("paused") == "yes"
        assert versions(store) == [m.version for m in MIGRATIONS]


def test_every_shipped_migration_is_additive() -> None:
    for migration in MIGRATIONS:
        check_additive(migration)
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
