"""Keep the garbage collector's full passes off the request path.

A serving process holds ~600,000 Python objects once its models, BM25 index and web stack are loaded.
CPython's full (generation 2) collection walks all of them: under dense load on the demo corpus it ran
every ~5 s and stopped the server for 380-510 ms each time, which put p99 `/search` latency at ~450 ms
while p95 stayed near 75 ms. Nearly all of those objects live as long as the process, so after startup
they are moved into the collector's permanent generation (`gc.freeze`): later passes walk only what
requests create, and reference cycles among new objects are still collected.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect the startup garbage once, then hide every surviving object from later collections.
    Returns how many objects are frozen now."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def unfreeze_heap() -> None:
    """Give frozen objects back to the collector (at shutdown, so an app built and closed inside a
    longer-lived process, such as a test run, leaves no uncollectable cycles behind)."""
    gc.unfreeze()
