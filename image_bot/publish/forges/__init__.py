"""Forge plug-ins, one package each, listed in FORGE_KINDS (explicit: no import-time registry).

Importing this table is cheap: each kind loads its API client (PyGithub, python-gitlab) only
when it opens an adapter. Adding a forge: its package with a `kind.py`, a line here, and
its API in the fake forge (docs/forges.md, "Adding a forge").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from image_bot.publish.forge_kind import ForgeKind
from image_bot.publish.forges.github.kind import GitHubKind
from image_bot.publish.forges.gitlab.kind import GitLabKind
from image_bot.publish.forges.local.kind import LocalKind

__all__ = ["FORGE_KINDS"]

FORGE_KINDS: Mapping[str, ForgeKind] = MappingProxyType(
    {
        "github": GitHubKind(),
        "gitlab": GitLabKind(),
        "local": LocalKind(),
    }
)
