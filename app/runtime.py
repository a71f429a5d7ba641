"""Process-wide settings the service applies once it has started."""

import gc

# CPython collects generation 0 after 700 net allocations of containers. Reading a
# kommuneplan allocates hundreds of thousands of lists and dicts (one per coordinate pair),
# which at 700 set off full collections that each walk every object in the process: 25 %
# of checking a 3,000-area plan (bench/README.md). The older generations keep their ratios.
GENERATION0_THRESHOLD = 50_000

_tuned = False


def tune_garbage_collector() -> None:
    """Exempt start-up objects from collection and collect cyclic garbage less often (once)."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()
    gc.freeze()  # modules, routes and code lists live as long as the process
    gc.set_threshold(GENERATION0_THRESHOLD, 10, 10)
