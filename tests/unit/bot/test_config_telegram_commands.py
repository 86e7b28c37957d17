"""Telegram command settings: who may command (user ids) and where (chats), validated strictly."""

from __future__ import annotations

import pytest
from config_helpers import TOKEN, by_field, env

from polymarket_bot.config import ConfigError, load_settings

TELEGRAM = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "-1001000000001"}


def problem(**changes: str | None) -> tuple[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env(**TELEGRAM, **changes))
    [(field, found)] = by_field(caught.value).items()
    return field, str(found)


def test_admins_and_command_chats_are_parsed_and_commands_enabled() -> None:
    settings = load_settings(environ=env(**TELEGRAM, TELEGRAM_ADMIN_IDS=" 222, 111 ,222",
                                         TELEGRAM_COMMAND_CHAT_IDS="-1002000000002,111"))
    assert settings.TELEGRAM_ADMIN_IDS == [111, 222]
    assert settings.TELEGRAM_COMMAND_CHAT_IDS == ["-1002000000002", "111"]
    assert settings.telegram_commands_enabled


def test_alert_chat_alone_enables_no_command() -> None:
    settings = load_settings(environ=env(**TELEGRAM))
    assert settings.telegram_enabled and not settings.telegram_commands_enabled
    assert settings.TELEGRAM_COMMAND_CHAT_IDS == []


@pytest.mark.parametrize(("value", "words"), [
    ("\u0661\u0662\u0663", "not a Telegram user id"),  # Arabic-Indic: \d matches
    ("\uff11\uff12\uff13", "not a Telegram user id"),  # fullwidth digits
    ("123,,456", "item 2 of 3 is empty"),
    ("123,", "item 2 of 2 is empty"),
    ("alice", "not a Telegram user id"),
    ("@alice", "not a Telegram user id"),
    ("12 34", "not a Telegram user id"),
    ("0", "not a Telegram user id"),
    ("-1001234567890", "a group or channel id"),
    ("1" * 17, "not a Telegram user id"),
    (",".join(str(n) for n in range(1, 60)), "at most 50"),
])
def test_bad_admin_ids_name_the_field(value: str, words: str) -> None:
    field, text = problem(TELEGRAM_ADMIN_IDS=value, TELEGRAM_COMMAND_CHAT_IDS="-100200")
    assert field == "TELEGRAM_ADMIN_IDS"
    assert words in text and "user ids" in text  # the fix


@pytest.mark.parametrize("value", ["-\u0661\u0660\u0660\u0662", "-100,,", "chat", "-0",
                                   "--100", "@a b", "@x", "@opsgroup", "1.5"])
def test_bad_command_chats_name_the_field(value: str) -> None:
    field, text = problem(TELEGRAM_ADMIN_IDS="111", TELEGRAM_COMMAND_CHAT_IDS=value)
    assert field == "TELEGRAM_COMMAND_CHAT_IDS"
    assert "chat id" in text


def test_non_ascii_digits_in_the_alert_chat_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_CHAT_ID="-\u0661\u0660\u0660"))
    assert "TELEGRAM_CHAT_ID" in by_field(caught.value)


@pytest.mark.parametrize(("changes", "missing"), [
    ({"TELEGRAM_ADMIN_IDS": "111"}, "TELEGRAM_COMMAND_CHAT_IDS"),
    ({"TELEGRAM_COMMAND_CHAT_IDS": "-100200"}, "TELEGRAM_ADMIN_IDS"),
])
def test_commands_need_both_who_and_where(changes: dict[str, str], missing: str) -> None:
    field, text = problem(**changes)
    assert field == missing and "need both" in text


def test_commands_without_a_token_are_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env(TELEGRAM_ADMIN_IDS="111", TELEGRAM_COMMAND_CHAT_IDS="111"))
    assert "Telegram commands are configured" in str(by_field(caught.value)["TELEGRAM_BOT_TOKEN"])
