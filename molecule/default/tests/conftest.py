"""Shared fixtures for the default scenario's testinfra checks (helpers in molecule/shared)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from testlib import figure, health, playbook, sandbox_secrets, terminal_summary

__all__ = ["figure", "health", "playbook"]


@pytest.fixture(scope="session")
def secrets() -> dict[str, str]:
    return sandbox_secrets()


@pytest.fixture()
def name(host) -> str:
    return host.backend.host


def pytest_terminal_summary(terminalreporter) -> None:
    terminal_summary(terminalreporter)
