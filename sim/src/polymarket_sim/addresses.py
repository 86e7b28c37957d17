"""Polymarket's contract addresses, one table for the CLOB and the chain.

The real client (py-clob-client-v2 `config.py`) signs orders for these exchanges, so the simulator
must verify against the very same addresses. Chain 80002 (Amoy) shares the V2 exchanges with
Polygon; any other chain id (a local test chain) is served Polygon's table so signed orders verify.
"""

from __future__ import annotations

from dataclasses import dataclass

POLYGON = 137
AMOY = 80002


@dataclass(frozen=True)
class Contracts:
    exchange_v2: str
    neg_risk_exchange_v2: str
    exchange_v3: str
    neg_risk_adapter: str
    collateral: str  # pUSD since CLOB V2
    conditional_tokens: str
    usdc_e: str  # collateral before V2
    exchange_v1: str
    neg_risk_exchange_v1: str
    # pUSD-native split/merge/redeem (docs.polymarket.com/resources/contracts)
    ctf_collateral_adapter: str = "0xAdA100Db00Ca00073811820692005400218FcE1f"
    neg_risk_ctf_collateral_adapter: str = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
    # the collateral neg-risk positions are minted with (NegRiskAdapter's WrappedCollateral)
    neg_risk_wrapped_collateral: str = "0x3A3BD7bb9528E159577F7C2e685CC81A765002E2"
    # oracles that report payouts: UMA CTF adapters for standard and neg-risk markets
    uma_adapter: str = "0x6A9D222616C90FcA5754cd1333cFD9b7fb6a4F74"
    neg_risk_uma_adapter: str = "0x2F5e3684cb1F318ec51b00Edba38d79Ac2c0aA9d"

    def exchange(self, neg_risk: bool) -> str:
        """The V2 exchange that settles (and verifies signatures of) a market's orders."""
        return self.neg_risk_exchange_v2 if neg_risk else self.exchange_v2

    def collateral_adapter(self, neg_risk: bool) -> str:
        """The adapter that redeems a market's outcome tokens to pUSD."""
        return self.neg_risk_ctf_collateral_adapter if neg_risk else self.ctf_collateral_adapter

    def position_collateral(self, neg_risk: bool) -> str:
        """The collateral a market's CTF position ids are computed with (never pUSD)."""
        return self.neg_risk_wrapped_collateral if neg_risk else self.usdc_e

    def spenders(self) -> list[str]:
        """What a trading and redeeming wallet approves (pUSD allowance + ERC-1155 operator)."""
        return [self.exchange_v2, self.neg_risk_exchange_v2, self.neg_risk_adapter,
                self.ctf_collateral_adapter, self.neg_risk_ctf_collateral_adapter]


_POLYGON = Contracts(
    exchange_v2="0xE111180000d2663C0091e4f400237545B87B996B",
    neg_risk_exchange_v2="0xe2222d279d744050d28e00520010520000310F59",
    exchange_v3="0xe3333700cA9d93003F00f0F71f8515005F6c00Aa",
    neg_risk_adapter="0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296",
    collateral="0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB",
    conditional_tokens="0x4D97DCd97eC945f40cF65F87097ACe5EA0476045",
    usdc_e="0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174",
    exchange_v1="0x4bFb41d5B3570DeFd03C39a9A4D8dE6Bd8B8982E",
    neg_risk_exchange_v1="0xC5d563A36AE78145C45a50134d48A1215220f80a",
)

_AMOY = Contracts(
    exchange_v2=_POLYGON.exchange_v2,
    neg_risk_exchange_v2=_POLYGON.neg_risk_exchange_v2,
    exchange_v3="0x9fE6e61422AdB6F610d8597F9684b16912D50C3D",
    neg_risk_adapter=_POLYGON.neg_risk_adapter,
    collateral=_POLYGON.collateral,
    conditional_tokens="0x69308FB512518e39F9b16112fA8d994F4e2Bf8bB",
    usdc_e=_POLYGON.usdc_e,
    exchange_v1="0xdFE02Eb6733538f8Ea35D585af8DE5958AD99E40",
    neg_risk_exchange_v1=_POLYGON.neg_risk_exchange_v1,
)

CONTRACTS: dict[int, Contracts] = {POLYGON: _POLYGON, AMOY: _AMOY}


def contracts(chain_id: int) -> Contracts:
    return CONTRACTS.get(chain_id, _POLYGON)
