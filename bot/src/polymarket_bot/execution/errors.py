"""What can go wrong talking to the exchange, and what each failure means for the order.

The CLOB's error texts are the API contract here (the official client itself matches on
`order_version_mismatch`), so they are matched as the exchange words them.
"""

from __future__ import annotations

from enum import StrEnum


class ExchangeError(Exception):
    """A call that got no usable answer (transport error, 5xx, unreadable reply).

    Never means "the order does not exist": a lookup that fails raises this instead of
    answering not_found, so a reconciler cannot mistake an outage for a lost order.
    """

    def __init__(self, message: str, *, status: int | None = None,
                 retryable: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class InvalidOrder(ValueError):
    """An intent that cannot become a valid order (off the tick grid, too many decimals...)."""


class Failure(StrEnum):
    RETRYABLE = "retryable"  # rate limit, server error, timeout: the same order may be re-posted
    NO_MATCH = "no_match"  # FOK/FAK found nothing (enough) to match: a normal outcome
    DUPLICATE = "duplicate"  # the exchange already has this order: a previous post went through
    VERSION = "version"  # signed for an order version the exchange no longer accepts
    BALANCE = "balance"  # not enough pUSD/shares, or allowance (or a stale server-side cache)
    REJECTED = "rejected"  # anything else: the order is refused for good


# request timeout, "too early" (the matching engine restarting), rate limited
_RETRY_STATUSES = (408, 425, 429)
_NO_MATCH = ("no orders found to match", "couldn't be fully filled",
             "could not be fully filled", "no match")
_VERSION = ("order_version_mismatch", "invalid order version")
_BALANCE = ("not enough balance", "allowance")


def retryable_status(status: int | None) -> bool:
    """A reply status (None: no reply at all) after which the same request may be sent again."""
    return status is None or status in _RETRY_STATUSES or status >= 500


def classify(status: int | None, message: str) -> Failure:
    """What a failed `POST /order` means, from its HTTP status (None: no answer) and text."""
    text = message.lower()
    if retryable_status(status):
        return Failure.RETRYABLE
    if any(marker in text for marker in _VERSION):
        return Failure.VERSION
    if "duplicated" in text:
        return Failure.DUPLICATE
    if any(marker in text for marker in _NO_MATCH):
        return Failure.NO_MATCH
    if any(marker in text for marker in _BALANCE):
        return Failure.BALANCE
    return Failure.REJECTED
