"""State that outlives a pass: the state file (`store`), the registries it backs, and the
source releases it caches (`releases`).

Everything here is optional: without a state file the bot still works, and the report says
what suffers.
"""

from image_bot.state.registries import CachingRegistry, RememberedFacts, Settled, listing_hash
from image_bot.state.releases import CachedReleases
from image_bot.state.store import KnownDigest, Remembered, StateError, StateStore

__all__ = [
    "CachedReleases",
    "CachingRegistry",
    "KnownDigest",
    "Remembered",
    "RememberedFacts",
    "Settled",
    "StateError",
    "StateStore",
    "listing_hash",
]
