"""Python's cyclic garbage collector kept out of the way of large plain data.

Reading a large cluster, a large draft or a large answer of the API server builds millions of
dicts, lists and small objects and no reference cycle. Left running, the collector starts a
collection every few hundred allocations that walks the young objects, and every so often all
of them, finding nothing: reading a 100 MB snapshot takes three times as long. And once the
reading is done, what it built and kept (a parsed cluster, the caches of a review) would be
walked again by the next young collections, once per generation: a tenth of a second for a
review of a 1 MiB policy.

`collector_paused()` pauses the collector while such data is built. When the outermost pause
ends having built at least PROMOTED_FROM objects, every object alive moves into the oldest
generation without being walked (freeze, then unfreeze); a reference cycle made meanwhile is
not lost, the next full collection (which the collector still starts as it always does) finds
it. A pause that built less leaves its objects young, to the collector's usual course.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Objects a pause must have built (net of those freed) for them to join the oldest generation
# unwalked: a large read. Below, the young collections that follow cost little.
PROMOTED_FROM = 50_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside; after a large build, the objects alive at its end join
    the oldest generation (see the module). Nested or concurrent pauses are one: only the
    one that paused the collector resumes it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] >= PROMOTED_FROM:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
