"""TagVersion: a docker tag read as a version (semver, partial, v-prefix, variant, calver...).

```
tag       := [v] release [glued-pre] [ "-" pre ] [ "-" variant ] [ "-r" revision ] [ "+" build ]
release   := number ( "." number )*          1, 1.25, 1.25.3, 2024.01.15, 20240115, 1.0.0.1
glued-pre := letters [alnum]                 3.8.0b1, 1.0rc2 (PEP 440 style, read with packaging)
pre       := a pre-release word first        -rc.1, -beta5, -alpha.0.18.g1abb7b5, -0, -20240101
variant   := anything else, kept verbatim    -alpine, -alpine3.19, -debian-12, -bookworm
revision  := Bitnami-style rebuild counter   -r4 (1.2.3-debian-12-r4 > 1.2.3-debian-12-r3)
```

A tag only moves within its variant: `1.25.3-alpine` may become `1.27.0-alpine`, never
`1.27.0` or `1.27.0-bookworm`. Versions compare like SemVer with missing parts as 0
(`1.2` == `1.2.0` < `1.2.3`, `18.04` == `18.4`); the revision breaks ties after the version.
Git-SHA-like tags (7-40 lowercase hex characters, not all digits) are not versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from packaging.version import InvalidVersion, Version

from image_bot.decide.semver import PreKey, SemVer, prerelease_key

__all__ = [
    "TAG_LINES",
    "TagVersion",
    "glued_prerelease",
    "is_git_sha",
    "key_of",
    "parse_tag",
    "split_suffix",
]

# The suffix cannot contain `+`: it ends where the build metadata starts, or at the end.
_VERSION = (
    r"(?P<prefix>[vV]?)(?P<release>[0-9]+(?:\.[0-9]+)*)(?P<glued>[A-Za-z][A-Za-z0-9]*)?"
    r"(?:-(?P<suffix>[0-9A-Za-z_.-]+))?"
)
_TAG = re.compile(rf"{_VERSION}(?:\+(?P<build>[0-9A-Za-z.-]+))?")
# The same grammar over many tags joined by newlines: `findall` yields one row per line,
# (prefix, release, glued, suffix), "" for absent parts and all "" for a non-version (a
# version has a release). Four groups, not five: the tuples are most of the work.
TAG_LINES = re.compile(rf"^(?:{_VERSION}(?:\+[0-9A-Za-z.-]+)?|.*)$", re.MULTILINE)
_GIT_SHA = re.compile(r"[0-9a-f]{7,40}")
_PRE_WORD = re.compile(
    r"(?:alpha|beta|rc|pre|preview|dev|snapshot|nightly|canary|next|milestone|insiders|ea|a|b|c|m)"
    r"[0-9]*(?:\.[0-9A-Za-z-]+)*",
    re.IGNORECASE,
)
_REVISION = re.compile(r"r([0-9]+)")
_RUNS = re.compile(r"[0-9]+|[^0-9]+")


@lru_cache(maxsize=4096)
def glued_prerelease(release: str, glued: str) -> tuple[str, ...]:
    """`3.8.0` + `b1` -> ('b', '1'): PEP 440 spellings (alpha, c, pre) are normalised."""
    try:
        version = Version(release + glued)
    except InvalidVersion:
        version = None
    if version is not None and version.pre and not (version.post or version.dev or version.local):
        letter, number = version.pre
        return (letter, str(number))
    return tuple(_RUNS.findall(glued))


@lru_cache(maxsize=4096)
def split_suffix(suffix: str) -> tuple[tuple[str, ...], str, int | None]:
    """`rc.1-alpine-r4` -> (('rc', '1'), 'alpine', 4)."""
    segments = suffix.split("-")
    revision = None
    last = _REVISION.fullmatch(segments[-1])
    if last is not None:
        revision = int(last[1])
        segments = segments[:-1]
    pre: tuple[str, ...] = ()
    if segments and (segments[0][:1].isdigit() or _PRE_WORD.fullmatch(segments[0])):
        pre = tuple(segments[0].split("."))
        segments = segments[1:]
    return pre, "-".join(segments), revision


@dataclass(frozen=True, slots=True)
class TagVersion:
    """A tag read as a version. `variant` is the suffix a tag may never leave.

    `version_text` is the tag without prefix, variant and revision (`v3.8.0b1-alpine` -> `3.8.0b1`).
    """

    tag: str
    prefix: str
    release: tuple[int, ...]
    pre: tuple[str, ...]
    variant: str
    revision: int | None
    build: str
    version_text: str

    @property
    def precision(self) -> int:
        """How many release parts the tag spells (`1.25` -> 2): a floating tag is imprecise."""
        return len(self.release)

    @property
    def is_stable(self) -> bool:
        return not self.pre

    @property
    def semver(self) -> SemVer | None:
        """The SemVer a range is checked against; None for 4+ part releases (`1.0.0.1`)."""
        return _semver_of(self.release, self.pre, self.tag)

    @property
    def key(self) -> tuple[tuple[int, ...], PreKey, int]:
        """Version order: release (trailing zeros ignored), pre-release, then revision."""
        return key_of(self.release, self.pre, self.revision)


@lru_cache(maxsize=65536)
def _semver_of(release: tuple[int, ...], pre: tuple[str, ...], tag: str) -> SemVer | None:
    if len(release) > 3:
        return None
    major, minor, patch = (*release, 0, 0)[:3]
    return SemVer(major, minor, patch, pre, (), tag)


@lru_cache(maxsize=65536)
def key_of(
    release: tuple[int, ...], pre: tuple[str, ...], revision: int | None
) -> tuple[tuple[int, ...], PreKey, int]:
    trimmed = list(release)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
    return (tuple(trimmed), prerelease_key(pre), -1 if revision is None else revision)


def is_git_sha(body: str) -> bool:
    """7-40 lowercase hex characters, not all digits (`3f2a9c1`; `20240115` is a date)."""
    return _GIT_SHA.fullmatch(body) is not None and not body.isdigit()


@lru_cache(maxsize=65536)
def parse_tag(tag: str) -> TagVersion | None:
    """Read `tag` as a version; None when it is not one (`latest`, `main-3f2a9c1`, a git SHA)."""
    match = _TAG.fullmatch(tag)
    if match is None:
        return None
    if is_git_sha(tag[len(match["prefix"]) :]):
        return None
    release_text = match["release"]
    pre: tuple[str, ...] = ()
    if match["glued"]:
        pre = glued_prerelease(release_text, match["glued"])
    variant, revision = "", None
    dash_pre: tuple[str, ...] = ()
    if match["suffix"]:
        dash_pre, variant, revision = split_suffix(match["suffix"])
        pre = (*pre, *dash_pre)
    version_text = release_text + (match["glued"] or "")
    if dash_pre:
        version_text += "-" + ".".join(dash_pre)
    return TagVersion(
        tag=tag,
        prefix=match["prefix"],
        release=tuple(int(part) for part in release_text.split(".")),
        pre=pre,
        variant=variant,
        revision=revision,
        build=match["build"] or "",
        version_text=version_text,
    )
