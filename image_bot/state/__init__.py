"""State that outlives a pass: the state file (`store`) and the registries it backs.

Everything here is optional: without a state file the bot still works, and the report says
what suffers.
"""

from image_bot.state.registries import CachingRegistry, RememberedFacts, listing_hash
from image_bot.state.store import KnownDigest, Remembered, StateError, StateStore

__all__ = [
    "CachingRegistry",
    "KnownDigest",
    "Remembered",
    "RememberedFacts",
    "StateError",
    "StateStore",
    "listing_hash",
]
