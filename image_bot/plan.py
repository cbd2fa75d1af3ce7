"""Decisions with a target -> Changes grouped into UpdatePlans (groups, branch names, fingerprint).

Pure: the caller passes the hash of each touched file's base content, so a plan's
fingerprint changes when the base under its edits changes (and then its branch is rebuilt),
but not when unrelated files move on the base.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from image_bot.model import Change, ImageName, UpdatePlan
from image_bot.reference import name_matches

__all__ = [
    "Grouping",
    "NamedGroup",
    "Strategy",
    "fingerprint",
    "make_plans",
    "plan_for",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")  # `..` may not appear in a ref
_MAX_SLUG = 128  # well under the 255 bytes of a file name (a loose ref, its `.lock`)


class Strategy(StrEnum):
    """How changes are split into branches (pull requests)."""

    PER_IMAGE = "per-image"
    ALL = "all"
    PER_DIRECTORY = "per-directory"
    NAMED = "named"


@dataclass(frozen=True, slots=True)
class NamedGroup:
    """A named group: images whose name matches one of `images` (globs) share a branch."""

    name: str
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Grouping:
    """The grouping of one repository; with `named`, unmatched images get their own branch."""

    strategy: Strategy = Strategy.PER_IMAGE
    groups: tuple[NamedGroup, ...] = ()


def _short_name(name: ImageName) -> str:
    """`docker.io/library/nginx` -> `nginx`; other registries keep their host."""
    if name.registry == "docker.io":
        return name.repository.removeprefix("library/")
    return str(name)


def _group_of(change: Change, grouping: Grouping) -> str:
    """The group a change belongs to under `grouping`."""
    name = change.occurrence.ref.name
    match grouping.strategy:
        case Strategy.ALL:
            return "all"
        case Strategy.PER_DIRECTORY:
            return posixpath.dirname(change.occurrence.path) or "."
        case Strategy.NAMED:
            for group in grouping.groups:
                if any(name_matches(name, pattern) for pattern in group.images):
                    return group.name
            return _short_name(name)
        case _:
            return _short_name(name)


def _slug(group: str) -> str:
    """One branch-name component for `group` that `git check-ref-format` accepts, whatever
    the group (a directory named `x.lock`, `a..b`, a newline, 300 characters): characters
    git or shells mind become `-`, and a long tail is cut and replaced by a hash of it.
    """
    if group == ".":
        return "root"
    slug = _DOTS.sub(".", _UNSAFE.sub("-", group)).strip("-.").lower()
    if len(slug) > _MAX_SLUG:
        digest = hashlib.sha256(group.encode("utf-8")).hexdigest()[:8]
        slug = f"{slug[: _MAX_SLUG - len(digest) - 1].rstrip('-.')}-{digest}"
    if slug.endswith(".lock"):
        slug = slug.removesuffix(".lock") + "-lock"
    return slug or "group"


def fingerprint(
    group: str, base: str, changes: Iterable[Change], file_hashes: Mapping[str, str]
) -> str:
    """A stable hash of what a plan intends: each edit, and the base content it applies to."""
    entries = sorted(
        (
            change.occurrence.path,
            change.occurrence.document,
            [str(part) for part in change.occurrence.yaml_path],
            change.old.canonical,
            change.new.canonical,
            file_hashes.get(change.occurrence.path, ""),
        )
        for change in changes
    )
    payload = json.dumps({"group": group, "base": base, "changes": entries}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def make_plans(
    repo: str,
    base: str,
    changes: Sequence[Change],
    *,
    grouping: Grouping,
    branch_prefix: str,
    file_hashes: Mapping[str, str],
) -> list[UpdatePlan]:
    """Group `changes` into one UpdatePlan per branch, sorted by branch name.

    Branch names are `branch_prefix` + a slug of the group; two groups that slug alike get
    a short hash each, so no two plans ever share a branch.
    """
    by_group: dict[str, list[Change]] = {}
    for change in changes:
        by_group.setdefault(_group_of(change, grouping), []).append(change)
    slugs: dict[str, list[str]] = {}
    for group in by_group:
        slugs.setdefault(_slug(group), []).append(group)
    plans = []
    for group, members in by_group.items():
        slug = _slug(group)
        if len(slugs[slug]) > 1:
            slug += "-" + hashlib.sha256(group.encode("utf-8")).hexdigest()[:6]
        branch = f"{branch_prefix}{slug}"
        plans.append(
            plan_for(repo, base, members, group=group, branch=branch, file_hashes=file_hashes)
        )
    return sorted(plans, key=lambda plan: plan.branch)


def plan_for(
    repo: str,
    base: str,
    changes: Iterable[Change],
    *,
    group: str,
    branch: str,
    file_hashes: Mapping[str, str],
) -> UpdatePlan:
    """The plan of one group on `branch`: its changes in file order, and their fingerprint."""
    ordered = tuple(
        sorted(changes, key=lambda c: (c.occurrence.path, c.occurrence.line, c.old.canonical))
    )
    return UpdatePlan(
        repo=repo,
        base=base,
        branch=branch,
        group=group,
        changes=ordered,
        fingerprint=fingerprint(group, base, ordered, file_hashes),
    )
