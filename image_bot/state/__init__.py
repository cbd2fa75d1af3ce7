"""State that outlives a pass: the state store (`store`, in SQLite or PostgreSQL) and the
registries it backs.

Everything here is optional: without state the bot still works, and the report says what
suffers.
"""

from image_bot.state.database import StateError
from image_bot.state.registries import CachingRegistry, RememberedFacts, listing_hash
from image_bot.state.store import KnownDigest, Remembered, StateStore

__all__ = [
    "CachingRegistry",
    "KnownDigest",
    "Remembered",
    "RememberedFacts",
    "StateError",
    "StateStore",
    "listing_hash",
]
