"""Process-wide tuning the service applies once it has started."""

import gc

_tuned = False


def tune_garbage_collector(generation0_threshold: int) -> None:
    """Freeze start-up objects and collect generation 0 after `generation0_threshold`
    allocations (once per process); 0 leaves Python's collector as it is."""
    global _tuned
    if _tuned or not generation0_threshold:
        return
    _tuned = True
    gc.collect()
    gc.freeze()  # modules, routes and code lists live as long as the process
    _, generation1, generation2 = gc.get_threshold()
    gc.set_threshold(generation0_threshold, generation1, generation2)
