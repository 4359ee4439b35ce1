"""The Prometheus series an engine exports about its requests (names differ per engine)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestMetrics:
    """Series names on the engine's metrics path; None where the engine exports no such series."""

    # Gauge: requests being generated right now.
    running: str | None
    # Gauge: requests accepted but waiting for a free slot in the batch.
    waiting: str | None
    # Counter: requests finished (a histogram's `_count` series counts them too).
    completed: str | None
    # Histogram buckets (`le` label) of end-to-end request latency in seconds.
    latency_bucket: str | None
    # Counter: tokens generated (for tokens per second).
    generated_tokens: str | None = None
    # Counter (a series selector) of requests that failed; None where the engine has none.
    failed: str | None = None
    # Gauge, 0 to 1: the share of the engine's KV cache in use.
    kv_cache_usage: str | None = None
    # Histogram buckets (`le` label) of time to first token in seconds.
    ttft_bucket: str | None = None
    # Histogram buckets (`le` label) of the time between two generated tokens in seconds.
    itl_bucket: str | None = None
