"""Bounded request loops on loopback: streamed chat completions that must arrive whole.

Each client thread sends one request per fresh connection, reads the whole stream and checks
every token and the closing `[DONE]` arrived; the loop ends when stopped or at `limit`
requests in all, so no load outlives its test.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class Result:
    started: float
    finished: float
    status: int
    engine: str
    complete: bool
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.complete


class StreamingLoad:
    def __init__(
        self,
        port: int,
        path: str,
        clients: int = 4,
        tokens: int = 8,
        chunk_interval: float = 0.25,
        limit: int = 3000,
        model: str | None = None,
    ) -> None:
        self.port = port
        # The body's `model`: what a shared endpoint routes by (routes per deployment ignore it).
        self.model = model
        self.path = path.rstrip("/") + "/v1/chat/completions"
        self.clients = clients
        self.tokens = tokens
        self.chunk_interval = chunk_interval
        self.limit = limit
        self.results: list[Result] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> StreamingLoad:
        for _ in range(self.clients):
            thread = threading.Thread(target=self._client, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def failures(self) -> list[Result]:
        return [result for result in self.results if not result.ok]

    def engines_between(self, start: float, end: float) -> set[str]:
        return {r.engine for r in self.results if r.ok and start <= r.started and r.finished <= end}

    def _client(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if len(self.results) >= self.limit:
                    return
            result = self.request()
            with self._lock:
                self.results.append(result)

    def request(self) -> Result:
        started = time.monotonic()
        body = {
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "max_tokens": self.tokens,
            "chunk_interval": self.chunk_interval,
        }
        if self.model is not None:
            body["model"] = self.model
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                "POST", self.path, json.dumps(body), {"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            tokens = text.count('data: {"token"')
            complete = tokens == self.tokens and "data: [DONE]" in text
            engine = response.getheader("X-Engine") or ""
            return Result(started, time.monotonic(), response.status, engine, complete)
        except (OSError, http.client.HTTPException) as error:
            return Result(started, time.monotonic(), 0, "", False, repr(error))
        finally:
            connection.close()


def get(port: int, path: str, timeout: float = 10) -> tuple[int, str, str]:
    """(status, X-Engine, body) of one GET on loopback."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, response.getheader("X-Engine") or "", body
    finally:
        connection.close()


def post(port: int, path: str, body: bytes, timeout: float = 30) -> tuple[int, str, str]:
    """(status, X-Engine, body) of one POST of `body` (JSON or not) on loopback."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return response.status, response.getheader("X-Engine") or "", text
    finally:
        connection.close()
