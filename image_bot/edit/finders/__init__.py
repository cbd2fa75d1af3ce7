"""Finder protocol + FINDERS tuple (explicit, ordered: the first finder to claim a scalar wins)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Protocol

from image_bot.edit.finders.ci import (
    CI_KINDS,
    DroneFinder,
    GitHubActionsFinder,
    GitLabCIFinder,
    WoodpeckerFinder,
)
from image_bot.edit.finders.compose import ComposeFinder
from image_bot.edit.finders.helm import HelmValuesFinder, ImageFieldFinder
from image_bot.edit.finders.helm_templates import HelmTemplateFinder
from image_bot.edit.finders.kubernetes import KubernetesFinder
from image_bot.edit.finders.kustomize import ArgoCDFinder, KustomizeFinder
from image_bot.edit.finders.setters import SetterFinder
from image_bot.edit.yaml.document import YamlDocument
from image_bot.model import Occurrence, Skipped

__all__ = ["CI_KINDS", "FINDERS", "TEXT_FINDERS", "Finder", "TextFinder", "finders_for"]


class Finder(Protocol):
    """Finds image references in one parsed document; never sees the disk or the config.

    It yields an Occurrence per reference and a Skipped per image field it must not touch
    (templated values, say). `find.py` runs every finder on every document.
    """

    kind: ClassVar[str]

    def find(self, document: YamlDocument) -> Iterator[Occurrence | Skipped]:
        """The references in `document`, in document order."""
        ...


class TextFinder(Protocol):
    """Reads a file that is not YAML as text (a Helm template), line by line.

    The first text finder that `applies` to a file reads it instead of the YAML finders: asked
    before parsing, and again (`not_yaml`) when the file does not parse as YAML.
    """

    kind: ClassVar[str]

    def applies(self, path: str, text: str, *, not_yaml: bool) -> bool:
        """Whether this finder, not the YAML finders, reads `path`."""
        ...

    def find_text(self, path: str, text: str) -> Iterator[Occurrence | Skipped]:
        """The references in `text`, in file order."""
        ...


TEXT_FINDERS: tuple[TextFinder, ...] = (HelmTemplateFinder(),)

FINDERS: tuple[Finder, ...] = (
    SetterFinder(),
    GitHubActionsFinder(),
    GitLabCIFinder(),
    WoodpeckerFinder(),
    DroneFinder(),
    KubernetesFinder(),
    KustomizeFinder(),
    ArgoCDFinder(),
    ComposeFinder(),
    HelmValuesFinder(),
    ImageFieldFinder(),
)


def finders_for(*, ci_files: bool = True) -> tuple[Finder, ...]:
    """The finders a repository uses: all of them, or all but the CI files' ones."""
    return FINDERS if ci_files else tuple(f for f in FINDERS if f.kind not in CI_KINDS)
