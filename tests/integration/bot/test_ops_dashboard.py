"""The dashboard in a real browser: a bot trades in the simulator, then headless Chromium loads
the page and every number it shows must match the state DB. The screenshot is kept as an
artifact (build/artifacts/dashboard.png)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import httpx
from harness import BotRun, target

from polymarket_bot.state.store import DB_FILE, Store, utc_day

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
ARTIFACT = ROOT / "build" / "artifacts" / "dashboard.png"
LABEL = '<b>whale</b> & "co"'  # labels come from a config file: must be shown escaped


class Dom(HTMLParser):
    """Elements with a data-testid: (testid, attributes, text inside)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None], list[str]]] = []
        self._open: list[list[str] | None] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        texts: list[str] | None = None
        if "data-testid" in a:
            texts = []
            self.found.append((str(a["data-testid"]), a, texts))
        if tag not in ("meta", "br", "img", "input", "link", "line", "polyline"):
            self._open.append(texts)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("meta", "br", "img", "input", "link", "line", "polyline") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for texts in self._open:
            if texts is not None:
                texts.append(data)

    def all(self, testid: str) -> list[dict[str, str | None]]:
        return [a for t, a, _ in self.found if t == testid]

    def one(self, testid: str) -> dict[str, str | None]:
        (found,) = self.all(testid)
        return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium(tmp: Path, *args: str) -> str:
    assert CHROMIUM.exists(), (f"{CHROMIUM} is missing: run scripts/install-chromium.sh "
                               "(Debian's chromium package) to run the dashboard's browser test")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp}"]
    done = subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_dashboard_shows_what_the_state_db_holds(bot: BotRun, tmp_path: Path) -> None:
    whale, other, small = target(0), target(1), target(2)
    bot.wallets["target_wallets"] = [
        {"address": whale, "label": LABEL}, other,
        {"address": small, "sizing_mode": "proportional", "sizing_value": "0.01"}]
    bot.start()
    bot.trade(whale, "rain", "Yes", "BUY", 100, 0.53)
    bot.trade(other, "lakers-celtics", "Lakers", "BUY", 100, 0.42)
    bot.trade(whale, "fed-cut", "Yes", "BUY", 100, 0.618)
    bot.wait_until(lambda: len(bot.our_matches()) >= 3, what="the buys to be copied")
    bot.trade(whale, "rain", "Yes", "SELL", 100, 0.47)  # a full exit: realized P&L
    bot.trade(small, "rain", "No", "BUY", 100, 0.52)  # 1 share: below the minimum
    bot.wait_until(lambda: len(bot.our_matches()) >= 4, what="the exit")
    bot.wait_until(lambda: "reason=below_min_size" in bot.log_text(), what="the skip")
    bot.stop()

    state = bot.dir / "state"
    port = _free_port()
    log = (bot.dir / "dashboard.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "polymarket_bot", "dashboard", "--env-file",
         str(bot.write_config()), "--state-dir", str(state), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                summary = httpx.get(f"{url}/api/summary", trust_env=False).json()
                break
            except httpx.HTTPError:
                assert server.poll() is None, (bot.dir / "dashboard.log").read_text()
                assert time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.2)
        page = httpx.get(url, trust_env=False)
        assert len(page.content) < 100_000
        assert "<script" not in page.text and "http://" not in page.text.replace(url, "")
        dom_text = _chromium(tmp_path / "profile", "--dump-dom", url)
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        ARTIFACT.unlink(missing_ok=True)
        _chromium(tmp_path / "profile", f"--screenshot={ARTIFACT}", "--window-size=1280,1600",
                  "--hide-scrollbars", url)
        assert ARTIFACT.stat().st_size > 10_000
    finally:
        server.terminate()
        server.wait(10)
        log.close()

    with Store(state / DB_FILE) as store:
        positions = store.positions()
        daily = store.daily_pnl(utc_day(time.time()))
        decisions = store.decisions(limit=1000)

    dom = Dom()
    dom.feed(dom_text)
    # open positions: their count and sizes
    assert len(positions) >= 2  # the exit may leave sub-cent dust of the first buy
    assert dom.one("open-positions-count")["data-value"] == str(len(positions))
    shown = {a["data-token"]: Decimal(str(a["data-size"])) for a in dom.all("position-row")}
    assert shown == {p.token_id: p.size for p in positions}
    # P&L: today's, and the exit's realized loss (bought at <= 0.55, sold at <= 0.47)
    assert Decimal(str(dom.one("daily-pnl")["data-value"])) == daily
    realized = Decimal(str(dom.one("realized-pnl")["data-value"]))
    assert realized < 0
    assert int(str(dom.one("equity-curve")["data-points"])) == 5  # 4 fills, then now
    # copies and skips, with their reasons
    actions = Counter(d["action"] for d in decisions)
    assert actions == {"copy": 4, "skip": 1}
    assert dom.one("copies-count")["data-value"] == "4"
    assert dom.one("skips-count")["data-value"] == "1"
    rows = dom.all("decision-row")
    assert Counter((r["data-action"], r["data-reason"]) for r in rows) == Counter(
        (d["action"], d["reason"]) for d in decisions)
    assert {r["data-reason"] for r in rows} == {"copied", "below_min_size"}
    assert [a["data-reason"] for a in dom.all("skip-reason")] == ["below_min_size"]
    assert dom.one("orders-ok")["data-value"] == "4"
    assert dom.one("orders-failed")["data-value"] == "0"
    # per target: copies, skips and the label, escaped (text, not markup)
    targets = {a["data-wallet"]: a for a in dom.all("target-row")}
    assert set(targets) == {whale, other, small}
    assert LABEL in "".join(dom.text)
    assert "<b>whale</b>" not in dom_text
    per_target = Counter((d["wallet"], d["action"]) for d in decisions)
    for wallet, row in targets.items():
        assert int(str(row["data-copies"])) == per_target[(wallet, "copy")]
        assert int(str(row["data-skips"])) == per_target[(wallet, "skip")]
    whale_pnl = next(t for t in summary["targets"] if t["wallet"] == whale)["realized_pnl"]
    assert Decimal(whale_pnl) == realized
    # the bot is stopped: health says so instead of failing the page
    assert dom.one("health-status")["data-value"] == "unreachable"
    assert summary["totals"]["open_positions"] == len(positions)
