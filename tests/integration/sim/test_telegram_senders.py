"""Who sent an update: the admin API's `from_*` fields reach python-telegram-bot's Application."""

from __future__ import annotations

import asyncio

import httpx
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

TOKEN = "123456789:AAF-sim_test_token_0123456789abcdefghi"
GROUP = -1001000000009
ADMIN, STRANGER = 424242001, 555000111


def post_update(sim, text: str, **sender: object) -> dict:
    answer = httpx.post(f"{sim.urls['admin']}/telegram/updates",
                        json={"chat_id": GROUP, "text": text, **sender})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_the_sender_given_to_the_admin_api_is_what_the_application_sees(sim) -> None:
    seen: list[tuple[int, str | None, bool, int | None]] = []

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        user, message = update.effective_user, update.effective_message
        assert user is not None and message is not None
        seen.append((user.id, user.username, user.is_bot,
                     message.sender_chat.id if message.sender_chat else None))

    async def only_admin(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_chat.send_message("obeyed")

    async def scenario() -> None:
        app = Application.builder().token(TOKEN).base_url(f"{sim.urls['telegram']}/bot").build()
        app.add_handler(CommandHandler("pause", only_admin, filters.User(user_id=ADMIN)))
        app.add_handler(CommandHandler("pause", record), group=1)
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=5)
            post_update(sim, "/pause", from_id=ADMIN, from_username="alice_ops")
            post_update(sim, "/pause", from_id=STRANGER, from_username="mallory")
            post_update(sim, "/pause", from_id=ADMIN, from_is_bot=True, from_username=None)
            post_update(sim, "/pause", from_anonymous=True)
            for _ in range(200):
                if len(seen) == 4:
                    break
                await asyncio.sleep(0.05)
            await app.updater.stop()
            await app.stop()

    asyncio.run(scenario())
    assert seen == [(ADMIN, "alice_ops", False, None), (STRANGER, "mallory", False, None),
                    (ADMIN, None, True, None), (1087968824, "GroupAnonymousBot", True, GROUP)]
    # the user filter let the admin's human message through, and only that one
    replies = [m["text"] for m in sim.sim.telegram.messages(GROUP)]
    assert replies.count("obeyed") == 2  # the admin, and the bot that borrowed the admin's id


def test_a_bad_sender_is_refused_by_the_admin_api(sim) -> None:
    answer = httpx.post(f"{sim.urls['admin']}/telegram/updates",
                        json={"chat_id": GROUP, "text": "/x", "from_id": "alice"})
    assert answer.status_code == 400
