"""A repository's memory (ignores, holds, pins from its dashboard) applied to its policies.

- ignored globs join the policy's `ignore` list;
- a pin replaces the policy by one that allows exactly the pinned tag (a downgrade too,
  no age gate: a person chose it), keeping its digest mode and platforms;
- a held image is decided as usual but changes nothing (`held`): its open pull requests
  are kept as they are, and nothing new is opened for it; its promotions wait too.
"""

from __future__ import annotations

import dataclasses
import re

from image_bot.config import Config
from image_bot.decide.build import FilterSettings, PolicySettings
from image_bot.model import Occurrence
from image_bot.publish.steering.memory import Memory

__all__ = ["held", "remembered_settings"]


def remembered_settings(
    config: Config, occurrence: Occurrence, memory: Memory | None
) -> PolicySettings:
    """The policy of `occurrence` with its repository's `memory` applied."""
    settings = config.policy_for(occurrence.ref.name, occurrence.policy).settings()
    if memory is None:
        return settings
    image = str(occurrence.ref.name)
    pinned = memory.pinned(image)
    if pinned is not None:
        return PolicySettings(
            alphabetical="asc",
            filter=FilterSettings(pattern=f"^{re.escape(pinned)}$"),
            digest="pin" if settings.digest == "follow" else settings.digest,
            platforms=settings.platforms,
            allow_downgrade=True,
        )
    ignored = memory.ignored(image)
    if ignored:
        return dataclasses.replace(settings, ignore=(*settings.ignore, *ignored))
    return settings


def held(occurrence: Occurrence, memory: Memory | None) -> bool:
    """Whether the repository's memory holds `occurrence`'s image."""
    return memory is not None and str(occurrence.ref.name) in memory.holds
