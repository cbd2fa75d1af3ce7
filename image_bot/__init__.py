"""image-bot: the GitOps deployment automator (scan -> decide -> edit -> publish)."""

from image_bot.errors import (
    ConfigError,
    ImageBotError,
    InvalidReference,
    ManifestError,
    RegistryError,
)
from image_bot.model import (
    Decision,
    Fact,
    ImageName,
    ImageRef,
    Occurrence,
    OccurrenceKind,
    Part,
    Skipped,
    Span,
    TagFacts,
    TagList,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Decision",
    "Fact",
    "ImageBotError",
    "ImageName",
    "ImageRef",
    "InvalidReference",
    "ManifestError",
    "Occurrence",
    "OccurrenceKind",
    "Part",
    "RegistryError",
    "Skipped",
    "Span",
    "TagFacts",
    "TagList",
    "__version__",
]
