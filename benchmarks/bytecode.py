"""Compile the bytecode of image_bot and of the libraries it runs on before timing it, as
`pip install` does.

With PYTHONDONTWRITEBYTECODE set (it is on the development machines) nothing writes
`__pycache__`, and every process would compile from source again whatever has no bytecode
yet: image_bot itself (~0.4 s), and the dependencies too when the environment was made by
`uv sync`, which (unlike pip) writes no bytecode unless asked (`--compile-bytecode`):
pydantic, httpx, ruamel.yaml and the rest cost every fresh process another ~0.2 s that an
installed image-bot never pays.

That is the honest figure for an install, not the only one: `--bytecode none` in the
benchmarks that start processes times them with no bytecode at all (`PYTHONPYCACHEPREFIX`
names an empty directory and nothing is written there), as an environment without `.pyc`
files runs: every process compiles what it imports.
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import sysconfig
import tempfile
from pathlib import Path

__all__ = ["BYTECODE_MODES", "bytecode_env", "ensure_bytecode"]

BYTECODE_MODES = ("installed", "none")


def ensure_bytecode() -> None:
    """Write missing or stale `.pyc` files of the image_bot package and its environment."""
    spec = importlib.util.find_spec("image_bot")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("image_bot is not importable")
    for location in spec.submodule_search_locations:
        compileall.compile_dir(Path(location), quiet=1)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    compileall.compile_dir(site_packages, quiet=1, workers=0)  # what pip install writes


def bytecode_env(mode: str) -> dict[str, str]:
    """The environment for timed processes: `installed` (bytecode written first, as pip
    does) or `none` (no process finds or writes any bytecode)."""
    if mode == "installed":
        ensure_bytecode()
        return dict(os.environ)
    if mode != "none":
        raise ValueError(f"bytecode mode {mode!r}: one of {', '.join(BYTECODE_MODES)}")
    empty = tempfile.mkdtemp(prefix="image-bot-no-bytecode-")
    return {**os.environ, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}
