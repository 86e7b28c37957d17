"""The fake Telegram Bot API driven by the real python-telegram-bot: Bot calls and polling."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest
from telegram import Bot, BotCommand, Update
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from polymarket_sim import telegram
from polymarket_sim.app import serve_in_thread as serve
from polymarket_sim.context import Sim

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

TOKEN = "123456789:AAF-sim_test_token_0123456789abcdefghi"
OPERATOR = 424242




@pytest.fixture
def sim() -> Sim:
    return Sim()


@pytest.fixture
def url(sim: Sim) -> Iterator[str]:
    with serve(telegram.build_app(sim)) as base:
        yield f"{base}/bot"


def store(sim: Sim) -> telegram.TelegramStore:
    assert sim.telegram is not None
    return sim.telegram


def bot(url: str, token: str = TOKEN, read_timeout: float = 5.0) -> Bot:
    return Bot(token, base_url=url, request=HTTPXRequest(read_timeout=read_timeout),
               get_updates_request=HTTPXRequest(read_timeout=read_timeout))


def test_send_message_is_recorded_and_answered_with_a_message(sim: Sim, url: str) -> None:
    async def scenario() -> None:
        async with bot(url) as tg:
            assert tg.username == "sim_123456789_bot"
            sent = await tg.send_message(OPERATOR, "Copied BUY 10 Yes @ 0.53")
            assert sent.chat.id == OPERATOR and sent.text == "Copied BUY 10 Yes @ 0.53"
            assert sent.from_user is not None and sent.from_user.is_bot
            again = await tg.send_message(OPERATOR, "<b>done</b>", parse_mode="HTML")
            assert again.message_id == sent.message_id + 1

    asyncio.run(scenario())
    messages = store(sim).messages(OPERATOR)
    assert [m["text"] for m in messages] == ["Copied BUY 10 Yes @ 0.53", "<b>done</b>"]
    assert messages[1]["parse_mode"] == "HTML" and messages[0]["time"] <= time.time()


def test_an_injected_command_reaches_get_updates_and_is_acknowledged(sim: Sim, url: str) -> None:
    async def scenario() -> None:
        async with bot(url) as tg:
            assert await tg.get_updates(timeout=0) == ()
            loop = asyncio.get_running_loop()
            # typed from another thread while the bot long-polls: the poll must wake at once
            loop.call_later(0.2, store(sim).inject_update, OPERATOR, "/status", OPERATOR)
            started = time.monotonic()
            [update] = await tg.get_updates(timeout=10)
            assert time.monotonic() - started < 2
            assert update.message.text == "/status"
            assert update.message.entities[0].type == "bot_command"
            assert update.effective_user.id == OPERATOR
            assert (await tg.get_updates(timeout=0))[0].update_id == update.update_id
            assert await tg.get_updates(offset=update.update_id + 1, timeout=0) == ()

    asyncio.run(scenario())


def test_an_application_polling_answers_an_operator_command(sim: Sim, url: str) -> None:
    async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_chat.send_message("all good: 3 targets, 0 errors")

    async def scenario() -> None:
        app = Application.builder().token(TOKEN).base_url(url).build()
        app.add_handler(CommandHandler("status", status))
        async with app:
            await app.bot.set_my_commands([BotCommand("status", "Show the bot's status")])
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=5)
            store(sim).inject_update(OPERATOR, "/status", OPERATOR)
            for _ in range(100):
                if store(sim).messages(OPERATOR):
                    break
                await asyncio.sleep(0.05)
            await app.updater.stop()
            await app.stop()
        assert [m["text"] for m in store(sim).messages(OPERATOR)] == [
            "all good: 3 targets, 0 errors"]
        assert store(sim).commands(TOKEN) == [
            {"command": "status", "description": "Show the bot's status"}]

    asyncio.run(scenario())


def test_wrong_or_malformed_tokens_are_refused(sim: Sim, url: str) -> None:
    store(sim).add_token(TOKEN)

    async def scenario() -> None:
        with pytest.raises(InvalidToken):
            async with bot(url, "987654321:AAF-another_token_0123456789abcdefgh"):
                pass
        with pytest.raises(InvalidToken):
            async with bot(url, "not-a-token"):
                pass
        async with bot(url) as tg:
            assert (await tg.get_me()).id == 123456789

    asyncio.run(scenario())


def test_closed_chats_give_chat_not_found(sim: Sim, url: str) -> None:
    store(sim).chats_open = False

    async def scenario() -> None:
        async with bot(url) as tg:
            with pytest.raises(BadRequest, match="Chat not found"):
                await tg.send_message(555, "hello?")
            store(sim).add_chat(555)
            await tg.send_message(555, "hello")

    asyncio.run(scenario())
    assert len(store(sim).messages(555)) == 1


def _seconds(retry_after: object) -> float:
    # an int today, a timedelta once PTB's announced change lands
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else retry_after


def test_flood_control_answers_429_with_retry_after(sim: Sim, url: str) -> None:
    async def scenario() -> None:
        async with bot(url) as tg:
            store(sim).set_rate_limit(True, per_chat_interval=3.0)
            await tg.send_message(OPERATOR, "one")
            with pytest.raises(RetryAfter) as caught:
                await tg.send_message(OPERATOR, "two")
            assert 1 <= _seconds(caught.value.retry_after) <= 3
            await tg.send_message(OPERATOR + 1, "other chat is fine")
            store(sim).set_rate_limit(False)
            store(sim).throttle_next(1, retry_after=7)
            with pytest.raises(RetryAfter) as forced:
                await tg.send_message(OPERATOR, "three")
            assert _seconds(forced.value.retry_after) == 7
            await tg.send_message(OPERATOR, "four")

    asyncio.run(scenario())
    assert [m["text"] for m in store(sim).messages(OPERATOR)] == ["one", "four"]


def test_outages_fail_like_a_dead_front_proxy(sim: Sim, url: str) -> None:
    async def scenario() -> None:
        async with bot(url, read_timeout=0.5) as tg:
            store(sim).set_outage(True)
            with pytest.raises(NetworkError, match="Bad Gateway"):
                await tg.send_message(OPERATOR, "lost")
            store(sim).set_outage("hang", hang_seconds=5)
            with pytest.raises(TimedOut):
                await tg.send_message(OPERATOR, "lost too")
            store(sim).set_outage(None)
            await tg.send_message(OPERATOR, "back")

    asyncio.run(scenario())
    assert [m["text"] for m in store(sim).messages(OPERATOR)] == ["back"]


def test_parse_mode_mistakes_are_refused_like_telegram(sim: Sim, url: str) -> None:
    async def scenario() -> None:
        async with bot(url) as tg:
            with pytest.raises(BadRequest, match=r"(?i)character '.' is reserved"):
                await tg.send_message(OPERATOR, "price 0.53", parse_mode="MarkdownV2")
            await tg.send_message(OPERATOR, r"price 0\.53 *bold* `0.1`", parse_mode="MarkdownV2")
            with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
                await tg.send_message(OPERATOR, "a<br>b", parse_mode="HTML")
            with pytest.raises(BadRequest, match=r"(?i)can't find end of the entity"):
                await tg.send_message(OPERATOR, "target copy_bot", parse_mode="Markdown")
            with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                await tg.send_message(OPERATOR, "x" * 4097)
            with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
                await tg.send_message(OPERATOR, " ")

    asyncio.run(scenario())
    assert len(store(sim).messages(OPERATOR)) == 1


def test_a_second_poller_terminates_the_first_with_conflict(sim: Sim, url: str) -> None:
    async def scenario() -> None:
        async with bot(url, read_timeout=10) as first, bot(url, read_timeout=10) as second:
            polling = asyncio.create_task(first.get_updates(timeout=5))
            await asyncio.sleep(0.2)
            later = asyncio.create_task(second.get_updates(timeout=0.3))
            with pytest.raises(Conflict, match="terminated by other getUpdates request"):
                await polling
            assert await later == ()

    asyncio.run(scenario())


def test_webhook_calls_made_at_start_up(sim: Sim, url: str) -> None:
    async def scenario() -> None:
        async with bot(url) as tg:
            store(sim).inject_update(OPERATOR, "/old", OPERATOR)
            assert (await tg.get_webhook_info()).pending_update_count == 1
            assert await tg.delete_webhook(drop_pending_updates=True)
            info = await tg.get_webhook_info()
            assert info.url == "" and info.pending_update_count == 0
            assert await tg.get_updates(timeout=0) == ()

    asyncio.run(scenario())


def test_edit_and_delete_a_sent_message(sim: Sim, url: str) -> None:
    async def scenario() -> None:
        async with bot(url) as tg:
            sent = await tg.send_message("@copy_alerts", "pending")
            assert sent.chat.type == "channel"
            edited = await tg.edit_message_text("filled", chat_id=sent.chat.id,
                                                message_id=sent.message_id)
            assert edited.text == "filled" and edited.edit_date is not None
            with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
                await tg.edit_message_text("filled", chat_id=sent.chat.id,
                                           message_id=sent.message_id)
            assert await tg.delete_message(sent.chat.id, sent.message_id)
            with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
                await tg.delete_message(sent.chat.id, sent.message_id)

    asyncio.run(scenario())
    [message] = store(sim).messages("@copy_alerts")
    assert message["text"] == "filled" and message["deleted"] is True
