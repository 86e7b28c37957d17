"""Shared fixtures: a simulator on loopback, and loopback traffic that bypasses any proxy."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from polymarket_sim.app import RunningSim, start_background

# Test traffic goes to 127.0.0.1 only; a machine-wide HTTP proxy must never see it.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

# An obviously fake, well-known test key (Hardhat account #0): never holds real funds.
TEST_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TEST_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    """A fresh, empty simulator (chain id 137, fast blocks) for one test."""
    running = start_background(block_time=0.05)
    try:
        yield running
    finally:
        running.stop()
