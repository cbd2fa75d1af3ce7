"""Read a repository's history into a Timeline: one `git log` walk, blobs in batches, and only
the files each commit touched parsed, with the finders `refs` uses (same scope, same rules).

Each directory of the scope keeps the references of its current files and the kustomization
index that sets references aside (as `refs` does); the index is rebuilt only when a
kustomization's resources or entries change. Symlinks and submodules are not followed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from image_bot.edit.find import CustomTarget, FindResult, find_in_text, may_hold_reference
from image_bot.edit.managed import Kustomization, ManagedIndex
from image_bot.edit.scope import Scope
from image_bot.edit.yaml.reparse import respliced
from image_bot.history.entries import Commit, Timeline
from image_bot.history.timeline import FileRef, TimelineBuilder
from image_bot.model import Occurrence, Skipped
from image_bot.publish.git import Git
from image_bot.publish.git_log import LogCommit, TreeChange

__all__ = ["pull_request_of", "read_timeline"]

_CHUNK = 400  # commits whose blobs are read together
_FILE_MODES = frozenset({"100644", "100755", "100664"})  # not symlinks (120000), submodules
_PULLS = (
    re.compile(r"\AMerge pull request #(\d+)\b"),  # GitHub merge commit
    re.compile(r"^See merge request [^\s!]*!(\d+)\s*$", re.MULTILINE),  # GitLab merge commit
    re.compile(r"\A[^\n]*\(#(\d+)\)[ \t]*(?:\n|\Z)"),  # GitHub squash: "Title (#12)"
)


def pull_request_of(message: str) -> str | None:
    """The pull request (`#12`) or merge request (`!12`) a commit message says it merged."""
    for index, pattern in enumerate(_PULLS):
        found = pattern.search(message)
        if found:
            return ("!" if index == 1 else "#") + found.group(1)
    return None


@dataclass(frozen=True, slots=True)
class _Parsed:
    occurrences: tuple[Occurrence, ...] = ()
    kustomizations: tuple[Kustomization, ...] = ()
    skipped: tuple[Skipped, ...] = ()


_NOTHING = _Parsed()


def _shape(kustomizations: Sequence[Kustomization]) -> tuple[object, ...]:
    """What the managed index depends on (not lines, not the tags the entries set)."""
    return tuple((k.path, k.resources, tuple(o.name for o in k.overrides)) for k in kustomizations)


@dataclass
class _Tree:
    """One scope directory at the current commit: its files and their references."""

    directory: str
    targets: tuple[CustomTarget, ...]
    files: set[str] = field(default_factory=set)
    parsed: dict[str, _Parsed] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # of the files with references
    index: ManagedIndex = field(default_factory=lambda: ManagedIndex((), ()))

    def path(self, relative: str) -> str:
        return relative if self.directory == "." else f"{self.directory}/{relative}"

    def update(self, changes: Mapping[str, _Parsed | None]) -> dict[str, tuple[FileRef, ...]]:
        """Apply one commit's files (None: gone); the references of each file that may have
        changed, by repository path."""
        shape_changed = False
        membership_changed = False
        for relative, parsed in changes.items():
            old = self.parsed.get(relative, _NOTHING)
            new = parsed or _NOTHING
            if parsed is None:
                membership_changed |= relative in self.files
                self.files.discard(relative)
                self.parsed.pop(relative, None)
            else:
                membership_changed |= relative not in self.files
                self.files.add(relative)
                self.parsed[relative] = parsed
            shape_changed |= _shape(old.kustomizations) != _shape(new.kustomizations)
        touched = set(changes)
        if shape_changed or (membership_changed and self.index):
            kustomizations = [k for p in self.parsed.values() for k in p.kustomizations]
            self.index = ManagedIndex(kustomizations, self.files)
            touched |= set(self.parsed)
        return {self.path(relative): self._refs(relative) for relative in touched}

    def _refs(self, relative: str) -> tuple[FileRef, ...]:
        parsed = self.parsed.get(relative, _NOTHING)
        return tuple(
            (o.ref.name, o.ref.tag, o.ref.digest)
            for o in parsed.occurrences
            if self.index.override_for(o) is None
        )


def _chunks(commits: Sequence[LogCommit], size: int) -> Iterator[Sequence[LogCommit]]:
    for start in range(0, len(commits), size):
        yield commits[start : start + size]


class _Reader:
    """Reads a chunk's blobs together, then parses each file version as its commit comes: a
    bump of the file's previous version is respliced (`edit.reparse`), the rest parsed."""

    def __init__(self, git: Git, scope: Scope, trees: dict[str, _Tree]) -> None:
        self.git = git
        self.scope = scope
        self.trees = trees
        self.parsed = 0
        self.skipped: list[str] = []
        self._contents: dict[str, bytes] = {}
        self._located: dict[str, tuple[_Tree, str] | None] = {}

    def located(self, change: TreeChange) -> tuple[_Tree, str] | None:
        """The scope directory reading `change`'s file and its path there (None: not read)."""
        if change.path not in self._located:
            where = self.scope.locate(change.path)
            if where is None:
                self._located[change.path] = None
            else:
                directory, relative = where
                if directory not in self.trees:
                    self.trees[directory] = _Tree(directory, self.scope.targets_in(directory))
                self._located[change.path] = (self.trees[directory], relative)
        return self._located[change.path]

    def load(self, commits: Sequence[LogCommit]) -> None:
        """Read the blobs of `commits` that the scope reads (none over `max_bytes`)."""
        blobs = {
            change.blob
            for commit in commits
            for change in commit.changes
            if change.blob and change.mode in _FILE_MODES and self.located(change)
        }
        sizes = self.git.object_sizes(blobs)
        limit = self.scope.max_bytes
        self._contents = self.git.read_blobs(b for b in blobs if sizes.get(b, limit + 1) <= limit)

    def parse(self, change: TreeChange, tree: _Tree, relative: str) -> _Parsed | None:
        """The file's references after `change` (None: it is gone, or not a regular file)."""
        if change.blob is None or change.mode not in _FILE_MODES:
            tree.texts.pop(relative, None)
            return None
        data = self._contents.get(change.blob)
        text = _text(data, relative, tree.targets) if data else None
        if text is None:
            tree.texts.pop(relative, None)
            return _NOTHING
        before = tree.texts.get(relative)
        old = tree.parsed.get(relative)
        if before is not None and old is not None:
            found = FindResult(old.occurrences, old.skipped, kustomizations=old.kustomizations)
            again = respliced(before, found, text)
            if again is not None:
                tree.texts[relative] = text
                return _Parsed(again.occurrences, again.kustomizations, again.skipped)
        self.parsed += 1
        result = find_in_text(text, relative, targets=tree.targets, finders=self.scope.finders)
        if result.skipped and not result.occurrences:
            self.skipped.append(tree.path(relative))
        if result.occurrences:
            tree.texts[relative] = text
        else:
            tree.texts.pop(relative, None)
        return _Parsed(result.occurrences, result.kustomizations, result.skipped)


def _text(data: bytes, relative: str, targets: Sequence[CustomTarget]) -> str | None:
    if not may_hold_reference(data, relative, targets):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_timeline(
    git: Git,
    rev: str,
    scope: Scope,
    *,
    place_of: Callable[[str], str | None] | None = None,
    upstreams: Mapping[str, tuple[str, ...]] | None = None,
) -> Timeline:
    """The timeline of `rev`'s first-parent history in `git`'s repository.

    With `place_of` (a file -> its stage, or None), entries are per stage; without, per file.
    """
    commits = git.first_parent_log(rev, scope.roots)
    trees: dict[str, _Tree] = {}  # by scope directory, as the commits reach them
    builder = TimelineBuilder(
        place_of or (lambda path: path), by_file=place_of is None, upstreams=upstreams
    )
    reader = _Reader(git, scope, trees)
    position = 0
    for chunk in _chunks(commits, _CHUNK):
        reader.load(chunk)
        for commit in chunk:
            per_tree: dict[str, dict[str, _Parsed | None]] = {}
            for change in commit.changes:
                found = reader.located(change)
                if found is None:
                    continue
                tree, relative = found
                per_tree.setdefault(tree.directory, {})[relative] = reader.parse(
                    change, tree, relative
                )
            files: dict[str, tuple[FileRef, ...]] = {}
            for directory, changes in per_tree.items():
                files |= trees[directory].update(changes)
            if files:
                builder.commit(_commit(commit, position), files)
            position += 1
    head = commits[-1].sha if commits else ""
    timeline = builder.finish(head=head, parsed=reader.parsed, skipped=tuple(reader.skipped))
    return dataclasses.replace(timeline, commits=len(commits))


def _commit(commit: LogCommit, position: int) -> Commit:
    return Commit(
        sha=commit.sha,
        time=commit.committed,
        author=f"{commit.author_name} <{commit.author_email}>",
        pull_request=pull_request_of(commit.message),
        position=position,
    )
