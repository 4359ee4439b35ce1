"""The garbage collector setting of a short-lived process that builds a large object graph:
the Pulumi program (`pulumi up`, the offline render) and the `modelstack` CLI."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Gen-1 collections before a full one: in effect never (a C int).
_NO_FULL_COLLECTIONS = 2**31 - 1


def skip_full_garbage_collections() -> None:
    """No full garbage collections for the rest of this process; young ones go on.

    Each resource's Outputs, futures and tasks live until the program ends, so a full
    collection walks the whole, growing heap to free little of it: half the run at 500
    deployments, more per object the larger the stack. Young collections still free the
    short-lived cycles the SDK makes per value. Figures: docs/performance.md.
    """
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, _NO_FULL_COLLECTIONS)


@contextmanager
def full_collections_skipped() -> Iterator[None]:
    """`skip_full_garbage_collections` for a block; the caller's setting comes back after
    (the CLI's `main` also runs inside longer-lived processes: tests)."""
    thresholds = gc.get_threshold()
    skip_full_garbage_collections()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
