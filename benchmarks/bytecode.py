"""Compile the bytecode of image_bot and of the libraries it runs on before timing it, as
`pip install` does.

With PYTHONDONTWRITEBYTECODE set (it is on the development machines) nothing writes
`__pycache__`, and every process would compile from source again whatever has no bytecode
yet: image_bot itself (~0.4 s), and the dependencies too when the environment was made by
`uv sync`, which (unlike pip) writes no bytecode unless asked (`--compile-bytecode`):
pydantic, httpx, ruamel.yaml and the rest cost every fresh process another ~0.2 s that an
installed image-bot never pays.
"""

from __future__ import annotations

import compileall
import importlib.util
import sysconfig
from pathlib import Path

__all__ = ["ensure_bytecode"]


def ensure_bytecode() -> None:
    """Write missing or stale `.pyc` files of the image_bot package and its environment."""
    spec = importlib.util.find_spec("image_bot")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("image_bot is not importable")
    for location in spec.submodule_search_locations:
        compileall.compile_dir(Path(location), quiet=1)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    compileall.compile_dir(site_packages, quiet=1, workers=0)  # what pip install writes
