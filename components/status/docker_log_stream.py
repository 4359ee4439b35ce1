"""The body of `GET /containers/{id}/logs`, as text.

Without a TTY the Engine API multiplexes stdout and stderr into one stream of frames: an
8-byte header (stream type 0, 1 or 2; three zero bytes; the payload size as a big-endian
32-bit number) and the payload. With a TTY the body is the raw terminal output.
"""

from __future__ import annotations

import re

HEADER_SIZE = 8
STREAM_TYPES = frozenset({0, 1, 2})  # stdin, stdout, stderr
PADDING = b"\x00\x00\x00"


# Terminal colours and cursor moves engines write (llama.cpp, uvicorn): not evidence.
ANSI_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def log_text(body: bytes, tty: bool) -> str:
    payload = body if tty else demultiplex(body)
    return without_ansi(payload.decode("utf-8", errors="replace"))


def without_ansi(text: str) -> str:
    return ANSI_ESCAPE.sub("", text)


def demultiplex(body: bytes) -> bytes:
    """The frames' payloads in order (both streams interleaved as the engine wrote them).

    A body that does not start with a frame header is returned as it is: some logging
    drivers and proxies hand back raw text even for containers without a TTY.
    """
    if not _is_header(body, 0):
        return body
    chunks = []
    offset = 0
    while offset + HEADER_SIZE <= len(body) and _is_header(body, offset):
        size = int.from_bytes(body[offset + 4 : offset + HEADER_SIZE], "big")
        start = offset + HEADER_SIZE
        # A tail cut mid-frame (a size limit, a closed connection) keeps what arrived.
        chunks.append(body[start : start + size])
        offset = start + size
    return b"".join(chunks)


def _is_header(body: bytes, offset: int) -> bool:
    return (
        len(body) >= offset + HEADER_SIZE
        and body[offset] in STREAM_TYPES
        and body[offset + 1 : offset + 4] == PADDING
    )
