"""How one CLOB match becomes on-chain events and pUSD movements.

Follows the real CTF exchange's `matchOrders`: one `OrderFilled` per resting (maker) order, whose
taker is the taker order's maker, then one for the taker order itself, whose taker is the exchange.
Amounts are 6-decimal base units; for a BUY the maker amount is the collateral paid and the taker
amount the shares received, for a SELL the reverse.
"""

from __future__ import annotations

import re
from collections import defaultdict

from eth_utils import keccak, to_canonical_address

from ..core import Match, Side, to_units
from .contracts import FillEvent

_HASH32 = re.compile(r"^0x[0-9a-fA-F]{64}$")


def order_hash(order_id: str) -> bytes:
    """The order id as the bytes32 the event carries (ids that are not one are hashed)."""
    if _HASH32.match(order_id):
        return bytes.fromhex(order_id[2:])
    return keccak(text=order_id)


def _token(token_id: str) -> int:
    """A CLOB token id (a uint256 in decimal) as the event's tokenId; other ids are hashed."""
    if token_id.isdigit() and len(token_id) <= 78:
        value = int(token_id)
        if value < 2**256:
            return value
    return int.from_bytes(keccak(text=token_id), "big")


def _collateral_for_taker(match: Match) -> int:
    """What the taker pays (BUY) or gets (SELL), summed over the makers it met.

    Against an order for the other outcome (a mint or merge match) the taker's price is 1 - p.
    """
    if not match.makers:
        return to_units(match.price * match.size)
    total = 0
    for maker in match.makers:
        collateral = to_units(maker.price * maker.size)
        total += collateral if maker.token_id == match.token_id else (
            to_units(maker.size) - collateral)
    return total


def fill_events(match: Match, exchange: bytes) -> list[FillEvent]:
    """The match's OrderFilled events in emission order: the makers', then the taker's."""
    taker = to_canonical_address(match.taker)
    events = []
    for maker in match.makers:
        shares = to_units(maker.size)
        collateral = to_units(maker.price * maker.size)
        buy = maker.side is Side.BUY
        events.append(FillEvent(
            order_hash=order_hash(maker.order_id),
            maker=to_canonical_address(maker.maker),
            taker=taker,
            side=maker.side.chain_value,
            token_id=_token(maker.token_id),
            maker_amount=collateral if buy else shares,
            taker_amount=shares if buy else collateral,
            fee=to_units(maker.fee),
        ))
    shares = sum(to_units(m.size) for m in match.makers) if match.makers else to_units(match.size)
    collateral = _collateral_for_taker(match)
    buy = match.side is Side.BUY
    events.append(FillEvent(
        order_hash=order_hash(match.taker_order_id),
        maker=taker,
        taker=exchange,
        side=match.side.chain_value,
        token_id=_token(match.token_id),
        maker_amount=collateral if buy else shares,
        taker_amount=shares if buy else collateral,
        fee=to_units(match.fee),
    ))
    return events


def collateral_moves(events: list[FillEvent], fee_receiver: bytes, conditional_tokens: bytes,
                     into: defaultdict[bytes, int] | None = None) -> defaultdict[bytes, int]:
    """Signed pUSD delta per address for a match's events, added to `into` (for netting a block).

    Each order's maker pays (BUY) or receives (SELL) its collateral amount and pays its fee to the
    operator. What is left over is the pair minted or merged by the Conditional Tokens contract,
    which holds the collateral behind outstanding shares, as on Polygon.
    """
    moves = into if into is not None else defaultdict(int)
    net = 0
    for event in events:
        collateral = event.maker_amount if event.side == 0 else event.taker_amount
        delta = (-collateral if event.side == 0 else collateral) - event.fee
        moves[event.maker] += delta
        if event.fee:
            moves[fee_receiver] += event.fee
        net += delta + event.fee
    if net:
        moves[conditional_tokens] -= net
    return moves


def token_moves(events: list[FillEvent],
                into: defaultdict[tuple[bytes, int], int]) -> defaultdict[tuple[bytes, int], int]:
    """Signed outcome-token delta per (address, token id): each order's maker receives the shares
    it bought and gives those it sold. A complement match (two buys or two sells) creates or
    destroys a complete set, as the CTF's split and merge do behind the exchange."""
    for event in events:
        shares = event.taker_amount if event.side == 0 else event.maker_amount
        into[(event.maker, event.token_id)] += shares if event.side == 0 else -shares
    return into
