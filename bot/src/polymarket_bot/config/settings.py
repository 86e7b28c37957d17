"""The bot's settings: environment variables (as systemd's EnvironmentFile passes them) or .env.

Fails closed: every field is checked, cross-field rules too (live trading on Polygon mainnet needs
an explicit acknowledgement, a proxy/safe/deposit wallet needs its funder address, …), and all
problems are reported at once. The private key and the Telegram token are `SecretStr` and no
message, repr or dump ever shows them.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, InitSettingsSource, NoDecode, SettingsConfigDict

from polymarket_bot.config import bounds, validators
from polymarket_bot.config.envfile import read_env_file
from polymarket_bot.config.fieldwise import known_keys, validate_fields
from polymarket_bot.config.problems import (
    MAX_PROBLEMS,
    ConfigError,
    Problem,
    redact,
    scrub,
    translate,
)

POLYGON_MAINNET = 137
POLYGON_AMOY = 80002
SIGNATURE_TYPES = {0: "EOA", 1: "POLY_PROXY", 2: "POLY_GNOSIS_SAFE", 3: "POLY_1271"}
SECRET_FIELDS = frozenset({"PRIVATE_KEY", "TELEGRAM_BOT_TOKEN"})
# Hidden from every message as well: an RPC URL commonly carries the provider's API key.
_HIDDEN_VALUES = SECRET_FIELDS | {"POLYGON_RPC_URL"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

Number = BeforeValidator(validators.number_text)  # ASCII digits, at most 40 characters


def _within(name: str) -> AfterValidator:
    return AfterValidator(bounds.SETTINGS[name].check)


FilePath = Annotated[Path, BeforeValidator(validators.path)]
HttpUrl = Annotated[
    str,
    AfterValidator(partial(validators.url, schemes=("http", "https"),
                           example="https://clob.polymarket.com")),
]
RpcUrl = Annotated[
    str,
    AfterValidator(partial(validators.url, schemes=("http", "https", "ws", "wss"),
                           example="https://polygon-rpc.com")),
]
FunderAddress = Annotated[
    str, AfterValidator(partial(validators.address, what="funder (proxy/safe/deposit) address"))
]
TelegramToken = Annotated[SecretStr, AfterValidator(validators.telegram_token)]
MarketList = Annotated[list[str], NoDecode, BeforeValidator(validators.market_list)]
TelegramUsers = Annotated[list[int], NoDecode, BeforeValidator(validators.telegram_user_ids)]
TelegramChats = Annotated[list[str], NoDecode, BeforeValidator(validators.telegram_chat_ids)]


class Settings(BaseSettings):
    """Everything the bot reads from its environment. Names are the environment variable names."""

    model_config = SettingsConfigDict(
        case_sensitive=True,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,  # a ValidationError printed anywhere must not show the key
        env_ignore_empty=True,
        str_strip_whitespace=True,
    )

    # Wallet and network
    PRIVATE_KEY: Annotated[SecretStr, BeforeValidator(validators.private_key)]
    POLYGON_RPC_URL: Annotated[RpcUrl, Field(repr=False)]  # often carries a provider API key
    CLOB_HOST: HttpUrl = "https://clob.polymarket.com"
    DATA_API_HOST: HttpUrl = "https://data-api.polymarket.com"
    GAMMA_HOST: HttpUrl = "https://gamma-api.polymarket.com"
    # Polymarket's answer whether this host's IP may trade (on polymarket.com, not an API host)
    GEOBLOCK_URL: HttpUrl = "https://polymarket.com/api/geoblock"
    CHAIN_ID: Annotated[int, Number, _within("CHAIN_ID")] = POLYGON_MAINNET
    FUNDER_ADDRESS: FunderAddress | None = None
    SIGNATURE_TYPE: Annotated[int, Field(ge=0, le=3), Number] = 0

    # Mode
    TRADING_MODE: Literal["paper", "live"] = "paper"
    LIVE_TRADING_ACKNOWLEDGED: bool = False

    # Files
    WALLETS_FILE: FilePath = Path("/etc/polymarket-bot/wallets.json")
    STATE_DIR: FilePath = Path("/var/lib/polymarket-bot")

    # Detection
    POLL_INTERVAL_SECONDS: Annotated[float, Number, _within("POLL_INTERVAL_SECONDS")] = 15.0
    SOURCE_MODE: Literal["data_api", "chain", "both"] = "both"
    CHAIN_POLL_INTERVAL_SECONDS: Annotated[float, Number,
                                           _within("CHAIN_POLL_INTERVAL_SECONDS")] = 0.5
    CHAIN_CONFIRMATIONS: Annotated[int, Number, _within("CHAIN_CONFIRMATIONS")] = 1
    MAX_FILL_AGE_SECONDS: Annotated[float, Number, _within("MAX_FILL_AGE_SECONDS")] = 300.0
    DATA_API_RATE_LIMIT_PER_10S: Annotated[int, Field(gt=0, le=1000), Number] = 500
    RECONCILE_INTERVAL_SECONDS: Annotated[float, Number,
                                          _within("RECONCILE_INTERVAL_SECONDS")] = 300.0
    # How often the markets we hold are checked for resolution (and winnings redeemed)
    RESOLUTION_INTERVAL_SECONDS: Annotated[float, Number,
                                           _within("RESOLUTION_INTERVAL_SECONDS")] = 60.0

    # Sizing and orders
    SIZING_MODE: Literal["fixed", "proportional", "balance_pct"] = "fixed"
    SIZING_VALUE: Annotated[Decimal, Number, _within("SIZING_VALUE")] = Decimal(10)
    MAX_SLIPPAGE: Annotated[Decimal, Field(ge=0, lt=Decimal("0.5")), Number] = Decimal("0.02")
    ORDER_TYPE: Literal["FAK", "GTC"] = "FAK"
    GTC_TTL_SECONDS: Annotated[float, Number, _within("GTC_TTL_SECONDS")] = 60.0

    # Risk
    MAX_POSITION_SIZE: Annotated[Decimal, Number, _within("MAX_POSITION_SIZE")]
    MAX_DAILY_LOSS: Annotated[Decimal, Number, _within("MAX_DAILY_LOSS")]
    MAX_OPEN_POSITIONS: Annotated[int, Number, _within("MAX_OPEN_POSITIONS")] = 20
    MIN_PRICE: Annotated[Decimal, Field(ge=0, lt=1), Number] = Decimal("0.02")
    MAX_PRICE: Annotated[Decimal, Field(gt=0, le=1), Number] = Decimal("0.98")
    MIN_SOURCE_USDC: Annotated[Decimal, Number, _within("MIN_SOURCE_USDC")] = Decimal(1)
    MARKET_ALLOWLIST: MarketList = Field(default_factory=list)
    MARKET_DENYLIST: MarketList = Field(default_factory=list)
    KILL_SWITCH_FILE: FilePath | None = None
    CIRCUIT_BREAKER_ERRORS: Annotated[int, Number, _within("CIRCUIT_BREAKER_ERRORS")] = 5
    CIRCUIT_BREAKER_COOLDOWN_SECONDS: Annotated[float, Number,
                                                _within("CIRCUIT_BREAKER_COOLDOWN_SECONDS")] = 300.0

    # Operations
    TELEGRAM_BOT_TOKEN: TelegramToken | None = None
    TELEGRAM_CHAT_ID: Annotated[str, AfterValidator(validators.telegram_chat)] | None = None
    TELEGRAM_API_URL: HttpUrl = "https://api.telegram.org"
    # Escalation matrix routing; each unset one falls back to TELEGRAM_CHAT_ID (one chat is fine)
    TELEGRAM_CHAT_CRITICAL: Annotated[str, AfterValidator(validators.telegram_chat)] | None = None
    TELEGRAM_CHAT_HIGH: Annotated[str, AfterValidator(validators.telegram_chat)] | None = None
    TELEGRAM_CHAT_MEDIUM: Annotated[str, AfterValidator(validators.telegram_chat)] | None = None
    # Commands need both: who may command (people) and where (chats). Alert chats are not
    # command chats unless listed here too.
    TELEGRAM_ADMIN_IDS: TelegramUsers = Field(default_factory=list)
    TELEGRAM_COMMAND_CHAT_IDS: TelegramChats = Field(default_factory=list)
    HEALTH_PORT: Annotated[int, Field(ge=0, le=65535), Number] = 8765  # 0: the OS picks (tests)
    LOG_LEVEL: Annotated[str, AfterValidator(validators.log_level)] = "INFO"

    _wallet_address: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Settings:
        # load_settings reports these itself, per field; this guards direct construction.
        problems = cross_field_problems(self.rule_values(dict(self)))
        if problems:
            raise ValueError("; ".join(str(problem) for problem in problems))
        if self.PRIVATE_KEY is not None:
            self._wallet_address = key_address(self.PRIVATE_KEY)
        return self

    @classmethod
    def rule_values(cls, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """The values the rules between fields judge."""
        return values

    @property
    def wallet_address(self) -> str:
        """The checksummed address of PRIVATE_KEY: the signer (EOA) of every order."""
        return self._wallet_address

    @property
    def funder(self) -> str:
        """The address that holds the funds: FUNDER_ADDRESS, or the key's own address (type 0)."""
        return self.FUNDER_ADDRESS or self._wallet_address

    @property
    def kill_switch_path(self) -> Path:
        return self.KILL_SWITCH_FILE or self.STATE_DIR / "KILL_SWITCH"

    @property
    def is_mainnet(self) -> bool:
        return self.CHAIN_ID == POLYGON_MAINNET

    @property
    def is_live(self) -> bool:
        return self.TRADING_MODE == "live"

    @property
    def telegram_enabled(self) -> bool:
        return self.TELEGRAM_BOT_TOKEN is not None

    @property
    def telegram_commands_enabled(self) -> bool:
        return self.telegram_enabled and bool(self.TELEGRAM_ADMIN_IDS)


class OperatorSettings(Settings):
    """The settings of operator commands that neither sign nor reach the chain (pause, backup,
    status...): the key and the RPC URL may be absent, because the host tool hands those
    commands a copy of bot.env without the secrets. Set, they are checked as for `run`."""

    PRIVATE_KEY: Annotated[SecretStr, BeforeValidator(validators.private_key)] | None = None
    POLYGON_RPC_URL: Annotated[RpcUrl | None, Field(repr=False)] = None

    @classmethod
    def rule_values(cls, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """An absent secret is withheld, not unset: the rules that need it (e.g. a Telegram chat
        needs the token) are `run`'s to judge."""
        return {name: value for name, value in values.items()
                if not (name in _HIDDEN_VALUES and value is None)}


def key_address(key: SecretStr) -> str:
    # Imported here: eth_account takes ~1 s to import, which `polymarket-bot version` need not pay.
    from eth_account import Account

    return str(Account.from_key(key.get_secret_value()).address)


def chain_name(chain_id: int) -> str:
    names = {POLYGON_MAINNET: "Polygon mainnet", POLYGON_AMOY: "Polygon Amoy testnet"}
    return names.get(chain_id, "custom chain")


# The fix shown when a validator did not supply a more specific one.
FIXES: dict[str, str] = {
    "PRIVATE_KEY": "set PRIVATE_KEY to the trading wallet's key: 0x followed by 64 hex digits",
    "POLYGON_RPC_URL": "set a Polygon RPC endpoint such as https://polygon-rpc.com",
    "CLOB_HOST": "leave unset for https://clob.polymarket.com, or set a full http(s) URL",
    "DATA_API_HOST": "leave unset for https://data-api.polymarket.com, or set a full http(s) URL",
    "GAMMA_HOST": "leave unset for https://gamma-api.polymarket.com, or set a full http(s) URL",
    "GEOBLOCK_URL": "leave unset for https://polymarket.com/api/geoblock",
    "FUNDER_ADDRESS": "set the address of the proxy/safe/deposit wallet that holds your funds "
                      "(shown on your Polymarket profile)",
    "SIGNATURE_TYPE": "use 0 (EOA), 1 (POLY_PROXY), 2 (POLY_GNOSIS_SAFE) or 3 (POLY_1271, "
                      "deposit wallet)",
    "TRADING_MODE": "use paper (simulated fills) or live (real orders)",
    "LIVE_TRADING_ACKNOWLEDGED": "use true or false",
    "WALLETS_FILE": "set the path of wallets.json",
    "STATE_DIR": "set a directory the bot may write its database to",
    "SOURCE_MODE": "use data_api, chain or both",
    "DATA_API_RATE_LIMIT_PER_10S": "set 1 to 1000 requests per 10 s (the published limit is "
                                   "1000); 500 leaves headroom",
    "SIZING_MODE": "use fixed (USDC per copy), proportional (ratio of the target's size) or "
                   "balance_pct (percent of our balance)",
    "SIZING_VALUE": f"set a number {bounds.SIZING.range}: USDC for fixed, a ratio for "
                    "proportional, a percent for balance_pct",
    "MAX_SLIPPAGE": "set an absolute price difference from 0 to below 0.5, such as 0.02",
    "ORDER_TYPE": "use FAK (fill what is available now, cancel the rest) or GTC",
    "MIN_PRICE": "set a price from 0 to below 1, such as 0.02",
    "MAX_PRICE": "set a price above 0 up to 1, such as 0.98",
    "MARKET_ALLOWLIST": "write condition ids or market slugs separated by commas",
    "MARKET_DENYLIST": "write condition ids or market slugs separated by commas",
    "KILL_SWITCH_FILE": "set a file path, or leave unset for STATE_DIR/KILL_SWITCH",
    "TELEGRAM_BOT_TOKEN": "paste the token @BotFather gave you",
    "TELEGRAM_CHAT_ID": "set the numeric chat id of the alert channel",
    "TELEGRAM_API_URL": "leave unset for https://api.telegram.org",
    "TELEGRAM_CHAT_CRITICAL": "set the numeric chat id for critical alerts, or leave unset "
                              "for TELEGRAM_CHAT_ID",
    "TELEGRAM_CHAT_HIGH": "set the numeric chat id for high alerts, or leave unset "
                          "for TELEGRAM_CHAT_ID",
    "TELEGRAM_CHAT_MEDIUM": "set the numeric chat id for medium alerts, or leave unset "
                            "for TELEGRAM_CHAT_ID",
    "TELEGRAM_ADMIN_IDS": "list the numeric Telegram user ids allowed to command the bot, "
                          "separated by commas, or leave unset to disable commands",
    "TELEGRAM_COMMAND_CHAT_IDS": "list the chat ids where commands are obeyed, separated by "
                                 "commas, or leave unset to disable commands",
    "HEALTH_PORT": "set a port from 1 to 65535 such as 8765 (0 lets the OS pick one)",
    "LOG_LEVEL": "use DEBUG, INFO, WARNING, ERROR or CRITICAL",
    **{name: bound.fix for name, bound in bounds.SETTINGS.items() if name != "SIZING_VALUE"},
}


def _problem(field: str, message: str, fix: str) -> Problem:
    return Problem(source="env", field=field, message=message, fix=fix)


def cross_field_problems(values: Mapping[str, Any]) -> list[Problem]:
    """Rules between fields. A rule whose fields did not validate is skipped (already reported)."""
    problems: list[Problem] = []
    has = values.__contains__
    if has("MIN_PRICE") and has("MAX_PRICE") and values["MIN_PRICE"] >= values["MAX_PRICE"]:
        problems.append(_problem(
            "MIN_PRICE",
            f"must be below MAX_PRICE (MIN_PRICE={values['MIN_PRICE']}, "
            f"MAX_PRICE={values['MAX_PRICE']})",
            "lower MIN_PRICE or raise MAX_PRICE, e.g. MIN_PRICE=0.02 and MAX_PRICE=0.98"))
    if (has("TRADING_MODE") and has("CHAIN_ID") and has("LIVE_TRADING_ACKNOWLEDGED")
            and values["TRADING_MODE"] == "live" and values["CHAIN_ID"] == POLYGON_MAINNET
            and not values["LIVE_TRADING_ACKNOWLEDGED"]):
        problems.append(_problem(
            "LIVE_TRADING_ACKNOWLEDGED",
            "TRADING_MODE=live on Polygon mainnet (CHAIN_ID=137) places real orders with real "
            "funds and must be acknowledged explicitly",
            "set LIVE_TRADING_ACKNOWLEDGED=true once you accept that, or use TRADING_MODE=paper"))
    if has("SIGNATURE_TYPE") and has("FUNDER_ADDRESS"):
        problems += _funder_problems(values)
    if has("TELEGRAM_BOT_TOKEN") and has("TELEGRAM_CHAT_ID"):
        token, chat = values["TELEGRAM_BOT_TOKEN"], values["TELEGRAM_CHAT_ID"]
        if (token is None) != (chat is None):
            missing = "TELEGRAM_CHAT_ID" if chat is None else "TELEGRAM_BOT_TOKEN"
            problems.append(_problem(
                missing, "is not set but the other Telegram setting is",
                "set both TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID, or neither to disable alerts"))
    problems += _command_problems(values)
    if (has("SIZING_MODE") and has("SIZING_VALUE") and values["SIZING_MODE"] == "balance_pct"
            and values["SIZING_VALUE"] > 100):
        problems.append(_problem(
            "SIZING_VALUE", f"is a percent of the balance and cannot exceed 100 "
            f"(got {values['SIZING_VALUE']})", "set a percent such as 2"))
    if has("MARKET_ALLOWLIST") and has("MARKET_DENYLIST"):
        both = sorted(set(values["MARKET_ALLOWLIST"]) & set(values["MARKET_DENYLIST"]))
        if both:
            problems.append(_problem(
                "MARKET_DENYLIST", f"lists {', '.join(both)}, which MARKET_ALLOWLIST also lists",
                "keep each market in one list only"))
    return problems


def _command_problems(values: Mapping[str, Any]) -> list[Problem]:
    """Telegram commands: both lists or neither, and a token to receive them with."""
    names = ("TELEGRAM_ADMIN_IDS", "TELEGRAM_COMMAND_CHAT_IDS")
    if not all(name in values for name in names):
        return []
    admins, chats = (values[name] for name in names)
    if bool(admins) != bool(chats):
        missing = names[1] if admins else names[0]
        return [_problem(missing, "is not set but the other Telegram command setting is: "
                         "commands need both who (admins) and where (chats)",
                         "set both TELEGRAM_ADMIN_IDS and TELEGRAM_COMMAND_CHAT_IDS, or neither "
                         "to disable commands")]
    if admins and values.get("TELEGRAM_BOT_TOKEN", False) is None:
        return [_problem("TELEGRAM_BOT_TOKEN", "is not set but Telegram commands are "
                         "configured (TELEGRAM_ADMIN_IDS)",
                         "set TELEGRAM_BOT_TOKEN, or unset TELEGRAM_ADMIN_IDS and "
                         "TELEGRAM_COMMAND_CHAT_IDS")]
    return []


def _funder_problems(values: Mapping[str, Any]) -> list[Problem]:
    signature_type, funder = values["SIGNATURE_TYPE"], values["FUNDER_ADDRESS"]
    if signature_type != 0:
        if funder is None:
            kind = SIGNATURE_TYPES[signature_type]
            return [_problem(
                "FUNDER_ADDRESS",
                f"is required with SIGNATURE_TYPE={signature_type} ({kind}): orders are made by "
                "the wallet that holds the funds, not by the key's own address",
                FIXES["FUNDER_ADDRESS"])]
        return []
    if funder is not None and "PRIVATE_KEY" in values:
        own = key_address(values["PRIVATE_KEY"])
        if funder != own:
            return [_problem(
                "FUNDER_ADDRESS",
                f"is {funder} but SIGNATURE_TYPE=0 (EOA) trades from the key's own address {own}",
                "leave FUNDER_ADDRESS empty for an EOA, or set SIGNATURE_TYPE to 1, 2 or 3 for a "
                "proxy/safe/deposit wallet")]
    return []


def notes(settings: Settings) -> list[Problem]:
    """Legal but worth a warning line: the bot still starts."""
    found: list[Problem] = []
    if settings.CHAIN_ID not in (POLYGON_MAINNET, POLYGON_AMOY):
        found.append(_problem(
            "CHAIN_ID", f"{settings.CHAIN_ID} is neither Polygon (137) nor Amoy (80002)",
            "fine for a local simulator; otherwise set CHAIN_ID=137"))
    if settings.is_live and not settings.telegram_enabled:
        found.append(_problem(
            "TELEGRAM_BOT_TOKEN", "is not set: live trading will send no alerts",
            "set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID"))
    if settings.SIZING_MODE == "fixed" and settings.SIZING_VALUE > settings.MAX_POSITION_SIZE:
        found.append(_problem(
            "SIZING_VALUE", f"{settings.SIZING_VALUE} USDC per copy exceeds MAX_POSITION_SIZE "
            f"({settings.MAX_POSITION_SIZE} USDC): every copy will be capped",
            "lower SIZING_VALUE or raise MAX_POSITION_SIZE"))
    return found


def _unknown_name(name: str, where: str) -> Problem:
    if not _NAME.fullmatch(name) or redact(name) != name:
        # Not even shaped like a name: quoting it might print a pasted secret.
        return _problem(where, "has a name that is not a setting name",
                        "write one NAME=value per line with a setting name from the README")
    known = known_keys(Settings)
    if name.upper() in known:
        return _problem(where, f"{name} is not a known setting (names are upper-case)",
                        f"rename it to {name.upper()}")
    close = difflib.get_close_matches(name.upper(), sorted(known), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return _problem(where, f"{name} is not a known setting",
                    f"{hint}remove the line or correct the name")


def _gather(env_file: Path | None, environ: Mapping[str, str]
            ) -> tuple[dict[str, str], list[Problem], list[str]]:
    """Raw values: the file first, the environment on top (pydantic-settings' precedence);
    the problems of the file; every secret value found, valid or not, used or repeated."""
    raw: dict[str, str] = {}
    problems: list[Problem] = []
    secrets = [part for name in _HIDDEN_VALUES if name in environ
               for part in hidden_parts(name, environ[name])]
    if env_file is not None:
        entries, line_problems = read_env_file(env_file, known_keys(Settings))
        first_line: dict[str, int] = {}
        unreported = 0
        for entry in entries:
            where = f"{env_file.name} line {entry.line}"
            if entry.name in _HIDDEN_VALUES:
                secrets += hidden_parts(entry.name, entry.value)
            bad = entry.name not in known_keys(Settings) or entry.name in first_line
            if bad and len(line_problems) >= MAX_PROBLEMS:
                unreported += 1  # a file of garbage: counting is enough
            elif entry.name not in known_keys(Settings):
                line_problems.append((entry.line, _unknown_name(entry.name, where)))
            elif entry.name in first_line:
                line_problems.append((entry.line, _problem(
                    where, f"{entry.name} is already set on line {first_line[entry.name]}",
                    "keep one of the two lines")))
            else:
                first_line[entry.name] = entry.line
                raw[entry.name] = entry.value
        problems = [problem for _line, problem in sorted(line_problems, key=lambda p: p[0])]
        if unreported:
            problems.append(_problem(env_file.name, f"has {unreported} more unknown or repeated "
                                     "setting(s)", "check that this is the bot's environment file"))
    for name in known_keys(Settings):
        if name in environ:
            raw[name] = environ[name]
    # An empty value means "not set", as for pydantic-settings' env_ignore_empty.
    return {name: value for name, value in raw.items() if value.strip()}, problems, secrets


def hidden_parts(name: str, value: str) -> list[str]:
    """The secret part of a secret setting's value: no fragment of it may reach a message.

    The bot id before a token's colon and the scheme and host of an RPC URL are not secret,
    and hiding them would mangle unrelated text (chat ids, example URLs).
    """
    text = value.strip()
    if name == "PRIVATE_KEY":
        return [text.removeprefix("0x").removeprefix("0X")]
    if name == "TELEGRAM_BOT_TOKEN":
        return [text.partition(":")[2] or text]
    _scheme, separator, rest = text.partition("://")
    if not separator:
        return [text]
    userinfo, _at, location = rest.rpartition("@")
    host = re.split(r"[/?#]", location, maxsplit=1)[0]
    return [userinfo, location[len(host):]]


def _field_name(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]) if loc else "settings"


def _fix(loc: tuple[int | str, ...], _kind: str) -> str:
    return FIXES.get(str(loc[0]) if loc else "", "correct the value")


def collect_settings(
    env_file: Path | None = None, environ: Mapping[str, str] | None = None,
    model: type[Settings] = Settings,
) -> tuple[Settings | None, dict[str, Any], list[Problem]]:
    """Settings (None when invalid), the values of every field that validated, and all problems.

    `load_all` uses the partial values to find WALLETS_FILE even when other settings are wrong.
    """
    raw, problems, secrets = _gather(env_file, os.environ if environ is None else environ)
    values, errors = validate_fields(model, raw)
    problems += translate(
        errors, source="env", field_name=_field_name, fix_for=_fix,
        secret=lambda loc: bool(loc) and loc[0] in _HIDDEN_VALUES)
    problems += cross_field_problems(model.rule_values(values))
    if problems:
        return None, values, scrub(problems, secrets)
    return _build(raw, model), values, []


def _build(raw: dict[str, str], model: type[Settings]) -> Settings:
    # Only `raw` may feed the model: its own sources would re-read os.environ, which the
    # `environ` argument replaces.
    source = InitSettingsSource(model, init_kwargs=raw)
    try:
        return model(_build_sources=((source,), raw))
    except ValidationError as exc:
        # Unreachable while the field-wise checks mirror the model; never let it pass silently.
        problems = [_problem(_field_name(tuple(e["loc"])), e["msg"], "report this as a bug")
                    for e in exc.errors(include_input=False)]
    raise ConfigError(problems)


def load_settings(
    env_file: Path | None = None, environ: Mapping[str, str] | None = None,
    model: type[Settings] = Settings,
) -> Settings:
    """The settings from `environ` (default: the process environment) over `env_file`.

    `model` OperatorSettings: the key and the RPC URL may be absent.
    Raises ConfigError naming every bad setting and its fix.
    """
    settings, _values, problems = collect_settings(env_file, environ, model)
    if settings is None:
        raise ConfigError(problems)
    return settings

