"""Polygon contracts the wallet deals with directly, and the approvals trading and redeeming need.

Addresses are Polymarket's Polygon deployment (docs.polymarket.com contract list); the simulator
deploys its contracts at the same addresses on its local chain, so one table serves both.

Why each approval (an EOA grants them with `polymarket-bot approve`; proxy, Safe and deposit
wallets get them from Polymarket's own onboarding):
- pUSD `approve` to both V2 exchanges and the NegRisk adapter: buys settle by pulling pUSD.
- outcome-token `setApprovalForAll` to both exchanges and the NegRisk adapter: sells settle by
  moving our tokens.
- outcome-token `setApprovalForAll` to both collateral adapters: redeeming burns our tokens
  through the adapter, which pays pUSD back.
"""

from __future__ import annotations

from dataclasses import dataclass

PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
CTF_EXCHANGE = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE = "0xe2222d279d744050d28e00520010520000310F59"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"
CTF_COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
NEG_RISK_COLLATERAL_ADAPTER = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
ZERO32 = b"\x00" * 32
BINARY_INDEX_SETS = [1, 2]  # both outcomes of a binary condition; only the winner pays
MAX_UINT256 = 2**256 - 1

NAMES = {
    CTF_EXCHANGE: "CTF Exchange V2",
    NEG_RISK_EXCHANGE: "NegRisk CTF Exchange V2",
    NEG_RISK_ADAPTER: "NegRisk Adapter",
    CTF_COLLATERAL_ADAPTER: "CTF Collateral Adapter",
    NEG_RISK_COLLATERAL_ADAPTER: "NegRisk CTF Collateral Adapter",
}


@dataclass(frozen=True)
class Approval:
    """One approval the wallet needs: pUSD allowance ("erc20") or token operator ("erc1155")."""

    kind: str
    spender: str
    purpose: str

    @property
    def label(self) -> str:
        what = "pUSD allowance" if self.kind == "erc20" else "outcome-token operator"
        return f"{what} for {NAMES[self.spender]} ({self.purpose})"


APPROVALS: tuple[Approval, ...] = (
    Approval("erc20", CTF_EXCHANGE, "buying"),
    Approval("erc20", NEG_RISK_EXCHANGE, "buying in neg-risk markets"),
    Approval("erc20", NEG_RISK_ADAPTER, "neg-risk settlement"),
    Approval("erc1155", CTF_EXCHANGE, "selling"),
    Approval("erc1155", NEG_RISK_EXCHANGE, "selling in neg-risk markets"),
    Approval("erc1155", NEG_RISK_ADAPTER, "neg-risk settlement"),
    Approval("erc1155", CTF_COLLATERAL_ADAPTER, "redeeming"),
    Approval("erc1155", NEG_RISK_COLLATERAL_ADAPTER, "redeeming neg-risk markets"),
)


def redeem_adapter(neg_risk: bool) -> str:
    """Where a market's winning tokens are redeemed for pUSD. Never the CTF itself: called with
    pUSD as collateral it computes position ids nobody holds and pays 0 (and succeeds)."""
    return NEG_RISK_COLLATERAL_ADAPTER if neg_risk else CTF_COLLATERAL_ADAPTER


ERC20_ABI = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "allowance", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "event", "name": "Transfer", "anonymous": False,
     "inputs": [{"name": "from", "type": "address", "indexed": True},
                {"name": "to", "type": "address", "indexed": True},
                {"name": "value", "type": "uint256", "indexed": False}]},
]

CTF_ABI = [
    {"type": "function", "name": "balanceOf", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}, {"name": "id", "type": "uint256"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "isApprovedForAll", "stateMutability": "view",
     "inputs": [{"name": "owner", "type": "address"}, {"name": "operator", "type": "address"}],
     "outputs": [{"name": "", "type": "bool"}]},
    {"type": "function", "name": "setApprovalForAll", "stateMutability": "nonpayable",
     "inputs": [{"name": "operator", "type": "address"}, {"name": "approved", "type": "bool"}],
     "outputs": []},
    {"type": "function", "name": "payoutDenominator", "stateMutability": "view",
     "inputs": [{"name": "conditionId", "type": "bytes32"}],
     "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "payoutNumerators", "stateMutability": "view",
     "inputs": [{"name": "conditionId", "type": "bytes32"}, {"name": "index", "type": "uint256"}],
     "outputs": [{"name": "", "type": "uint256"}]},
]

ADAPTER_ABI = [
    {"type": "function", "name": "redeemPositions", "stateMutability": "nonpayable",
     "inputs": [{"name": "", "type": "address"}, {"name": "", "type": "bytes32"},
                {"name": "conditionId", "type": "bytes32"},
                {"name": "indexSets", "type": "uint256[]"}],
     "outputs": []},
]
