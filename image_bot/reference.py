"""Parse, normalize and format distribution references (ImageName, ImageRef).

Follows the grammar of github.com/distribution/reference: `[domain/]path[:tag][@digest]`.
Normalization matches docker's: no domain means `docker.io`, a single Docker Hub path
component gets `library/`, and `index.docker.io` is `docker.io`. The spelling the user
wrote is kept in `ImageRef.text` so rewrites never expand short names.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from image_bot.errors import InvalidReference
from image_bot.model import ImageName, ImageRef

__all__ = [
    "DOCKER_HUB",
    "is_valid_digest",
    "is_valid_tag",
    "name_matches",
    "name_spellings",
    "parse_name",
    "parse_reference",
    "split_reference",
    "validate_tag",
    "with_tag",
]

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_MAX_NAME = 255

_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)


def is_valid_tag(tag: str) -> bool:
    """True when `tag` matches `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`."""
    return _TAG.fullmatch(tag) is not None


def is_valid_digest(digest: str) -> bool:
    """True when `digest` reads `algorithm:hex` (`sha256:` and 32 or more hex digits)."""
    return _DIGEST.fullmatch(digest) is not None


def validate_tag(tag: str) -> str:
    """Return `tag` or raise InvalidReference."""
    if not is_valid_tag(tag):
        raise InvalidReference(tag, "a tag is 1-128 of [A-Za-z0-9_.-] and cannot start with . or -")
    return tag


def split_reference(text: str) -> tuple[str, str | None, str | None]:
    """Split `name[:tag][@digest]` into its three texts without validating them."""
    name, _, digest = text.partition("@")
    tag: str | None = None
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, (digest if "@" in text else None)


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and (any(c in first for c in ".:") or first == "localhost" or first != first.lower()):
        return first, rest
    return DOCKER_HUB, name


def parse_name(text: str) -> ImageName:
    """Parse and normalize a repository name (no tag, no digest)."""
    if not text:
        raise InvalidReference(text, "empty name")
    if len(text) > _MAX_NAME:
        raise InvalidReference(text, f"name longer than {_MAX_NAME} characters")
    domain, path = _split_domain(text)
    if not _DOMAIN.fullmatch(domain):
        raise InvalidReference(text, f"invalid registry host {domain!r}")
    for component in path.split("/"):
        if not _COMPONENT.fullmatch(component):
            why = (
                "repository names must be lowercase"
                if component.lower() != component
                else f"invalid path component {component!r}"
            )
            raise InvalidReference(text, why)
    if domain in _DOCKER_HUB_ALIASES:
        domain = DOCKER_HUB
        if "/" not in path:
            path = f"library/{path}"
    return ImageName(registry=domain, repository=path)


def parse_reference(text: str) -> ImageRef:
    """Parse `name[:tag][@digest]` into an ImageRef that remembers `text`."""
    stripped = text.strip()
    if stripped != text or not text:
        raise InvalidReference(text, "empty or surrounded by whitespace")
    name_text, tag, digest = split_reference(text)
    name = parse_name(name_text)
    if tag is not None:
        validate_tag(tag)
    if digest is not None and not _DIGEST.fullmatch(digest):
        raise InvalidReference(text, f"invalid digest {digest!r}")
    return ImageRef(name=name, tag=tag, digest=digest, text=text)


def with_tag(ref: ImageRef, tag: str | None, digest: str | None = None) -> ImageRef:
    """A new ImageRef with another tag/digest, spelled with the same name text as `ref`."""
    name_text = split_reference(ref.text)[0] if ref.text else str(ref.name)
    text = name_text
    if tag is not None:
        text += f":{validate_tag(tag)}"
    if digest is not None:
        text += f"@{digest}"
    return ImageRef(name=ref.name, tag=tag, digest=digest, text=text)


def name_spellings(name: ImageName) -> tuple[str, ...]:
    """The ways a config may spell `name`: `docker.io/library/nginx`, `library/nginx`, `nginx`
    (Docker Hub), `ghcr.io/acme/api` (elsewhere)."""
    spellings = [str(name)]
    if name.registry == DOCKER_HUB:
        spellings.append(name.repository)
        if name.repository.startswith("library/"):
            spellings.append(name.repository.removeprefix("library/"))
    return tuple(spellings)


def name_matches(name: ImageName, pattern: str) -> bool:
    """Whether the glob `pattern` matches any spelling of `name` (`name_spellings`)."""
    return any(fnmatchcase(spelling, pattern) for spelling in name_spellings(name))
