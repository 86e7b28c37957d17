"""Fake Telegram Bot API (`/bot<token>/<method>`), enough for python-telegram-bot's Bot and polling.

`TelegramStore` holds what a test wants to see or steer: the messages bots sent, updates an
operator "typed" (`inject_update`), open or closed chats, Telegram-style flood control (429 +
retry_after) and outages (502 from the front proxy, or requests that hang). Errors carry Telegram's
own descriptions because clients branch on them ("Bad Request: chat not found", "Conflict:
terminated by other getUpdates request…").
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from .context import Sim

TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]{30,}$")
MAX_TEXT = 4096
MAX_POLL_SECONDS = 50.0  # Telegram caps long polling; the client's read timeout covers the rest
Outage = Literal["502", "hang"]
# Telegram's stand-in sender for a group admin who posts anonymously
_ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                    "username": "GroupAnonymousBot"}

_NGINX_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
              "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
              "</body>\r\n</html>\r\n")
_NGINX_504 = _NGINX_502.replace("502 Bad Gateway", "504 Gateway Time-out")


class TelegramError(Exception):
    """An error answer: HTTP status and Telegram's description."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def response(self) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": self.status,
                                "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.status)


def _bad(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


@dataclass
class SentMessage:
    """A message a bot sent (and possibly edited later)."""

    chat_id: int
    message_id: int
    text: str
    bot_id: int
    date: int
    time: float  # time.time() when the fake received it
    parse_mode: str | None = None
    reply_markup: Any = None
    edit_date: int | None = None
    deleted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "message_id": self.message_id, "text": self.text,
                "bot_id": self.bot_id, "date": self.date, "time": self.time,
                "parse_mode": self.parse_mode, "reply_markup": self.reply_markup,
                "edit_date": self.edit_date, "deleted": self.deleted}


@dataclass
class _Update:
    update_id: int
    bot_id: int | None  # None: every bot sees it
    body: dict[str, Any]


@dataclass
class _Poll:
    event: asyncio.Event
    loop: asyncio.AbstractEventLoop
    bot_id: int
    conflicted: bool = False


@dataclass
class _Bot:
    bot_id: int
    webhook_url: str = ""
    acked: int = 0  # lowest update_id still to deliver
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Sim Bot",
                "username": f"sim_{self.bot_id}_bot"}


class TelegramStore:
    """State of the fake Telegram: bots, chats, sent messages, pending updates, failure switches.

    Thread-safe: tests running the simulator in a background thread call it from their own thread.
    """

    def __init__(self, tokens: Iterable[str] | None = None, chats_open: bool = True) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.tokens: set[str] | None = set(tokens) if tokens is not None else None
        self.chats_open = chats_open
        self._chats: dict[int, str] = {}  # chat id -> type
        self._channel_ids: dict[str, int] = {}
        self._bots: dict[int, _Bot] = {}
        self._sent: list[SentMessage] = []
        self._message_ids: dict[int, itertools.count] = {}
        self._updates: list[_Update] = []
        self._update_ids = itertools.count(700_000_001)
        self._polls: dict[int, _Poll] = {}
        # failure switches
        self.outage: Outage | None = None
        self.hang_seconds = 60.0
        self.rate_limited = False
        self.per_chat_interval = 1.0  # Telegram: about one message per second per chat
        self.global_per_second = 30
        self._last_in_chat: dict[int, float] = {}
        self._recent: deque[float] = deque()
        self._forced_429: list[int] = []  # retry_after values for the next sends

    # --- configuration (the admin endpoint calls these) -------------------------------------------

    def add_token(self, token: str) -> None:
        with self._lock:
            if self.tokens is None:
                self.tokens = set()
            self.tokens.add(token)

    def add_chat(self, chat_id: int, chat_type: str | None = None) -> None:
        with self._lock:
            self._chats[int(chat_id)] = chat_type or _chat_type(int(chat_id))

    def set_outage(self, mode: Outage | bool | None, hang_seconds: float | None = None) -> None:
        """`"502"` (or True): the front proxy answers 502; `"hang"`: requests wait until cleared
        (or until `hang_seconds`, then 504); None or False: back to normal."""
        if mode is True:
            mode = "502"
        elif mode is False:
            mode = None
        if mode not in (None, "502", "hang"):
            raise ValueError(f"outage must be None, '502' or 'hang', not {mode!r}")
        with self._lock:
            self.outage = mode
            if hang_seconds is not None:
                self.hang_seconds = hang_seconds

    def set_rate_limit(self, enabled: bool, per_chat_interval: float = 1.0,
                       global_per_second: int = 30) -> None:
        with self._lock:
            self.rate_limited = enabled
            self.per_chat_interval = per_chat_interval
            self.global_per_second = global_per_second

    def throttle_next(self, count: int = 1, retry_after: int = 5) -> None:
        """Answer the next `count` sends with 429 and this retry_after, whatever the rate."""
        with self._lock:
            self._forced_429.extend([retry_after] * count)

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self._updates.clear()
            self._forced_429.clear()
            self._last_in_chat.clear()
            self._recent.clear()
            self.outage = None
            self.rate_limited = False

    # --- what tests read and inject -------------------------------------------------------------

    def messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Messages bots sent (JSON-ready dicts), oldest first, optionally for one chat."""
        return [m.as_dict() for m in self.sent(chat_id)]

    def sent(self, chat_id: int | str | None = None) -> list[SentMessage]:
        with self._lock:
            if chat_id is None:
                return list(self._sent)
            wanted = self._resolve_chat(chat_id)
            return [m for m in self._sent if m.chat_id == wanted]

    def wait_for_messages(self, count: int, chat_id: int | str | None = None,
                          timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block (in a test thread) until `count` messages were sent to the chat, or time out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self.messages(chat_id)
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def inject_update(self, chat_id: int, text: str, from_id: int | None = None,
                      token: str | None = None, first_name: str = "Operator",
                      username: str | None = "operator", is_bot: bool = False,
                      anonymous: bool = False) -> dict[str, Any]:
        """An incoming message, as if a person typed `text` in the chat; returns the Update.

        The sender is `from_id` (default: the chat's own person for a private chat, else user 1)
        with `username`; `is_bot` sends as a bot. `anonymous` posts as a group's anonymous admin
        does on Telegram: from GroupAnonymousBot, with the group as `sender_chat`."""
        chat_id = int(chat_id)
        from_id = int(from_id) if from_id is not None else (chat_id if chat_id > 0 else 1)
        bot_id = _bot_id(token) if token else None
        with self._lock:
            self._chats.setdefault(chat_id, _chat_type(chat_id))
            sender = {"id": from_id, "is_bot": is_bot, "first_name": first_name}
            if username:
                sender["username"] = username
            if anonymous:
                sender = dict(_ANONYMOUS_ADMIN)
            message: dict[str, Any] = {
                "message_id": self._next_message_id(chat_id), "from": sender,
                "chat": self._chat(chat_id, first_name), "date": int(time.time()), "text": text,
            }
            if anonymous:
                message["sender_chat"] = message["chat"]
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [{"type": "bot_command", "offset": 0,
                                        "length": _utf16_len(command)}]
            update = {"update_id": next(self._update_ids), "message": message}
            self._updates.append(_Update(update["update_id"], bot_id, update))
            polls = list(self._polls.values())
        for poll in polls:
            poll.loop.call_soon_threadsafe(poll.event.set)
        return update

    def pending_updates(self, token: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            if token is None:
                return [u.body for u in self._updates]
            bot = self._bot(_bot_id(token))
            return [u.body for u in self._visible(bot)]

    def commands(self, token: str, scope: str = "default", language_code: str = "") -> list:
        with self._lock:
            return list(self._bot(_bot_id(token)).commands.get(f"{scope}|{language_code}", []))

    # --- internals used by the HTTP side ---------------------------------------------------------

    def _bot(self, bot_id: int) -> _Bot:
        bot = self._bots.get(bot_id)
        if bot is None:
            bot = self._bots[bot_id] = _Bot(bot_id)
        return bot

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.get(chat_id)
        if counter is None:
            counter = self._message_ids[chat_id] = itertools.count(1)
        return next(counter)

    def _resolve_chat(self, chat_id: int | str) -> int:
        if isinstance(chat_id, int):
            return chat_id
        text = str(chat_id).strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if text.startswith("@"):
            name = text.lower()
            if name not in self._channel_ids:
                self._channel_ids[name] = -1_000_000_000_000 - zlib.crc32(name.encode())
                self._chats.setdefault(self._channel_ids[name], "channel")
            return self._channel_ids[name]
        raise _bad("chat not found")

    def _chat(self, chat_id: int, first_name: str = "Operator") -> dict[str, Any]:
        chat_type = self._chats.get(chat_id, _chat_type(chat_id))
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = f"Sim {chat_type} {chat_id}"
        return chat

    def _visible(self, bot: _Bot) -> list[_Update]:
        return [u for u in self._updates
                if u.update_id >= bot.acked and (u.bot_id is None or u.bot_id == bot.bot_id)]

    def _take_updates(self, bot: _Bot, offset: int | None, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            if offset is not None and offset > 0:
                bot.acked = max(bot.acked, offset)
            elif offset is not None and offset < 0:
                visible = self._visible(bot)[offset:]
                if visible:
                    bot.acked = visible[0].update_id
            return [u.body for u in self._visible(bot)[:limit]]

    def _check_rate(self, chat_id: int) -> None:
        now = time.monotonic()
        with self._lock:
            if self._forced_429:
                retry = self._forced_429.pop(0)
                raise TelegramError(429, f"Too Many Requests: retry after {retry}", retry)
            if not self.rate_limited:
                return
            last = self._last_in_chat.get(chat_id)
            if last is not None and now - last < self.per_chat_interval:
                retry = max(1, math.ceil(self.per_chat_interval - (now - last)))
                raise TelegramError(429, f"Too Many Requests: retry after {retry}", retry)
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.global_per_second:
                raise TelegramError(429, "Too Many Requests: retry after 1", 1)
            self._last_in_chat[chat_id] = now
            self._recent.append(now)

    def _record(self, bot_id: int, chat_id: int, text: str, parse_mode: str | None,
                reply_markup: Any) -> SentMessage:
        with self._changed:
            message = SentMessage(chat_id=chat_id, message_id=self._next_message_id(chat_id),
                                  text=text, bot_id=bot_id, date=int(time.time()),
                                  time=time.time(), parse_mode=parse_mode,
                                  reply_markup=reply_markup)
            self._sent.append(message)
            self._changed.notify_all()
            return message

    def _find(self, chat_id: int, message_id: int) -> SentMessage | None:
        return next((m for m in self._sent if m.chat_id == chat_id
                     and m.message_id == message_id and not m.deleted), None)


def _chat_type(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if chat_id < -1_000_000_000_000 else "group"


def _bot_id(token: str) -> int:
    match = TOKEN_RE.match(token)
    return int(match.group(1)) if match else 0


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- parse-mode checks: the mistakes Telegram refuses with "can't parse entities" ----------------

_HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
              "span", "tg-spoiler", "tg-emoji", "blockquote", "tg-time"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*>")
_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _entity_error(message: str) -> TelegramError:
    return _bad(f"can't parse entities: {message}")


def check_html(text: str) -> str:
    """Validate Telegram HTML; returns the visible text (for the length check)."""
    stack: list[str] = []
    visible: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "<":
            j = text.find("<", i)
            j = len(text) if j < 0 else j
            visible.append(text[i:j])
            i = j
            continue
        match = _TAG.match(text, i)
        if match is None:
            raise _entity_error(f"Unexpected end of name token at byte offset "
                                f"{_byte_offset(text, i)}")
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in _HTML_TAGS:
            kind = "end" if closing else "start"
            raise _entity_error(f'Unsupported {kind} tag "{name}" at byte offset '
                                f"{_byte_offset(text, i)}")
        if closing:
            if not stack or stack[-1] != name:
                expected = f'expected "</{stack[-1]}>", ' if stack else ""
                raise _entity_error(f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                                    f'{expected}found "</{name}>"')
            stack.pop()
        else:
            stack.append(name)
        i = match.end()
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


def check_markdown_v2(text: str) -> str:
    visible: list[str] = []
    open_marks: dict[str, int] = {}
    in_code = in_pre = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            visible.append(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            in_pre = not in_pre
            i += 3
            continue
        if char == "`" and not in_pre:
            in_code = not in_code
            i += 1
            continue
        if in_code or in_pre:
            visible.append(char)
            i += 1
            continue
        if text.startswith("](", i):
            close = text.find(")", i + 2)
            if close < 0:
                raise _entity_error(f"Can't find end of a URL at byte offset "
                                    f"{_byte_offset(text, i)}")
            i = close + 1
            continue
        if char in "*_~|":
            mark = "||" if text.startswith("||", i) else ("__" if text.startswith("__", i)
                                                          else char)
            if mark == "|":
                raise _reserved(char)
            if mark in open_marks:
                del open_marks[mark]
            else:
                open_marks[mark] = i
            i += len(mark)
            continue
        if char in "[]" or (char == ">" and (i == 0 or text[i - 1] == "\n")):
            i += 1
            continue
        if char in _MD2_RESERVED:
            raise _reserved(char)
        visible.append(char)
        i += 1
    if open_marks:
        mark, start = min(open_marks.items(), key=lambda item: item[1])
        names = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough",
                 "||": "spoiler"}
        raise _entity_error(f"Can't find end of {names[mark].capitalize()} entity at byte "
                            f"offset {_byte_offset(text, start)}")
    return "".join(visible)


def _reserved(char: str) -> TelegramError:
    return _entity_error(f"Character '{char}' is reserved and must be escaped with the "
                         f"preceding '\\'")


def check_markdown(text: str) -> str:
    """Legacy Markdown: an unpaired *, _ or ` is an error (addresses with _ are the classic)."""
    i = 0
    open_at: dict[str, int] = {}
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char in "*_`":
            if "`" in open_at and char != "`":
                i += 1
                continue
            if char in open_at:
                del open_at[char]
            else:
                open_at[char] = i
        i += 1
    if open_at:
        start = min(open_at.values())
        raise _entity_error(f"Can't find end of the entity starting at byte offset "
                            f"{_byte_offset(text, start)}")
    return text.replace("*", "").replace("_", "").replace("`", "")


def visible_text(text: str, parse_mode: str | None) -> str:
    mode = (parse_mode or "").lower()
    if mode == "html":
        return check_html(text)
    if mode == "markdownv2":
        return check_markdown_v2(text)
    if mode == "markdown":
        return check_markdown(text)
    if mode:
        raise _bad(f"unsupported parse_mode {parse_mode}")
    return text


# --- HTTP --------------------------------------------------------------------------------------

_JSON_FIELDS = {"reply_markup", "entities", "commands", "scope", "allowed_updates",
                "link_preview_options", "reply_parameters"}


def _decode(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {name} JSON object") from None
    return value


async def _params(request: web.Request) -> dict[str, Any]:
    """Query string plus body: JSON, form-urlencoded or multipart, as clients send them."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON") from None
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return {k: _decode(k, v) for k, v in params.items()}


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(float(value))
    except (TypeError, ValueError):
        raise _bad(f"field \"{name}\" must be of type Integer") from None


def _flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    return value is True or str(value).lower() in ("true", "1")


Method = Callable[["TelegramApp", _Bot, dict[str, Any]], Awaitable[Any]]


class TelegramApp:
    def __init__(self, store: TelegramStore) -> None:
        self.store = store
        self.methods: dict[str, Method] = {
            "getme": TelegramApp.get_me, "logout": TelegramApp.true, "close": TelegramApp.true,
            "sendmessage": TelegramApp.send_message,
            "editmessagetext": TelegramApp.edit_message_text,
            "deletemessage": TelegramApp.delete_message,
            "sendchataction": TelegramApp.chat_action,
            "answercallbackquery": TelegramApp.true,
            "getupdates": TelegramApp.get_updates,
            "setwebhook": TelegramApp.set_webhook, "deletewebhook": TelegramApp.delete_webhook,
            "getwebhookinfo": TelegramApp.webhook_info,
            "setmycommands": TelegramApp.set_my_commands,
            "getmycommands": TelegramApp.get_my_commands,
            "deletemycommands": TelegramApp.delete_my_commands,
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        store = self.store
        if store.outage == "502":
            return web.Response(status=502, text=_NGINX_502, content_type="text/html")
        if store.outage == "hang":
            # the request never reaches Telegram: it is answered 504 once the hang ends, never run
            deadline = time.monotonic() + store.hang_seconds
            while store.outage == "hang" and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return web.Response(status=504, text=_NGINX_504, content_type="text/html")
        token = request.match_info["token"]
        method = self.methods.get(request.match_info["method"].lower())
        try:
            if not TOKEN_RE.match(token):
                raise TelegramError(404, "Not Found")
            if store.tokens is not None and token not in store.tokens:
                raise TelegramError(401, "Unauthorized")
            if method is None:
                raise TelegramError(404, "Not Found")
            params = await _params(request)
            with store._lock:
                bot = store._bot(_bot_id(token))
            result = await method(self, bot, params)
        except TelegramError as exc:
            return exc.response()
        return web.json_response({"ok": True, "result": result})

    async def true(self, bot: _Bot, params: dict[str, Any]) -> bool:
        return True

    async def get_me(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        return {**bot.user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    def _target_chat(self, params: dict[str, Any]) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        with self.store._lock:
            chat_id = self.store._resolve_chat(raw)
            if not self.store.chats_open and chat_id not in self.store._chats:
                raise _bad("chat not found")
            self.store._chats.setdefault(chat_id, _chat_type(chat_id))
            return chat_id

    def _message(self, bot: _Bot, sent: SentMessage) -> dict[str, Any]:
        with self.store._lock:
            body: dict[str, Any] = {"message_id": sent.message_id, "from": bot.user(),
                                    "chat": self.store._chat(sent.chat_id), "date": sent.date,
                                    "text": sent.text}
        if sent.edit_date is not None:
            body["edit_date"] = sent.edit_date
        if isinstance(sent.reply_markup, dict) and "inline_keyboard" in sent.reply_markup:
            body["reply_markup"] = sent.reply_markup
        return body

    def _text(self, params: dict[str, Any]) -> tuple[str, str | None]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        parse_mode = params.get("parse_mode") or None
        if len(visible_text(text, parse_mode)) > MAX_TEXT:
            raise _bad("message is too long")
        return text, parse_mode

    async def send_message(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        text, parse_mode = self._text(params)
        self.store._check_rate(chat_id)
        sent = self.store._record(bot.bot_id, chat_id, text, parse_mode,
                                  params.get("reply_markup"))
        return self._message(bot, sent)

    async def edit_message_text(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        message_id = _int(params, "message_id")
        text, parse_mode = self._text(params)
        with self.store._changed:
            sent = self.store._find(chat_id, message_id or 0)
            if sent is None or sent.bot_id != bot.bot_id:
                raise _bad("message to edit not found")
            markup = params.get("reply_markup")
            if sent.text == text and sent.reply_markup == markup:
                raise _bad("message is not modified: specified new message content and reply "
                           "markup are exactly the same as a current content and reply markup "
                           "of the message")
            sent.text, sent.parse_mode, sent.reply_markup = text, parse_mode, markup
            sent.edit_date = int(time.time())
            self.store._changed.notify_all()
        return self._message(bot, sent)

    async def delete_message(self, bot: _Bot, params: dict[str, Any]) -> bool:
        chat_id = self._target_chat(params)
        with self.store._changed:
            sent = self.store._find(chat_id, _int(params, "message_id") or 0)
            if sent is None:
                raise _bad("message to delete not found")
            sent.deleted = True
        return True

    async def chat_action(self, bot: _Bot, params: dict[str, Any]) -> bool:
        self._target_chat(params)
        return True

    async def get_updates(self, bot: _Bot, params: dict[str, Any]) -> list[dict[str, Any]]:
        store = self.store
        if bot.webhook_url:
            raise TelegramError(409, "Conflict: can't use getUpdates method while webhook is "
                                     "active; use deleteWebhook to delete the webhook first")
        offset = _int(params, "offset")
        limit = min(max(_int(params, "limit", 100) or 100, 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_POLL_SECONDS)
        poll = _Poll(asyncio.Event(), asyncio.get_running_loop(), bot.bot_id)
        with store._lock:
            previous = store._polls.get(bot.bot_id)
            if previous is not None:
                previous.conflicted = True
                previous.loop.call_soon_threadsafe(previous.event.set)
            store._polls[bot.bot_id] = poll
        try:
            deadline = time.monotonic() + timeout
            while True:
                updates = store._take_updates(bot, offset, limit)
                if poll.conflicted:
                    raise TelegramError(409, "Conflict: terminated by other getUpdates request; "
                                             "make sure that only one bot instance is running")
                remaining = deadline - time.monotonic()
                if updates or remaining <= 0:
                    return updates
                poll.event.clear()
                # re-check after clearing so an update injected in between is not slept through
                if store._take_updates(bot, offset, limit):
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poll.event.wait(), remaining)
        finally:
            with store._lock:
                if store._polls.get(bot.bot_id) is poll:
                    del store._polls[bot.bot_id]

    async def set_webhook(self, bot: _Bot, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        with self.store._lock:
            bot.webhook_url = url
            if _flag(params, "drop_pending_updates"):
                self._drop_pending(bot)
        return True

    async def delete_webhook(self, bot: _Bot, params: dict[str, Any]) -> bool:
        with self.store._lock:
            bot.webhook_url = ""
            if _flag(params, "drop_pending_updates"):
                self._drop_pending(bot)
        return True

    def _drop_pending(self, bot: _Bot) -> None:
        visible = self.store._visible(bot)
        if visible:
            bot.acked = visible[-1].update_id + 1

    async def webhook_info(self, bot: _Bot, params: dict[str, Any]) -> dict[str, Any]:
        with self.store._lock:
            pending = len(self.store._visible(bot))
        return {"url": bot.webhook_url, "has_custom_certificate": False,
                "pending_update_count": pending}

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        return f"{scope_type}|{params.get('language_code') or ''}"

    async def set_my_commands(self, bot: _Bot, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description must be non-empty")
        with self.store._lock:
            bot.commands[self._commands_key(params)] = [
                {"command": c["command"], "description": c["description"]} for c in commands]
        return True

    async def get_my_commands(self, bot: _Bot, params: dict[str, Any]) -> list[dict[str, str]]:
        with self.store._lock:
            return list(bot.commands.get(self._commands_key(params), []))

    async def delete_my_commands(self, bot: _Bot, params: dict[str, Any]) -> bool:
        with self.store._lock:
            bot.commands.pop(self._commands_key(params), None)
        return True


def build_app(sim: Sim) -> web.Application:
    if sim.telegram is None:
        sim.telegram = TelegramStore()
    telegram = TelegramApp(sim.telegram)
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", telegram.handle)
    return app
