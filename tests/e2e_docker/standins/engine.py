"""Entrypoint of the engine stand-in image: an engine's flags, the fake engine behind them.

It takes the command line modelstack renders for llama.cpp (`-m FILE --alias NAME --host H
--port P ...`) or vLLM (`--model M --served-model-name NAME ...`), refuses to start without its
model file as a real engine does, serves the OpenAI-compatible API on 0.0.0.0, and on SIGTERM
stops taking requests and finishes the ones in flight within the stop grace.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_engine import FakeEngine

# Docker's stop grace is 30 s (docker/containers.py): finish well within it.
DRAIN_SECONDS = 25.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-m", "--model")
    parser.add_argument("--alias", "--served-model-name", dest="served_name")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    args, _ = parser.parse_known_args(argv)
    if args.model and args.model.startswith("/") and not os.path.exists(args.model):
        print(f"error: failed to open GGUF file '{args.model}'", file=sys.stderr, flush=True)
        return 1
    served = args.served_name or args.model or "model"
    # The container's hostname (its short id) tells which engine answered.
    engine = FakeEngine(socket.gethostname(), args.port, host=args.host, served_name=served)
    engine.start()
    print(f"server is listening on http://{args.host}:{args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
    print(f"SIGTERM: finishing {engine.active} request(s)", flush=True)
    engine.drain(DRAIN_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
