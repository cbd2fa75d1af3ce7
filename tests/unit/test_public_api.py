"""The package's public surface is explicit and importable."""

from __future__ import annotations

import image_bot


def test_exported_members_are_sorted_and_exist() -> None:
    names = [name for name in image_bot.__all__ if name != "__version__"]
    assert names == sorted(names)
    for name in image_bot.__all__:
        assert hasattr(image_bot, name), name
    public = {n for n in vars(image_bot) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(image_bot.__all__)
