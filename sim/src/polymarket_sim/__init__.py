"""A local Polymarket: CLOB V2, Data API, Gamma, a Polygon-like chain and Telegram, for tests."""

__version__ = "0.1.0"
