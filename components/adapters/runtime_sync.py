"""Brings a running engine's LoRA adapters to a wanted set through its HTTP API.

Standard library only, and no import from modelstack: this file's text is also the program
the Kubernetes sidecar runs (`python3 sync.py watch <file>`, from the adapters ConfigMap)
and the one `docker exec` runs inside an engine container (`python3 -c <text> once`, the
request as JSON on stdin). Both engines' APIs, with their sources:

- vLLM (VLLM_ALLOW_RUNTIME_LORA_UPDATING=True): POST /v1/load_lora_adapter
  {"lora_name", "lora_path"}, POST /v1/unload_lora_adapter {"lora_name"}; /v1/models lists
  each loaded adapter with `parent` set to the base model and `root` its path
  (https://docs.vllm.ai/en/latest/features/lora/, "Dynamically serving LoRA Adapters").
- SGLang (--enable-lora): POST /load_lora_adapter {"lora_name", "lora_path"}, POST
  /unload_lora_adapter {"lora_name"}; its /v1/models lists the served model only
  (python/sglang/srt/entrypoints/http_server.py, `available_models`), so what is loaded is
  what this program loaded since the engine last became healthy.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

REQUEST_TIMEOUT_SECONDS = 300.0
WATCH_PERIOD_SECONDS = 10.0
# What the sidecar's startup probe looks for: the first pass is done.
SYNCED_MARKER = "/tmp/adapters-synced"


class SyncFailed(Exception):
    pass


def _call(url: str, api_key: str | None, body: dict[str, Any] | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = "Bearer " + api_key
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def listed(base: str, api_key: str | None) -> dict[str, str]:
    """Adapters /v1/models lists (vLLM): name -> path."""
    status, body = _call(base + "/v1/models", api_key)
    if status != 200:
        raise SyncFailed(f"GET {base}/v1/models answered {status}: {body[:500]}")
    models = json.loads(body).get("data", [])
    return {m["id"]: str(m.get("root") or "") for m in models if m.get("parent")}


def healthy(base: str, health_path: str) -> bool:
    try:
        return _call(base + health_path, None)[0] == 200
    except OSError:
        return False


def reconcile(
    api: dict[str, Any],
    base: str,
    wanted: dict[str, str],
    known: dict[str, str],
    api_key: str | None = None,
) -> dict[str, str]:
    """Unload what is loaded but not wanted (or at another path), load what is missing.

    `api`: the engine's paths and whether it lists adapters; `known`: what was loaded
    before, for engines that list nothing. Returns what is loaded now; raises SyncFailed
    with the engine's answer when a call fails.
    """
    loaded = dict(known)
    if api["lists_adapters"]:
        # The engine says which are loaded; the path asked for, where known, says from where
        # (a `root` the engine normalised would otherwise look like a moved adapter forever).
        loaded = {name: known.get(name, root) for name, root in listed(base, api_key).items()}
    for name in sorted(loaded):
        if wanted.get(name) != loaded[name]:
            _post(base + api["unload_path"], {"lora_name": name}, api_key, "unload", name)
            del loaded[name]
    for name in sorted(wanted):
        if name in loaded:
            continue
        body = {"lora_name": name, "lora_path": wanted[name]}
        status, answer = _call(base + api["load_path"], api_key, body)
        if status != 200 and not api["lists_adapters"] and name not in known:
            # Loaded before this program's memory began: unload it and load it again.
            _call(base + api["unload_path"], api_key, {"lora_name": name})
            status, answer = _call(base + api["load_path"], api_key, body)
        if status != 200:
            raise SyncFailed(f"load of adapter '{name}' answered {status}: {answer[:500]}")
        loaded[name] = wanted[name]
    return loaded


def _post(url: str, body: dict[str, Any], api_key: str | None, verb: str, name: str) -> None:
    status, answer = _call(url, api_key, body)
    if status != 200:
        raise SyncFailed(f"{verb} of adapter '{name}' answered {status}: {answer[:500]}")


def once(request: dict[str, Any]) -> dict[str, str]:
    """One pass from a JSON request: api, base, wanted, known, api_key_env."""
    key_env = request.get("api_key_env")
    return reconcile(
        request["api"],
        request["base"],
        request["wanted"],
        request.get("known") or {},
        os.environ.get(key_env) if key_env else None,
    )


def watch(path: str, period: float = WATCH_PERIOD_SECONDS, marker: str = SYNCED_MARKER) -> None:
    """Sidecar loop: keep the engine beside it at the set the mounted file names.

    An engine that stops answering its health check has lost what it loaded (a restart):
    what this loop knows is forgotten and loaded again once it is back.
    """
    known: dict[str, str] = {}
    while True:
        try:
            with open(path, encoding="utf-8") as handle:
                config = json.load(handle)
        except FileNotFoundError:
            # No adapters published yet (the ConfigMap is optional): nothing to wait for.
            config = None
            open(marker, "a").close()
        if config is not None:
            base = f"http://127.0.0.1:{config['port']}"
            if not healthy(base, config["api"]["health_path"]):
                known = {}
            else:
                try:
                    key_env = config.get("api_key_env")
                    key = os.environ.get(key_env) if key_env else None
                    known = reconcile(config["api"], base, config["wanted"], known, key)
                    open(marker, "a").close()
                except (SyncFailed, OSError, ValueError) as error:
                    print(f"adapter sync: {error}", file=sys.stderr, flush=True)
        time.sleep(period)


def main(argv: list[str]) -> int:
    if argv[:1] == ["watch"] and 2 <= len(argv) <= 4:
        # The period and marker are for tests; the sidecar keeps the defaults.
        watch(argv[1], *([float(argv[2])] if len(argv) > 2 else []), *argv[3:])
        return 0
    if argv[:1] == ["once"]:
        try:
            print(json.dumps(once(json.load(sys.stdin))))
        except (SyncFailed, OSError) as error:
            print(str(error), file=sys.stderr)
            return 1
        return 0
    print(
        "usage: sync.py watch <config.json> [period [marker]] | once < request.json",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
