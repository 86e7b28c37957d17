"""The Conditional Tokens and the collateral adapters on the simulator's chain, without HTTP.

Resolution, redeem through both adapters (standard and neg-risk), the wrong-collateral trap, the
operator approval the adapters need, outcome tokens moving at settlement, and the Python position
id math agreeing with the contract's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from chain_helpers import until
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, to_canonical_address

from polymarket_sim.addresses import contracts
from polymarket_sim.chain.contracts import CONDITION_RESOLUTION_TOPIC, PAYOUT_REDEMPTION_TOPIC
from polymarket_sim.chain.events import ChainEvent, Redemption
from polymarket_sim.chain.node import ChainNode
from polymarket_sim.chain.positions import collection_id, position_id
from polymarket_sim.context import Sim
from polymarket_sim.core import MakerFill, Match, Side, new_id
from polymarket_sim.scenario import MarketSpec

C = contracts(137)
HOLDER = Account.from_key("0x" + "a1" * 32)  # approved, holds Yes and No of both markets
UNAPPROVED = Account.from_key("0x" + "a2" * 32)  # holds Yes of the plain market, no approvals
PLAIN = MarketSpec(slug="plain", outcomes=["Yes", "No"]).build()
NEG = MarketSpec(slug="neg", outcomes=["Yes", "No"], neg_risk=True).build()
YES, NO = 10_000_000, 4_000_000  # units held of each outcome
GWEI = 10**9


def _call(signature: str, types: list[str], args: list[object]) -> bytes:
    return function_signature_to_4byte_selector(signature) + encode(types, args)


def _redeem(collateral: str, condition: str) -> bytes:
    return _call("redeemPositions(address,bytes32,bytes32,uint256[])",
                 ["address", "bytes32", "bytes32", "uint256[]"],
                 [collateral, b"\0" * 32, bytes.fromhex(condition[2:]), [1, 2]])


@pytest.fixture
async def node() -> AsyncIterator[ChainNode]:
    sim = Sim()
    chain = ChainNode(sim, block_time=0.02)
    sim.chain = chain
    for market in (PLAIN, NEG):
        sim.markets.add(market)
        chain.prepare_condition(market.condition_id, 2)
        chain.mint_tokens(HOLDER.address, int(market.outcomes[0].token_id), YES)
        chain.mint_tokens(HOLDER.address, int(market.outcomes[1].token_id), NO)
    chain.mint_tokens(UNAPPROVED.address, int(PLAIN.outcomes[0].token_id), YES)
    for account in (HOLDER, UNAPPROVED):
        chain.fund_native(account.address, 10**18)
    chain.approve_all(HOLDER.address)
    await chain.start()
    yield chain
    await chain.stop()


async def _view(node: ChainNode, to: str, data: bytes, types: list[str]) -> tuple:
    out = await node.call({"to": to_canonical_address(to), "data": data}, node.block_number)
    return decode(types, out)


async def _token(node: ChainNode, owner: str, token: str | int) -> int:
    return (await _view(node, C.conditional_tokens, _call(
        "balanceOf(address,uint256)", ["address", "uint256"], [owner, int(token)]),
        ["uint256"]))[0]


async def _pusd(node: ChainNode, owner: str) -> int:
    return await node.pusd_balance(owner)


async def _send(node: ChainNode, account, to: str, data: bytes) -> dict:
    nonce = await node.nonce(to_canonical_address(account.address), None)
    signed = account.sign_transaction({
        "chainId": 137, "nonce": nonce, "to": to, "data": data, "gas": 1_000_000, "value": 0,
        "maxFeePerGas": 200 * GWEI, "maxPriorityFeePerGas": 30 * GWEI, "type": 2})
    tx_hash = await node.send_raw_transaction(signed.raw_transaction)
    await until(lambda: node.index.receipt(tx_hash) is not None)
    receipt = node.index.receipt(tx_hash)
    assert receipt is not None
    return receipt


async def _resolve(node: ChainNode, market, winner: int) -> None:
    payouts = [1 if i == winner else 0 for i in range(2)]
    node.report_payouts(market.condition_id, payouts, market.neg_risk)
    await until(lambda: any(log["topics"][0] == CONDITION_RESOLUTION_TOPIC for log in
                             node.index.logs(0, node.index.head, {C.conditional_tokens.lower()})))


async def test_token_ids_are_ctf_position_ids_as_the_contract_computes_them(
        node: ChainNode) -> None:
    for market, collateral in ((PLAIN, C.usdc_e), (NEG, C.neg_risk_wrapped_collateral)):
        for index, outcome in enumerate(market.outcomes):
            condition = bytes.fromhex(market.condition_id[2:])
            on_chain = (await _view(node, C.conditional_tokens, _call(
                "getCollectionId(bytes32,bytes32,uint256)", ["bytes32", "bytes32", "uint256"],
                [b"\0" * 32, condition, 1 << index]), ["bytes32"]))[0]
            assert on_chain == collection_id(market.condition_id, 1 << index)
            pid = (await _view(node, C.conditional_tokens, _call(
                "getPositionId(address,bytes32)", ["address", "bytes32"],
                [collateral, on_chain]), ["uint256"]))[0]
            assert str(pid) == outcome.token_id == str(position_id(collateral, on_chain))
    assert await _token(node, HOLDER.address, PLAIN.outcomes[0].token_id) == YES


async def test_resolution_records_the_payout_vector(node: ChainNode) -> None:
    slots = (await _view(node, C.conditional_tokens, _call(
        "getOutcomeSlotCount(bytes32)", ["bytes32"], [bytes.fromhex(PLAIN.condition_id[2:])]),
        ["uint256"]))[0]
    assert slots == 2
    await _resolve(node, PLAIN, winner=0)
    condition = bytes.fromhex(PLAIN.condition_id[2:])
    den = (await _view(node, C.conditional_tokens, _call(
        "payoutDenominator(bytes32)", ["bytes32"], [condition]), ["uint256"]))[0]
    first = (await _view(node, C.conditional_tokens, _call(
        "payoutNumerators(bytes32,uint256)", ["bytes32", "uint256"], [condition, 0]),
        ["uint256"]))[0]
    assert (den, first) == (1, 1)
    logs = [log for log in node.index.logs(0, node.index.head, {C.conditional_tokens.lower()})
            if log["topics"][0] == CONDITION_RESOLUTION_TOPIC]
    assert logs[0]["topics"][1] == PLAIN.condition_id
    assert logs[0]["topics"][2] == "0x" + to_canonical_address(C.uma_adapter).rjust(32, b"\0").hex()


@pytest.mark.parametrize("market", [PLAIN, NEG], ids=["standard", "neg-risk"])
async def test_the_adapter_burns_both_outcomes_and_pays_the_winner_in_pusd(
        node: ChainNode, market) -> None:
    events: list[ChainEvent] = []
    node.on_events(events.extend)
    await _resolve(node, market, winner=1)  # No wins: 4 shares pay 4 pUSD, Yes pays 0
    before = await _pusd(node, HOLDER.address)
    receipt = await _send(node, HOLDER, C.collateral_adapter(market.neg_risk),
                          _redeem(C.collateral, market.condition_id))
    assert receipt["status"] == "0x1"
    assert await _pusd(node, HOLDER.address) - before == NO
    for outcome in market.outcomes:
        assert await _token(node, HOLDER.address, outcome.token_id) == 0
    await until(lambda: any(isinstance(e, Redemption) for e in events))
    redemption = next(e for e in events if isinstance(e, Redemption))
    assert (redemption.user, redemption.condition_id, redemption.pusd) == (
        HOLDER.address.lower(), market.condition_id, NO)
    assert redemption.burned == {int(market.outcomes[0].token_id): YES,
                                 int(market.outcomes[1].token_id): NO}


async def test_the_trap_ctf_redeem_with_pusd_succeeds_and_pays_nothing(node: ChainNode) -> None:
    await _resolve(node, PLAIN, winner=0)
    before = await _pusd(node, HOLDER.address)
    receipt = await _send(node, HOLDER, C.conditional_tokens,
                          _redeem(C.collateral, PLAIN.condition_id))
    assert receipt["status"] == "0x1"
    assert await _pusd(node, HOLDER.address) == before
    assert await _token(node, HOLDER.address, PLAIN.outcomes[0].token_id) == YES
    redemption = [log for log in receipt["logs"] if log["topics"][0] == PAYOUT_REDEMPTION_TOPIC]
    assert decode(["bytes32", "uint256[]", "uint256"],
                  bytes.fromhex(redemption[0]["data"][2:]))[2] == 0
    # the standard adapter on a neg-risk market computes USDC.e ids nobody holds: also 0
    await _resolve(node, NEG, winner=0)
    receipt = await _send(node, HOLDER, C.ctf_collateral_adapter,
                          _redeem(C.collateral, NEG.condition_id))
    assert receipt["status"] == "0x1"
    assert await _pusd(node, HOLDER.address) == before
    assert await _token(node, HOLDER.address, NEG.outcomes[0].token_id) == YES


async def test_the_adapter_needs_operator_approval_and_the_result(node: ChainNode) -> None:
    early = await _send(node, HOLDER, C.ctf_collateral_adapter,
                        _redeem(C.collateral, PLAIN.condition_id))
    assert early["status"] == "0x0"  # not resolved yet
    await _resolve(node, PLAIN, winner=0)
    refused = await _send(node, UNAPPROVED, C.ctf_collateral_adapter,
                          _redeem(C.collateral, PLAIN.condition_id))
    assert refused["status"] == "0x0"
    approve = _call("setApprovalForAll(address,bool)", ["address", "bool"],
                    [C.ctf_collateral_adapter, True])
    assert (await _send(node, UNAPPROVED, C.conditional_tokens, approve))["status"] == "0x1"
    paid = await _send(node, UNAPPROVED, C.ctf_collateral_adapter,
                       _redeem(C.collateral, PLAIN.condition_id))
    assert paid["status"] == "0x1"
    assert await _pusd(node, UNAPPROVED.address) == YES


async def test_settlement_moves_outcome_tokens_on_chain(node: ChainNode) -> None:
    token = PLAIN.outcomes[0].token_id
    seller = HOLDER.address
    buyer = "0x" + "33" * 20
    fill = MakerFill(order_id=new_id(), maker=seller, owner="", side=Side.SELL, token_id=token,
                     price=Decimal("0.5"), size=Decimal(3))
    match = Match(match_id=new_id(), taker_order_id=new_id(), taker=buyer, taker_owner="",
                  side=Side.BUY, condition_id=PLAIN.condition_id, token_id=token,
                  price=Decimal("0.5"), size=Decimal(3), makers=[fill])
    node.sim.ledger.record(match)
    await until(lambda: match.tx_hash is not None)
    assert await _token(node, buyer, token) == 3_000_000
    assert await _token(node, seller, token) == YES - 3_000_000


async def test_the_old_direct_ctf_redeem_pays_usdc_e_not_pusd(node: ChainNode) -> None:
    events: list[ChainEvent] = []
    node.on_events(events.extend)
    await _resolve(node, PLAIN, winner=0)
    before = await _pusd(node, HOLDER.address)
    receipt = await _send(node, HOLDER, C.conditional_tokens,
                          _redeem(C.usdc_e, PLAIN.condition_id))
    assert receipt["status"] == "0x1"
    assert await _pusd(node, HOLDER.address) == before
    usdc_e = (await _view(node, C.usdc_e, _call("balanceOf(address)", ["address"],
                                                [HOLDER.address]), ["uint256"]))[0]
    assert usdc_e == YES
    await until(lambda: any(isinstance(e, Redemption) for e in events))
    redemption = next(e for e in events if isinstance(e, Redemption))
    assert (redemption.payout, redemption.pusd) == (YES, 0)
