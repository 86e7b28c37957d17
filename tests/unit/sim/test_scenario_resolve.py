"""Scenario `resolve` entries: checked up front, each problem named by its path in the file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from polymarket_sim.cli import main

MARKETS = [{"slug": "rain", "outcomes": ["Yes", "No"]},
           {"slug": "alice", "event_slug": "vote", "neg_risk": True, "outcomes": ["Yes", "No"]}]


def _check(tmp_path: Path, resolve: list[dict], capsys: pytest.CaptureFixture[str]
           ) -> tuple[int, str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump({"markets": MARKETS, "resolve": resolve}))
    code = main(["check-scenario", str(path)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("resolve", "problem"), [
    ([{"at": 1, "market": "snow", "winner": "Yes"}],
     "resolve[0].market: unknown market 'snow' (markets: alice, rain)"),
    ([{"at": 1, "market": "rain", "winner": "Yes"}, {"at": 2, "market": "rain", "winner": "Maybe"}],
     "resolve[1].winner: market 'rain' has no outcome 'Maybe' (outcomes: Yes, No)"),
    ([{"at": 1, "market": "rain", "winner": 2}],
     "resolve[0].winner: market 'rain' has no outcome 2"),
    ([{"at": 1, "market": "rain", "winner": 0}, {"at": 5, "market": "rain", "winner": 1}],
     "resolve[1].market: 'rain' is resolved twice"),
    ([{"at": -1, "market": "rain", "winner": "No"}], "resolve.0.at"),
    ([{"at": 1, "market": "rain", "winer": "No"}], "resolve.0.winer"),
])
def test_bad_resolve_entries_are_named_by_path(tmp_path: Path, resolve: list[dict], problem: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _check(tmp_path, resolve, capsys)
    assert code == 2
    assert problem in err
    assert "Traceback" not in err


def test_good_resolve_entries_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _check(tmp_path, [{"at": 1, "market": "rain", "winner": "no"},
                                {"at": 2, "market": "alice", "winner": 0}], capsys)
    assert code == 0


@pytest.mark.parametrize("lag", ["-1", "nan", "1e999", "soon"])
def test_a_bad_positions_lag_is_refused_by_name(lag: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--positions-lag", lag])
    assert exited.value.code == 2
    assert "--positions-lag" in capsys.readouterr().err
