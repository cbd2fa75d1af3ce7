"""State that outlives a pass: the state store (`store`, in SQLite or PostgreSQL), the
registries it backs, and the source releases it caches (`releases`).

Everything here is optional: without state the bot still works, and the report says what
suffers.
"""

from image_bot.state.database import StateError
from image_bot.state.registries import CachingRegistry, RememberedFacts, Settled, listing_hash
from image_bot.state.releases import CachedReleases
from image_bot.state.store import KnownDigest, Remembered, StateStore

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
