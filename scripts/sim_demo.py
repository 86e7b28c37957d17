"""The simulator demo: watch target traders the way the bot will, and copy a few of their buys.

Run by `make demo` (scripts/demo.sh) against a running `polymarket-sim serve --scenario demo`.
Every step uses the real client libraries: web3 reads the chain's OrderFilled logs, the Data API
shows the same fills, py-clob-client-v2 places a copy order, python-telegram-bot sends the alert.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from decimal import Decimal

import httpx
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyException
from telegram import Bot
from web3 import Web3

# Hardhat's public test key #0: obviously fake, never funded anywhere real.
DEMO_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEMO_TELEGRAM_TOKEN = "123456:FAKE-demo-token-for-the-local-simulator"
DEMO_CHAT = -1001
ORDER_FILLED = "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"
EXCHANGES = ["0xE111180000d2663C0091e4f400237545B87B996B",
             "0xe2222d279d744050d28e00520010520000310F59"]
TARGETS = {
    "0xf1E2612B0E5e9aC3138DC86aED01B0d3D15E443D": "whale",
    "0x35B52687A72fe6515A776d5Ca4319619ca7Eb177": "swing",
    "0xF951831748e655f4578e074FdaaBC174b5572D14": "scalper",
}
COPY_USDC = Decimal(10)


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def main(urls: dict[str, str], seconds: float) -> int:
    w3 = Web3(Web3.HTTPProvider(urls["rpc"]))
    say(f"chain id {w3.eth.chain_id}, block {w3.eth.block_number}; watching "
        f"{len(TARGETS)} targets with one eth_getLogs per block range")
    client = ClobClient(urls["clob"], chain_id=137, key=DEMO_KEY)
    client.set_api_creds(client.create_or_derive_api_key())
    httpx.post(f"{urls['admin']}/fund", json={"address": client.get_address(),
                                               "collateral": 1000}).raise_for_status()
    say(f"our wallet {client.get_address()} funded with 1000 pUSD (simulated)")
    topics = [ORDER_FILLED, None, ["0x" + "00" * 12 + a[2:].lower() for a in TARGETS]]
    cursor = w3.eth.block_number
    seen, copies = 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        head = w3.eth.block_number
        if head > cursor:
            logs = w3.eth.get_logs({"fromBlock": cursor + 1, "toBlock": head,
                                    "address": EXCHANGES, "topics": topics})
            cursor = head
            for log in logs:
                seen += 1
                copies += copy(client, urls["telegram"], log)
        time.sleep(0.25)
    activity = sum(len(httpx.get(f"{urls['data']}/activity", params={"user": a}).json())
                   for a in TARGETS)
    messages = httpx.get(f"{urls['admin']}/telegram/messages").json()
    say(f"done: {seen} target fills on-chain, {activity} in the Data API, {copies} copies "
        f"placed, {len(messages)} Telegram alerts recorded by the simulator")
    return 0


def copy(client: ClobClient, telegram: str, log) -> int:
    """Copy a target's BUY with a small FAK order at its price; returns 1 if an order was placed."""
    data = bytes(log["data"])
    side, token_id = int.from_bytes(data[0:32], "big"), int.from_bytes(data[32:64], "big")
    maker_amount = int.from_bytes(data[64:96], "big")
    taker_amount = int.from_bytes(data[96:128], "big")
    target = Web3.to_checksum_address("0x" + bytes(log["topics"][2])[-20:].hex())
    shares = Decimal(taker_amount if side == 0 else maker_amount) / 10**6
    usdc = Decimal(maker_amount if side == 0 else taker_amount) / 10**6
    price = (usdc / shares).quantize(Decimal("0.01"))
    action = "BUY" if side == 0 else "SELL"
    say(f"detected {TARGETS[target]:<8} {action:<4} {shares:>8} shares @ {price} "
        f"(block {log['blockNumber']}, tx {log['transactionHash'].hex()[:10]}…)")
    if side != 0:
        return 0
    size = (COPY_USDC / price).quantize(Decimal(1))
    order = client.create_order(OrderArgsV2(token_id=str(token_id), price=float(price),
                                            size=float(max(size, 5)), side="BUY"))
    try:
        reply = client.post_order(order, OrderType.FAK)
    except PolyException as exc:
        say(f"  not copied: {getattr(exc, 'error_msg', exc)}")
        return 0
    text = (f"TRADE EXECUTED: BUY {max(size, 5)} @ {price} copying {TARGETS[target]} "
            f"(status {reply.get('status')})")
    asyncio.run(alert(telegram, text))
    say(f"  copied: {text}")
    return 1


async def alert(telegram: str, text: str) -> None:
    async with Bot(DEMO_TELEGRAM_TOKEN, base_url=f"{telegram}/bot") as bot:
        await bot.send_message(DEMO_CHAT, text)


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 45))
