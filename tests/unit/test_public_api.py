"""The package's public surface is explicit and importable."""

from __future__ import annotations

import importlib
import subprocess  # noqa: TID251  (a fresh interpreter shows what an import loads)
import sys

import pytest

import image_bot


def test_exported_members_are_sorted_and_exist() -> None:
    names = [name for name in image_bot.__all__ if name != "__version__"]
    assert names == sorted(names)
    for name in image_bot.__all__:
        assert hasattr(image_bot, name), name
    public = {n for n in vars(image_bot) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(image_bot.__all__)


def test_names_load_on_first_use() -> None:
    """`import image_bot` loads no stage: each public name's module loads when it is used."""
    code = (
        "import sys, image_bot\n"
        "before = sorted(m for m in sys.modules if m.startswith('image_bot.'))\n"
        "image_bot.Policy\n"
        "print(before, 'image_bot.decide.policies' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["[]", "True"], done.stderr


def test_every_name_is_its_module_object() -> None:
    for name in image_bot.__all__:
        if name == "__version__":
            continue
        module = importlib.import_module(image_bot._MODULE_OF[name])
        assert getattr(image_bot, name) is getattr(module, name), name
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        image_bot.Nope  # type: ignore[attr-defined]  # noqa: B018
