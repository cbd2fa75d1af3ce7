"""image-bot: the GitOps deployment automator (scan -> decide -> edit -> publish).

The public surface: the values that cross stages, the plug-in protocols and the errors.
Each name is imported on first use (PEP 562), so `import image_bot` (and the command line's
start-up) does not load every stage.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from image_bot.decide.policies import Policy
    from image_bot.edit.finders import Finder
    from image_bot.errors import (
        ConfigError,
        ForgeAuthError,
        ForgeError,
        GitError,
        ImageBotError,
        ImageNotFound,
        InvalidReference,
        ManifestError,
        PullRequestConflict,
        PushRejected,
        RateLimited,
        RegistryAuthError,
        RegistryError,
        RegistryUnavailable,
    )
    from image_bot.model import (
        Change,
        ChangeDetails,
        CheckState,
        Comment,
        Decision,
        Edit,
        Fact,
        FileChange,
        ImageName,
        ImageRef,
        Issue,
        Occurrence,
        OccurrenceKind,
        Part,
        Promotion,
        PullRequest,
        PullRequestState,
        ReleaseNote,
        ReleaseNotes,
        ScanFailure,
        ScanResult,
        Skipped,
        Span,
        StageVersion,
        TagFacts,
        TagList,
        UpdatePlan,
        UpdateType,
        Waiting,
    )
    from image_bot.publish.forge import Forge, PullRequestDraft
    from image_bot.report import BranchReport, ImageFailure, Outcome, RepositoryReport, RunReport
    from image_bot.scan.registry import Registry

__version__ = "0.1.0"

__all__ = [
    "BranchReport",
    "Change",
    "ChangeDetails",
    "CheckState",
    "Comment",
    "ConfigError",
    "Decision",
    "Edit",
    "Fact",
    "FileChange",
    "Finder",
    "Forge",
    "ForgeAuthError",
    "ForgeError",
    "GitError",
    "ImageBotError",
    "ImageFailure",
    "ImageName",
    "ImageNotFound",
    "ImageRef",
    "InvalidReference",
    "Issue",
    "ManifestError",
    "Occurrence",
    "OccurrenceKind",
    "Outcome",
    "Part",
    "Policy",
    "Promotion",
    "PullRequest",
    "PullRequestConflict",
    "PullRequestDraft",
    "PullRequestState",
    "PushRejected",
    "RateLimited",
    "Registry",
    "RegistryAuthError",
    "RegistryError",
    "RegistryUnavailable",
    "ReleaseNote",
    "ReleaseNotes",
    "RepositoryReport",
    "RunReport",
    "ScanFailure",
    "ScanResult",
    "Skipped",
    "Span",
    "StageVersion",
    "TagFacts",
    "TagList",
    "UpdatePlan",
    "UpdateType",
    "Waiting",
    "__version__",
]

# Where each public name lives: imported on first use.
_HOMES = {
    "image_bot.decide.policies": ("Policy",),
    "image_bot.edit.finders": ("Finder",),
    "image_bot.errors": (
        "ConfigError", "ForgeAuthError", "ForgeError", "GitError", "ImageBotError",
        "ImageNotFound", "InvalidReference", "ManifestError", "PullRequestConflict",
        "PushRejected", "RateLimited", "RegistryAuthError", "RegistryError",
        "RegistryUnavailable",
    ),
    "image_bot.model": (
        "Change", "ChangeDetails", "CheckState", "Comment", "Decision", "Edit", "Fact",
        "FileChange", "ImageName", "ImageRef", "Issue", "Occurrence", "OccurrenceKind", "Part",
        "Promotion", "PullRequest", "PullRequestState", "ReleaseNote", "ReleaseNotes",
        "ScanFailure", "ScanResult", "Skipped", "Span", "StageVersion", "TagFacts", "TagList",
        "UpdatePlan", "UpdateType", "Waiting",
    ),
    "image_bot.publish.forge": ("Forge", "PullRequestDraft"),
    "image_bot.report": (
        "BranchReport", "ImageFailure", "Outcome", "RepositoryReport", "RunReport",
    ),
    "image_bot.scan.registry": ("Registry",),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> object:
    """Import a public name's module on first use, and keep the name here."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'image_bot' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
