"""Versions people told the bot to skip (`/image-bot ignore ...`), kept in the state directory.

An ignore becomes a tag glob on one image (`1.27.1`, `1.27.*`, `2.*`). `apply` folds the
globs into the config the next pass sees: the image gets an `images` entry, placed first, whose
policy is its current policy plus those globs. Flux-marker policies name their policy
explicitly and win over `images` entries, so an ignore does not reach those references.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path

from image_bot.config import Config, ImageSpec
from image_bot.errors import ImageBotError
from image_bot.github_app.webhooks import CommandVerb
from image_bot.reference import parse_name, parse_reference

__all__ = ["FILE_NAME", "IgnoreList", "ignore_globs"]

log = logging.getLogger(__name__)

_VERSION = re.compile(r"^(?P<prefix>[^0-9]*)(?P<major>\d+)(?:\.(?P<minor>\d+))?")
FILE_NAME = "ignores.json"


def ignore_globs(tag: str, verb: CommandVerb) -> tuple[str, ...]:
    """The tag globs that `verb` means for a proposal of `tag` (`v1.27.1`, minor: `v1.27.*`)."""
    match = _VERSION.match(tag)
    if verb is CommandVerb.IGNORE_VERSION or match is None:
        return (tag,)
    prefix, major, minor = match.group("prefix", "major", "minor")
    if verb is CommandVerb.IGNORE_MINOR and minor is not None:
        series = f"{prefix}{major}.{minor}"
    elif verb is CommandVerb.IGNORE_MAJOR:
        series = f"{prefix}{major}"
    else:
        return (tag,)
    return (series, f"{series}.*", f"{series}-*")


class IgnoreList:
    """Image -> ignored tag globs; saved as JSON in `path` (None: memory only)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._globs: dict[str, list[str]] = {}
        self.reload()

    def reload(self) -> None:
        """Read the file again (after someone edited it); unreadable: keep what we have."""
        if self._path is None or not self._path.is_file():
            return
        try:
            loaded = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.warning("ignore list unreadable", extra={"error": str(error)})
            return
        if isinstance(loaded, dict):
            globs = {
                str(image): [str(glob) for glob in patterns]
                for image, patterns in loaded.items()
                if isinstance(patterns, list)
            }
            with self._lock:
                self._globs = globs

    def globs(self, image: str) -> tuple[str, ...]:
        """The globs ignored for the canonical image name `image`."""
        with self._lock:
            return tuple(self._globs.get(image, ()))

    def add(self, proposals: tuple[str, ...], verb: CommandVerb) -> list[str]:
        """Ignore what `proposals` (canonical refs from a PR marker) propose; returns them."""
        added: list[str] = []
        with self._lock:
            for proposal in proposals:
                try:
                    ref = parse_reference(proposal)
                except ImageBotError:
                    continue
                if ref.tag is None:
                    continue
                known = self._globs.setdefault(str(ref.name), [])
                for glob in ignore_globs(ref.tag, verb):
                    if glob not in known:
                        known.append(glob)
                        added.append(f"{ref.name}:{glob}")
            if added:
                self._save()
        return added

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_suffix(".tmp")
        partial.write_text(json.dumps(self._globs, indent=2, sort_keys=True), encoding="utf-8")
        partial.replace(self._path)

    def apply(self, config: Config) -> Config:
        """`config` with each ignored image's policy extended by its globs."""
        with self._lock:
            ignored = {image: tuple(globs) for image, globs in self._globs.items() if globs}
        if not ignored:
            return config
        entries = []
        for image, globs in sorted(ignored.items()):
            policy = config.policy_for(parse_name(image))
            extended = policy.model_copy(update={"ignore": (*policy.ignore, *globs)})
            entries.append(ImageSpec(name=image, policy=extended))
        return config.model_copy(update={"images": (*entries, *config.images)})
