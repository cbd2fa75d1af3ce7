"""How far a change moves: major, minor, patch, pre-release, digest-only, rebuild (pure).

Read from the tags with `versions.parse_tag`, so `v1.2.3-alpine`, `1.25` and Bitnami's
`1.2.3-debian-12-r4` are understood as the policies understand them:

| old -> new                                  | type          |
|---------------------------------------------|---------------|
| same tag (or no tag), another digest        | `digest-only` |
| `2.x` -> `3.0.0` (first release part moves) | `major`       |
| `1.2.x` -> `1.3.0` (second part)            | `minor`       |
| `1.2.3` -> `1.2.4` (any later part)         | `patch`       |
| new tag is a pre-release (`2.0.0-rc.1`)     | `pre-release` |
| same version, new revision or build (`-r5`) | `rebuild`     |
| a tag that is not a version                 | `other`       |

A pre-release turning into the release of the same version (`2.0.0-rc.2` -> `2.0.0`) is a
`patch`: the last step of that version.
"""

from __future__ import annotations

from image_bot.decide.versions import parse_tag
from image_bot.model import ImageRef, UpdateType

__all__ = ["update_type"]


def update_type(old: ImageRef, new: ImageRef) -> UpdateType:
    """The kind of move from `old` to `new` (see the module's table)."""
    if old.tag == new.tag:
        return UpdateType.DIGEST_ONLY
    before = parse_tag(old.tag) if old.tag else None
    after = parse_tag(new.tag) if new.tag else None
    if before is None or after is None:
        return UpdateType.OTHER
    if after.pre:
        return UpdateType.PRERELEASE
    width = max(len(before.release), len(after.release))
    padded_before = before.release + (0,) * (width - len(before.release))
    padded_after = after.release + (0,) * (width - len(after.release))
    for index, (was, now) in enumerate(zip(padded_before, padded_after, strict=True)):
        if was != now:
            return (UpdateType.MAJOR, UpdateType.MINOR)[index] if index < 2 else UpdateType.PATCH
    if before.pre:
        return UpdateType.PATCH
    return UpdateType.REBUILD
