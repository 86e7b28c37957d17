"""The package layout is a rule, not a habit: only `state/` knows the tables, and what runs
inside `polymarket-bot run` (`service/`) never depends on the operator commands (`commands/`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import polymarket_bot
from polymarket_bot.state import ReadOnlyStore, Store, StoreError

PACKAGE = Path(polymarket_bot.__file__).parent
# SQL as it is written in this code base: upper-case keywords
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(TABLE|INDEX)|PRAGMA\s+\w+)\b", re.S)


def _modules(*, outside: str) -> list[tuple[str, ast.Module]]:
    return [(str(path.relative_to(PACKAGE)), ast.parse(path.read_text(), str(path)))
            for path in sorted(PACKAGE.rglob("*.py"))
            if path.relative_to(PACKAGE).parts[0] != outside]


def _imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.update([base, *(f"{base}.{alias.name}" for alias in node.names)])
    return found


def _store_privates(tmp_path: Path) -> set[str]:
    """Every private member of a Store: its methods' and mixins' names and what __init__ sets."""
    with Store(tmp_path / "bot.db") as store:
        names = set(vars(store))
    names.update(name for cls in Store.__mro__ for name in vars(cls))
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def test_no_module_outside_state_opens_the_database() -> None:
    offenders = [name for name, tree in _modules(outside="state")
                 if any(imported.split(".")[0] == "sqlite3" for imported in _imports(tree))]
    assert offenders == [], f"import sqlite3 outside state/: {offenders}"


def test_no_module_outside_state_writes_sql() -> None:
    offenders = [f"{name}:{node.lineno}: {node.value[:60]!r}"
                 for name, tree in _modules(outside="state") for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)
                 and SQL.search(node.value)]
    assert offenders == [], "SQL outside state/ (add a Store method):\n" + "\n".join(offenders)


def test_no_module_outside_state_reaches_into_the_store(tmp_path: Path) -> None:
    privates = _store_privates(tmp_path)
    assert {"_db", "_read", "_tx", "_lock"} <= privates  # the rule below sees what it must
    offenders = [f"{name}:{node.lineno}: .{node.attr}"
                 for name, tree in _modules(outside="state") for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and node.attr in privates
                 and not (isinstance(node.value, ast.Name) and node.value.id == "self")]
    assert offenders == [], "Store internals used outside state/:\n" + "\n".join(offenders)


def test_the_running_service_does_not_depend_on_operator_commands() -> None:
    offenders = [f"{name}: {imported}" for name, tree in _modules(outside="commands")
                 if name.startswith("service/") for imported in _imports(tree)
                 if "commands" in imported.split(".")]
    assert offenders == [], offenders


def test_the_read_only_store_reads_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    with Store(path) as store:
        store.set_flag("paused", "1")
        version = store.version
    before = path.read_bytes()
    with ReadOnlyStore(path) as store:
        assert store.get_flag("paused") == "1" and store.version == version
        with pytest.raises(StoreError, match="readonly"):  # SQLite itself refuses: mode=ro
            store.set_flag("paused", None)
    assert path.read_bytes() == before


def test_the_read_only_store_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "state" / "bot.db"
    with pytest.raises(FileNotFoundError, match="no state database"):
        ReadOnlyStore(missing)
    assert not missing.parent.exists()
