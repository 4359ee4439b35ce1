"""A stand-in engine on 127.0.0.1 that speaks vLLM's or SGLang's adapter load/unload API.

What it answers follows each engine's documented behaviour: vLLM lists loaded adapters in
/v1/models (`parent` set, `root` the path); SGLang lists only the served model. Both refuse
a second load of a loaded name and the unload of an unknown one; an adapter path
containing "broken" is refused with an engine-style error body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATHS = {
    "vllm": ("/v1/load_lora_adapter", "/v1/unload_lora_adapter"),
    "sglang": ("/load_lora_adapter", "/unload_lora_adapter"),
}


@dataclass
class LoraEngine:
    kind: str
    base_model: str = "base"
    api_key: str | None = None
    healthy: bool = True
    loaded: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restart(self) -> None:
        """What a restarted engine has: nothing loaded."""
        self.loaded.clear()

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        if path == "/health":
            return (200, "") if self.healthy else (503, "")
        if self.api_key and headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {"error": "Unauthorized"}
        if method == "GET" and path == "/v1/models":
            return 200, {"object": "list", "data": self._models()}
        load, unload = PATHS[self.kind]
        request = json.loads(body or b"{}")
        name = request.get("lora_name")
        self.calls.append((path, name))
        if path == load:
            if name in self.loaded:
                return 400, {"message": f"The lora adapter '{name}' has already been loaded."}
            if "broken" in request.get("lora_path", ""):
                return 400, {"message": "LoRA rank 256 is greater than max_lora_rank 64."}
            self.loaded[name] = request["lora_path"]
            return 200, f"Success: LoRA adapter '{name}' added successfully."
        if path == unload:
            if name not in self.loaded:
                return 404, {"message": f"The lora adapter '{name}' cannot be found."}
            del self.loaded[name]
            return 200, f"Success: LoRA adapter '{name}' removed successfully."
        return 404, {"detail": "Not Found"}

    def _models(self) -> list[dict[str, Any]]:
        models = [{"id": self.base_model, "object": "model", "root": "/m", "parent": None}]
        if self.kind == "vllm":
            models += [
                {"id": name, "object": "model", "root": path, "parent": self.base_model}
                for name, path in self.loaded.items()
            ]
        return models

    def loads(self) -> list[str]:
        return [name for path, name in self.calls if path == PATHS[self.kind][0]]

    def unloads(self) -> list[str]:
        return [name for path, name in self.calls if path == PATHS[self.kind][1]]


@contextmanager
def running(engine: LoraEngine) -> Iterator[LoraEngine]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, body = engine.answer(
                self.command, self.path, self.headers, self.rfile.read(length)
            )
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    engine.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield engine
    finally:
        server.shutdown()
        server.server_close()
