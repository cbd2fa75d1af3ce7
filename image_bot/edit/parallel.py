"""Spread per-file work over processes: parsing is CPU-bound Python, threads would not help."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["MIN_ITEMS_PER_WORKER", "map_chunks"]

T = TypeVar("T")
R = TypeVar("R")
MIN_ITEMS_PER_WORKER = 100  # below this a process costs more than it saves


def map_chunks(func: Callable[[Sequence[T]], R], items: Sequence[T], workers: int) -> list[R]:
    """`func` over consecutive chunks of `items`, in order; in `workers` processes when worth it.

    `func` must be a module-level function (it is pickled). With one worker, or few items,
    everything runs here (and the process machinery is not even imported: ~0.01 s of every
    start-up that a small repository would pay for nothing).
    """
    workers = min(workers, len(items) // MIN_ITEMS_PER_WORKER)
    if workers <= 1:
        return [func(items)]
    size = -(-len(items) // (workers * 4))  # a few chunks per worker evens out big files
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    import multiprocessing  # noqa: PLC0415  (only many files need processes)
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415  (as above)

    method = "fork" if sys.platform == "linux" else "spawn"
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(func, chunks))
