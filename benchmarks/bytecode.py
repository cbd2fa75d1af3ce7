"""Compile image_bot's bytecode before timing it, as `pip install` does.

With PYTHONDONTWRITEBYTECODE set (it is on the development machines) nothing writes
`__pycache__`, and every process would compile the package from source again: ~0.4 s of
start-up that an installed image-bot never pays.
"""

from __future__ import annotations

import compileall
import importlib.util
from pathlib import Path

__all__ = ["ensure_bytecode"]


def ensure_bytecode() -> None:
    """Write missing or stale `.pyc` files of the image_bot package."""
    spec = importlib.util.find_spec("image_bot")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("image_bot is not importable")
    for location in spec.submodule_search_locations:
        compileall.compile_dir(Path(location), quiet=1)
