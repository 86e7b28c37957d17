"""Who paused copying, and who may lift it.

A pause carries the authority that set it. Telegram is the weakest: anyone holding an admin's
phone can send `/pause` or `/resume`. An operator (`polymarket-bot pause`, playbooks/pause.yml)
and incident containment (playbooks/incident.yml, severity 2) need the host or its deploy key, so
a Telegram `/resume` must never undo their pause. A pause is only ever raised to a stronger
authority, never lowered: a Telegram `/pause` on top of an operator's pause leaves the
operator's in force.

The `paused` flag keeps its meaning ("1" while paused) for every reader; `paused_by` records
"<authority>:<who>" next to it, written in the same transaction. A pause without `paused_by`
(set by an older release) counts as an operator's: when unsure, the stronger one.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

Authority = Literal["telegram", "operator", "incident"]
AUTHORITIES: tuple[Authority, ...] = ("telegram", "operator", "incident")
# operator and incident are the same level: both need root on the host (or the deploy key)
RANK: dict[str, int] = {"telegram": 1, "operator": 2, "incident": 2}
PAUSED, PAUSED_BY = "paused", "paused_by"
DESCRIPTION = {"telegram": "a Telegram admin", "operator": "an operator on the host",
               "incident": "incident containment"}


class Flags(Protocol):
    def get_flag(self, name: str) -> str | None: ...
    def set_flag(self, name: str, value: str | None) -> None: ...
    def batch(self) -> AbstractContextManager[None]: ...  # one transaction


@dataclass(frozen=True)
class Pause:
    authority: Authority
    who: str

    def describe(self) -> str:
        who = f" ({self.who})" if self.who else ""
        return f"{DESCRIPTION[self.authority]}{who}"


def current(store: Flags) -> Pause | None:
    """The pause in force, or None."""
    if store.get_flag(PAUSED) != "1":
        return None
    authority, _, who = (store.get_flag(PAUSED_BY) or "operator:").partition(":")
    if authority not in RANK:
        authority = "operator"
    return Pause(authority, who)  # type: ignore[arg-type]


def pause(store: Flags, authority: Authority, who: str = "") -> Pause:
    """Pause at `authority`; an existing stronger pause stays. Returns the pause in force."""
    with store.batch():
        existing = current(store)
        if existing is not None and RANK[existing.authority] > RANK[authority]:
            return existing
        store.set_flag(PAUSED, "1")
        store.set_flag(PAUSED_BY, f"{authority}:{who}")
        return Pause(authority, who)


def resume(store: Flags, authority: Authority) -> Pause | None:
    """Lift the pause if `authority` is at least as strong as its setter.

    Returns None when copying is unpaused now, else the pause that stays (refused)."""
    with store.batch():
        existing = current(store)
        if existing is not None and RANK[existing.authority] > RANK[authority]:
            return existing
        store.set_flag(PAUSED, None)
        store.set_flag(PAUSED_BY, None)
        return None
