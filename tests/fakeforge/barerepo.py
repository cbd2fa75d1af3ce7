"""Bare git repositories the fake forge keeps its branches in: every branch head, merge and
file read here is real git (plumbing commands, no working tree except for rebases)."""

from __future__ import annotations

import os
import subprocess  # noqa: TID251 - the fake forge is a git server; it runs git on purpose
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

__all__ = ["BareRepo", "CommitInfo", "GitFailed", "git_env"]

ZERO_SHA = "0" * 40
T = TypeVar("T")


class GitFailed(Exception):
    """A git command run by the fake forge failed."""


def git_env(name: str = "Fake Forge", email: str = "forge@fakeforge.invalid") -> dict[str, str]:
    """Environment for git run by the fake: no user or system config, fixed identity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        GIT_TERMINAL_PROMPT="0",
    )
    return env


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """What the APIs tell about one commit."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_date: str  # ISO 8601 (strict)
    committer_name: str
    committer_email: str
    committer_date: str
    message: str


class BareRepo:
    """One bare repository on disk, driven through git plumbing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ancestry: dict[tuple[str, str], bool] = {}
        self._answers: dict[tuple[str, ...], object] = {}

    # ------------------------------------------------------------------ plumbing
    def git(
        self,
        *args: str,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `git -C <bare> ARGS`; raise GitFailed on failure when `check`."""
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=stdin,
            capture_output=True,
            env=env or git_env(),
            check=False,
        )
        if check and proc.returncode != 0:
            raise GitFailed(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
        return proc

    def out(self, *args: str, stdin: bytes | None = None) -> str:
        """stdout of a successful git command, stripped."""
        return self.git(*args, stdin=stdin).stdout.decode().strip()

    @classmethod
    def create(cls, path: Path, default_branch: str) -> BareRepo:
        """`git init --bare` with pushes over HTTP allowed."""
        path.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            ["git", "init", "-q", "--bare", "-b", default_branch, str(path)],
            capture_output=True,
            env=git_env(),
            check=False,
        )
        if proc.returncode != 0:
            raise GitFailed(proc.stderr.decode(errors="replace"))
        repo = cls(path)
        repo.git("config", "http.receivepack", "true")
        repo.git("config", "uploadpack.allowAnySHA1InWant", "true")
        return repo

    # ------------------------------------------------------------------ refs
    def resolve(self, rev: str) -> str | None:
        """The commit sha `rev` names (branch name, full ref or sha), or None."""
        if (sha := self.branch_sha(rev)) is not None:
            return sha
        for candidate in (f"refs/heads/{rev}", rev):
            proc = self.git("rev-parse", "--verify", "-q", f"{candidate}^{{commit}}", check=False)
            if proc.returncode == 0:
                return proc.stdout.decode().strip()
        return None

    def branch_sha(self, branch: str) -> str | None:
        """Head commit of `branch`, or None when it does not exist."""
        return self.read_ref(f"refs/heads/{branch}")

    def read_ref(self, ref: str) -> str | None:
        """The sha a full ref name points at, read from the files git keeps (a loose ref,
        else `packed-refs`) without running git: pages of pull requests read many heads."""
        try:
            text = (self.path / ref).read_text().strip()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            text = ""
        if text.startswith("ref: "):
            return self.read_ref(text[5:])
        if len(text) == 40:
            return text
        try:
            packed = (self.path / "packed-refs").read_text().splitlines()
        except FileNotFoundError:
            return None
        suffix = f" {ref}"
        return next(
            (line[:40] for line in packed if line.endswith(suffix) and line[0] not in "#^"),
            None,
        )

    def heads(self) -> dict[str, str]:
        """Branch name -> head sha, read from the ref files (no git process)."""
        found: dict[str, str] = {}
        try:
            packed = (self.path / "packed-refs").read_text().splitlines()
        except FileNotFoundError:
            packed = []
        for line in packed:
            sha, _, ref = line.partition(" ")
            if ref.startswith("refs/heads/") and line[0] not in "#^":
                found[ref.removeprefix("refs/heads/")] = sha
        root = self.path / "refs" / "heads"
        for path in root.rglob("*"):
            if path.is_file() and not path.name.endswith(".lock"):
                sha = path.read_text().strip()
                if len(sha) == 40:
                    found[path.relative_to(root).as_posix()] = sha
        return found

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        """Full ref name -> sha for refs under `prefix`."""
        text = self.out("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.split(" ", 1) for line in text.splitlines() if line)

    def branches(self) -> dict[str, str]:
        """Branch name -> head sha."""
        return {k.removeprefix("refs/heads/"): v for k, v in self.refs("refs/heads/").items()}

    def set_ref(self, ref: str, sha: str, old: str | None = None) -> None:
        """Point `ref` at `sha` (compare-and-swap against `old` when given)."""
        self.git("update-ref", ref, sha, *([old] if old is not None else []))

    def delete_ref(self, ref: str) -> None:
        """Delete `ref`."""
        self.git("update-ref", "-d", ref)

    def is_ancestor(self, older: str, newer: str) -> bool:
        """Whether `older` is reachable from `newer` (remembered: commits never change)."""
        key = (older, newer)
        if key not in self._ancestry:
            proc = self.git("merge-base", "--is-ancestor", older, newer, check=False)
            self._ancestry[key] = proc.returncode == 0
        return self._ancestry[key]

    def merge_base(self, a: str, b: str) -> str | None:
        """Best common ancestor of two commits."""

        def compute() -> str | None:
            proc = self.git("merge-base", a, b, check=False)
            return proc.stdout.decode().strip() if proc.returncode == 0 else None

        return self._memo(("merge-base", a, b), compute)

    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits reachable from head but not base, oldest first."""

        def compute() -> list[str]:
            return self.out("rev-list", "--reverse", f"{base}..{head}").split()

        return list(self._memo(("rev-list", base, head), compute))

    def _memo(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """Remember answers about full commit shas: commits never change, branch names do."""
        if not all(len(k) == 40 for k in key[1:]):
            return compute()
        if key not in self._answers:
            self._answers[key] = compute()
        return cast("T", self._answers[key])

    # ------------------------------------------------------------------ objects
    def commit_info(self, sha: str) -> CommitInfo:
        """Author, committer, parents, tree and message of one commit."""
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
        fields = self.git("show", "-s", f"--format={fmt}", sha).stdout.decode().split("\x00")
        return CommitInfo(
            sha=fields[0],
            tree=fields[1],
            parents=tuple(fields[2].split()),
            author_name=fields[3],
            author_email=fields[4],
            author_date=fields[5],
            committer_name=fields[6],
            committer_email=fields[7],
            committer_date=fields[8],
            message=fields[9].rstrip("\n"),
        )

    def read_file(self, rev: str, path: str) -> bytes | None:
        """Bytes of `path` at `rev`, or None when absent."""
        proc = self.git("cat-file", "blob", f"{rev}:{path}", check=False)
        return proc.stdout if proc.returncode == 0 else None

    def tree_entries(self, treeish: str, *, recursive: bool) -> list[tuple[str, str, str, str]]:
        """(mode, type, sha, path) for each entry of a tree."""
        args = ["ls-tree", "-z", *(["-r", "-t"] if recursive else []), treeish]
        entries = []
        for record in self.git(*args).stdout.decode().split("\x00"):
            if record:
                meta, path = record.split("\t", 1)
                mode, kind, sha = meta.split()
                entries.append((mode, kind, sha, path))
        return entries

    def write_blob(self, data: bytes) -> str:
        """Store a blob; return its sha."""
        return self.out("hash-object", "-w", "--stdin", stdin=data)

    def object_type(self, sha: str) -> str | None:
        """`commit`, `tree`, `blob`... or None when the object is unknown."""
        proc = self.git("cat-file", "-t", sha, check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def cat(self, sha: str) -> bytes:
        """Raw content of a blob."""
        return self.git("cat-file", "blob", sha).stdout

    def commit_tree(
        self,
        tree: str,
        parents: tuple[str, ...],
        message: str,
        author: tuple[str, str] | None = None,
    ) -> str:
        """Create a commit object; return its sha."""
        env = git_env(*author) if author else git_env()
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, stdin=message.encode(), env=env).stdout.decode().strip()

    def tree_with_entries(
        self, base: str | None, entries: dict[str, tuple[str, str] | None]
    ) -> str:
        """A tree: `base` tree-ish with (mode, sha) entries set (None deletes the path;
        mode 040000 grafts a whole tree at the path)."""
        index = self.path / f"fakeforge-index-{os.getpid()}-{id(entries)}"
        env = {**git_env(), "GIT_INDEX_FILE": str(index)}
        try:
            if base is not None:
                self.git("read-tree", base, env=env)
            lines = []
            for path, entry in entries.items():
                if entry is None:
                    lines.append(f"0 {ZERO_SHA}\t{path}")
                elif entry[0] == "040000":
                    self.git("read-tree", f"--prefix={path.rstrip('/')}/", entry[1], env=env)
                else:
                    lines.append(f"{entry[0]} {entry[1]}\t{path}")
            if lines:
                self.git("update-index", "--index-info", stdin="\n".join(lines).encode(), env=env)
            return self.git("write-tree", env=env).stdout.decode().strip()
        finally:
            index.unlink(missing_ok=True)

    def commit_files(
        self,
        branch: str,
        files: dict[str, bytes | None],
        message: str,
        author: tuple[str, str] | None = None,
        start: str | None = None,
    ) -> str:
        """Commit `files` on top of `branch` (or of `start`, which may rewind it); move the
        branch. One `git fast-import` run writes blobs, tree, commit and ref."""
        parent = self.branch_sha(branch) if start is None else self.resolve(start)
        if start is not None and parent is None:
            raise GitFailed(f"unknown start revision {start!r}")
        name, email = author or ("Fake Forge", "forge@fakeforge.invalid")
        stamp = f"{int(time.time())} +0000"
        text = message.encode()
        stream = [
            f"commit refs/heads/{branch}\nmark :1\n".encode(),
            f"author {name} <{email}> {stamp}\ncommitter {name} <{email}> {stamp}\n".encode(),
            f"data {len(text)}\n".encode() + text + b"\n",
        ]
        if parent:
            stream.append(f"from {parent}\n".encode())
        for path, data in files.items():
            if data is None:
                stream.append(f"D {path}\n".encode())
            else:
                stream.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        stream.append(b"\nget-mark :1\n")
        out = self.git(
            "fast-import", "--quiet", "--force", "--done", stdin=b"".join(stream) + b"done\n"
        )
        return out.stdout.decode().strip()

    # ------------------------------------------------------------------ merges
    def merge_tree(self, base: str, head: str) -> str | None:
        """Tree of merging `head` into `base`, or None when they conflict."""

        def compute() -> str | None:
            proc = self.git("merge-tree", "--write-tree", "--no-messages", base, head, check=False)
            if proc.returncode == 0:
                return proc.stdout.decode().split()[0]
            if proc.returncode == 1:
                return None
            raise GitFailed(proc.stderr.decode(errors="replace"))

        return self._memo(("merge-tree", base, head), compute)

    def merge(
        self,
        base_branch: str,
        head_sha: str,
        message: str,
        method: str = "merge",
        author: tuple[str, str] | None = None,
    ) -> str | None:
        """Merge `head_sha` into `base_branch` (merge, squash or rebase); new base sha, or
        None on conflict. The base ref is moved with compare-and-swap."""
        base_sha = self.branch_sha(base_branch)
        if base_sha is None:
            raise GitFailed(f"no branch {base_branch!r}")
        tree = self.merge_tree(base_sha, head_sha)
        if tree is None:
            return None
        new: str | None
        if method == "merge":
            new = self.commit_tree(tree, (base_sha, head_sha), message, author)
        elif method == "squash":
            new = self.commit_tree(tree, (base_sha,), message, author)
        else:
            new = self._rebase(base_sha, head_sha)
        if new is None:
            return None
        self.set_ref(f"refs/heads/{base_branch}", new, base_sha)
        return new

    def rebase(self, base_sha: str, head_sha: str) -> str | None:
        """Commits of head replayed onto base; the new tip, or None on conflict."""
        return self._rebase(base_sha, head_sha)

    def _rebase(self, base_sha: str, head_sha: str) -> str | None:
        """Replay each commit of head onto base (like GitHub's rebase merge)."""
        current = base_sha
        for sha in self.commits_between(base_sha, head_sha):
            info = self.commit_info(sha)
            if self.is_ancestor(sha, current):
                continue
            proc = self.git(
                "merge-tree", "--write-tree", "--no-messages", current, sha, check=False
            )
            if proc.returncode != 0:
                return None
            tree = proc.stdout.decode().split()[0]
            current = self.commit_tree(
                tree, (current,), info.message, (info.author_name, info.author_email)
            )
        return current
