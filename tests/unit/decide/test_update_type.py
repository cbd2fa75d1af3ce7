"""Update types from old and new tags, as the policies read versions."""

from __future__ import annotations

import pytest

from image_bot.decide.update_type import update_type
from image_bot.model import UpdateType
from image_bot.reference import parse_reference


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("nginx:1.25.3", "nginx:2.0.0", UpdateType.MAJOR),
        ("nginx:1.25.3", "nginx:1.27.0", UpdateType.MINOR),
        ("nginx:1.25", "nginx:1.27", UpdateType.MINOR),
        ("nginx:1.25.3", "nginx:1.25.4", UpdateType.PATCH),
        ("app:1.0.0.1", "app:1.0.0.2", UpdateType.PATCH),
        ("app:v1.2.3-alpine", "app:v1.3.0-alpine", UpdateType.MINOR),
        ("app:1.2.3", "app:2.0.0-rc.1", UpdateType.PRERELEASE),
        ("app:2.0.0-rc.1", "app:2.0.0", UpdateType.PATCH),
        ("redis:7.2.4-debian-12-r3", "redis:7.2.4-debian-12-r5", UpdateType.REBUILD),
        ("app:2024.01.15", "app:2024.02.01", UpdateType.MINOR),
        ("app:main-3f2a9c1", "app:main-77b0e12", UpdateType.OTHER),
        (f"nginx:1.27@sha256:{'1' * 64}", f"nginx:1.27@sha256:{'2' * 64}", UpdateType.DIGEST_ONLY),
        (f"nginx@sha256:{'1' * 64}", f"nginx@sha256:{'2' * 64}", UpdateType.DIGEST_ONLY),
    ],
)
def test_update_types(old: str, new: str, kind: UpdateType) -> None:
    assert update_type(parse_reference(old), parse_reference(new)) is kind


def test_the_config_names_every_update_type() -> None:
    from typing import get_args

    from image_bot.config.repository import UpdateTypeName

    assert set(get_args(UpdateTypeName)) == {kind.value for kind in UpdateType}
