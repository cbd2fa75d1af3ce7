"""Pull requests someone asked to rebuild (`/image-bot rebase`), for the passes run meanwhile.

The service's pass runner takes only a Config, so the request travels beside it, in a context
variable set around the call by the thread that runs the pass:

    with rebuild_requested({("acme/deploy", 12)}):
        run_pass(config, ...)

Those pull requests get their branch rebuilt from the current base even when up to date.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["rebuild_requested", "requested_rebuilds"]

_REQUESTED: ContextVar[frozenset[tuple[str, int]]] = ContextVar(
    "image_bot_rebuild", default=frozenset()
)


@contextmanager
def rebuild_requested(pull_requests: Collection[tuple[str, int]]) -> Iterator[None]:
    """Within the block, passes rebuild these (project, pull request number) pairs."""
    token = _REQUESTED.set(_REQUESTED.get() | frozenset(pull_requests))
    try:
        yield
    finally:
        _REQUESTED.reset(token)


def requested_rebuilds() -> frozenset[tuple[str, int]]:
    """The (project, pull request number) pairs to rebuild in the current pass."""
    return _REQUESTED.get()
