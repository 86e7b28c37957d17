"""The trading wallet on chain: balances, approvals, and transactions sent by our own key.

Synchronous web3 (callers run it in a thread): the few calls here are not on the copy path.
Transactions are legacy-priced with a gas-price cap and a fixed gas limit, so a spike in fees or a
mis-estimated call can never spend more POL than `gas_limit x cap`; the nonce comes from the
chain's pending count, or the last one we used if that is higher (a transaction we signed and
that the node has not seen yet still owns its nonce).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_account import Account
from pydantic import SecretStr
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError

from polymarket_bot.execution.contracts import (
    ADAPTER_ABI,
    APPROVALS,
    BINARY_INDEX_SETS,
    CONDITIONAL_TOKENS,
    CTF_ABI,
    ERC20_ABI,
    MAX_UINT256,
    PUSD,
    ZERO32,
    Approval,
    redeem_adapter,
)
from polymarket_bot.models import UNITS

GWEI = 10**9
TRANSFER_TOPIC = "0x" + Web3.keccak(text="Transfer(address,address,uint256)").hex().removeprefix(
    "0x")


class GasTooHigh(RuntimeError):
    """The network's gas price is above our cap: nothing was sent."""


@dataclass(frozen=True)
class SignedTx:
    tx_hash: str
    raw: str  # 0x-hex of the signed transaction: re-sendable as is
    nonce: int


class ChainWallet:
    def __init__(self, rpc_url: str, private_key: SecretStr, chain_id: int, *,
                 max_gas_gwei: Decimal = Decimal(500), gas_limit: int = 600_000,
                 timeout: float = 10.0) -> None:
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self._account = Account.from_key(private_key.get_secret_value())
        self.address = self._account.address
        self.chain_id = chain_id
        self.max_gas_wei = int(max_gas_gwei * GWEI)
        self.gas_limit = gas_limit
        self._ctf = self.w3.eth.contract(address=CONDITIONAL_TOKENS, abi=CTF_ABI)
        self._pusd = self.w3.eth.contract(address=PUSD, abi=ERC20_ABI)

    # --- reads ------------------------------------------------------------------------------

    def pol_balance(self, owner: str) -> Decimal:
        return Decimal(self.w3.eth.get_balance(Web3.to_checksum_address(owner))) / 10**18

    def pusd_balance(self, owner: str) -> Decimal:
        units = self._pusd.functions.balanceOf(Web3.to_checksum_address(owner)).call()
        return Decimal(units) / UNITS

    def token_balance(self, owner: str, token_id: str) -> Decimal:
        units = self._ctf.functions.balanceOf(Web3.to_checksum_address(owner),
                                              int(token_id)).call()
        return Decimal(units) / UNITS

    def has_code(self, address: str) -> bool:
        return len(self.w3.eth.get_code(Web3.to_checksum_address(address))) > 0

    def granted(self, owner: str, approval: Approval) -> bool:
        owner = Web3.to_checksum_address(owner)
        if approval.kind == "erc20":
            # "enough" is more than any wallet will ever hold: a plain max approval
            return self._pusd.functions.allowance(owner, approval.spender).call() >= 2**128
        return bool(self._ctf.functions.isApprovedForAll(owner, approval.spender).call())

    def missing_approvals(self, owner: str) -> list[Approval]:
        return [a for a in APPROVALS if not self.granted(owner, a)]

    # --- transactions -----------------------------------------------------------------------

    def approval_call(self, approval: Approval) -> dict[str, Any]:
        """The unsigned call granting one approval (to, data), for showing and for signing."""
        if approval.kind == "erc20":
            fn = self._pusd.functions.approve(approval.spender, MAX_UINT256)
        else:
            fn = self._ctf.functions.setApprovalForAll(approval.spender, True)
        return {"to": fn.address, "data": fn._encode_transaction_data()}

    def redeem_call(self, condition_id: str, neg_risk: bool) -> dict[str, Any]:
        adapter = self.w3.eth.contract(address=redeem_adapter(neg_risk), abi=ADAPTER_ABI)
        fn = adapter.functions.redeemPositions(PUSD, ZERO32, bytes.fromhex(
            condition_id.removeprefix("0x")), BINARY_INDEX_SETS)
        return {"to": fn.address, "data": fn._encode_transaction_data()}

    def gas_price(self) -> int:
        price = int(self.w3.eth.gas_price)
        if price > self.max_gas_wei:
            raise GasTooHigh(f"gas price {price / GWEI:.1f} gwei is above the cap "
                             f"{self.max_gas_wei / GWEI:.1f} gwei; nothing sent, retried later")
        return price

    def next_nonce(self, at_least: int = 0) -> int:
        return max(int(self.w3.eth.get_transaction_count(self.address, "pending")), at_least)

    def sign(self, call: dict[str, Any], nonce: int) -> SignedTx:
        tx = {**call, "from": self.address, "nonce": nonce, "gas": self.gas_limit,
              "gasPrice": self.gas_price(), "chainId": self.chain_id, "value": 0}
        signed = self._account.sign_transaction(tx)
        return SignedTx(tx_hash="0x" + signed.hash.hex().removeprefix("0x"),
                        raw="0x" + signed.raw_transaction.hex().removeprefix("0x"), nonce=nonce)

    def send(self, signed: SignedTx) -> None:
        """Broadcast; a node that already has it (or mined it) is not an error: same bytes,
        same hash, one transaction."""
        try:
            self.w3.eth.send_raw_transaction(signed.raw)
        except (ValueError, Web3RPCError) as exc:  # web3 8 raises Web3RPCError for node errors
            text = str(exc).lower()
            if not any(known in text for known in ("already known", "nonce too low",
                                                   "already imported", "known transaction")):
                raise

    def receipt(self, tx_hash: str) -> Any | None:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def wait(self, tx_hash: str, timeout: float = 120.0) -> Any:
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout,
                                                        poll_latency=0.2)

    def mined_nonce(self) -> int:
        return int(self.w3.eth.get_transaction_count(self.address, "latest"))

    @staticmethod
    def pusd_received(receipt: Any, owner: str) -> Decimal:
        """pUSD the receipt's Transfer logs paid to `owner` (what a redemption really paid)."""
        owner_word = "0x" + owner.lower().removeprefix("0x").rjust(64, "0")
        total = 0
        for entry in receipt["logs"]:
            topics = ["0x" + bytes(t).hex().removeprefix("0x") for t in entry["topics"]]
            if (entry["address"].lower() == PUSD.lower() and len(topics) == 3
                    and topics[0] == TRANSFER_TOPIC and topics[2] == owner_word):
                total += int.from_bytes(bytes(entry["data"]), "big")
        return Decimal(total) / UNITS
