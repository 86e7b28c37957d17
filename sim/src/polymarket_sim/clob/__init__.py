"""The simulated CLOB V2: API keys, signed orders, the matching engine and its HTTP API."""

from .engine import BookSnapshot, Engine, PlaceResult
from .errors import OrderRejected
from .routes import build_app

__all__ = ["BookSnapshot", "Engine", "OrderRejected", "PlaceResult", "build_app"]
