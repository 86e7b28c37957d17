"""Detection: the target wallets' fills, from the Data API and/or the chain, de-duplicated.

Typical wiring (the engine does this from the settings):

    limiter = TokenBucket(500, 10.0)              # one for every Data API call
    data = DataApiSource(DataApiConfig(base_url=...), store, limiter=limiter)
    chain = ChainSource(ChainConfig(rpc_url=...), store)
    stream = FillStream(build_sources("both", data_api=data, chain=chain), store,
                        markets=MarketDirectory(gamma_url, clob_url))
    fills = await stream.poll(wallets)            # new fills, oldest first
    store.record(fills)                           # durable first ...
    stream.commit()                               # ... then the cursors move
"""

from .base import CursorStore, Health, MemoryCursorStore, PollReport, Source, UpstreamError
from .chain import ChainConfig, ChainSource
from .data_api import DataApiConfig, DataApiSource
from .markets import MarketDirectory, enrich
from .ratelimit import TokenBucket
from .reconcile import Drift, Reconciler, confidence_score
from .stream import FillStream, SourceMode, StreamStats, build_sources

__all__ = [
    "ChainConfig", "ChainSource", "CursorStore", "DataApiConfig", "DataApiSource", "Drift",
    "FillStream", "Health", "MarketDirectory", "MemoryCursorStore", "PollReport", "Reconciler",
    "Source", "SourceMode", "StreamStats", "TokenBucket", "UpstreamError", "build_sources",
    "confidence_score", "enrich",
]
