"""git CLI: clone cache, fetch, detached base checkout, commits without a worktree, leased pushes.

The only module that runs git (and the only one besides `scan.auth` that runs programs). It
uses the git CLI so that every credential helper, ssh setup and proxy a user already has
works. Failures become `GitError` (arguments redacted) or `PushRejected` (stale lease,
non-fast-forward): the caller starts that repository over from fresh state.

Credentials (a token written in the URL, a GitHub App installation token) are given to git
per command as an `http.extraHeader` through `GIT_CONFIG_*` environment variables: never in
argv (`ps`), the remote URL or `.git/config`, and the clone directory is named from the URL
without them, so a renewed token reuses the same clone.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import logging
import os
import re
import subprocess  # noqa: TID251  (this is the module allowed to run git)
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from image_bot.errors import GitError, PushRejected, redact, register_secret
from image_bot.publish.git_log import LOG_FORMAT, RECORD, LogCommit, parse_batch, parse_log_record

log = logging.getLogger("image_bot.publish.git")

__all__ = [
    "Author",
    "BranchHead",
    "Git",
    "HttpCredentials",
    "clone_dir_name",
    "split_credentials",
]

_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never wait for a password on a terminal nobody watches
    "LC_ALL": "C",  # stable messages to classify push failures
    "GIT_EDITOR": "true",
}
_WRITES = frozenset({"push", "fast-import"})  # commands that write commits or remote refs
_REJECTED = re.compile(r"\[(?:rejected|remote rejected)\]|stale info|non-fast-forward|fetch first")
_TREE, _LINK = "040000", "120000"  # git modes of a directory and a symbolic link
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
_BATCH = 500  # objects per `cat-file` run: bounds what one run holds in memory
_USERINFO = re.compile(r"^(?P<scheme>https?://)(?P<userinfo>[^/@]*)@", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class HttpCredentials:
    """A user name and password (or token) git sends as HTTP Basic auth on every request."""

    username: str
    password: str

    def header(self) -> str:
        """The `Authorization` header value (registered as a secret for redaction)."""
        pair = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        register_secret(self.password)
        register_secret(pair)
        return f"Authorization: Basic {pair}"


def split_credentials(url: str) -> tuple[str, HttpCredentials | None]:
    """`url` without the `user:password@` of an http(s) URL, and those credentials (if any).

    A user name alone (`https://user@host/...`) is kept in the URL: it is not a secret.
    """
    match = _USERINFO.match(url)
    if match is None or ":" not in match.group("userinfo"):
        return url, None
    user, _, password = match.group("userinfo").partition(":")
    bare = match.group("scheme") + url[match.end() :]
    return bare, HttpCredentials(unquote(user), unquote(password))


@dataclass(frozen=True, slots=True)
class Author:
    """Who the bot commits as."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class BranchHead:
    """A remote branch as last fetched: its head commit, author email and message."""

    branch: str
    sha: str
    author_email: str
    message: str


def clone_dir_name(url: str, variant: str = "") -> str:
    """A readable, collision-free directory name for a clone of `url` in the cache.

    `variant` tells apart clones of one URL that need their own worktree (another base).
    """
    visible = _SLUG.sub("-", redact(url).rsplit("@", 1)[-1]).strip("-.")[-60:]
    digest = hashlib.sha256(f"{url}\n{variant}".encode()).hexdigest()[:12]
    return f"{visible}-{digest}"


class Git:
    """One cached clone of one remote (`origin`), driven through the git CLI.

    `calls` counts every command by subcommand; `writes` counts those that create commits
    or change remote refs, so a caller can prove that a pass wrote nothing.
    """

    def __init__(
        self,
        workdir: Path,
        url: str,
        *,
        timeout: float = 300.0,
        credentials: HttpCredentials | None = None,
    ) -> None:
        self.workdir = workdir
        self.url = url
        self.timeout = timeout
        self.credentials = credentials
        self.calls: Counter[str] = Counter()
        self._lock: int | None = None
        self._heads: dict[str, list[BranchHead]] = {}  # per prefix, until the next fetch
        self.local_heads: dict[str, str] = {}  # branch -> sha of the commits built here

    def lock(self, *, wait: float = 60.0) -> None:
        """Take this clone for ourselves (another image-bot process waits, then gives up)."""
        path = self.workdir.parent / f"{self.workdir.name}.lock"
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise GitError("lock", f"{path} is held by another image-bot") from None
                time.sleep(0.2)
                continue
            self._lock = fd
            return

    def clear_stale_locks(self) -> list[Path]:
        """Remove the lock files a git command killed mid-way left in this clone (`index.lock`,
        `HEAD.lock`, a ref's `.lock`): git refuses to run while they are there, and no git
        can be running here, since this process holds the clone (`lock`). The ones removed."""
        git_dir = self.workdir / ".git"
        if self._lock is None or not git_dir.is_dir() or git_dir.is_symlink():
            return []
        stale = [*git_dir.glob("*.lock"), *(git_dir / "refs").rglob("*.lock")]
        removed = []
        for path in stale:
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)
                removed.append(path)
        if removed:
            names = ", ".join(str(path.relative_to(git_dir)) for path in removed)
            log.warning("removed the lock files a killed git left", extra={"locks": names})
        return removed

    def close(self) -> None:
        """Let other processes use the clone again."""
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor drops the flock
            self._lock = None

    @property
    def writes(self) -> int:
        """How many commands that write commits or remote refs ran."""
        return sum(count for name, count in self.calls.items() if name in _WRITES)

    @classmethod
    def open(
        cls,
        url: str,
        cache_dir: Path,
        *,
        variant: str = "",
        credentials: HttpCredentials | None = None,
    ) -> Git:
        """The clone of `url` under `cache_dir`, created (empty, origin set) on first use.

        Credentials in `url` (or `credentials`, which win) are sent per command, never stored:
        the remote URL and the clone's directory name are those of the URL without them.
        The clone stays locked against other processes until `close`.
        """
        url, in_url = split_credentials(url)
        workdir = cache_dir / clone_dir_name(url, variant)
        git = cls(workdir, url, credentials=credentials or in_url)
        workdir.mkdir(parents=True, exist_ok=True)
        git.lock()
        git.clear_stale_locks()
        if not (workdir / ".git").is_dir():
            git.run("init", "--quiet")
            git.run("remote", "add", "origin", url)
        elif git.run("remote", "get-url", "origin").strip() != url:
            git.run("remote", "set-url", "origin", url)
        return git

    @classmethod
    def at(cls, path: Path) -> Git:
        """The repository `path` is in (a work tree the user has; never locked, no remote)."""
        probe = cls(path, "")
        top = probe.run("rev-parse", "--show-toplevel").strip()
        return cls(Path(top), "")

    # --- reading --------------------------------------------------------------------------

    def fetch(self, base: str, branch_prefix: str) -> str:
        """Fetch `base` and the bot's branches (pruning deleted ones); return base's head sha."""
        refspecs = [f"+refs/heads/{base}:refs/remotes/origin/{base}"]
        if branch_prefix:
            refspecs.append(f"+refs/heads/{branch_prefix}*:refs/remotes/origin/{branch_prefix}*")
        self.run("fetch", "--quiet", "--prune", "--no-tags", "origin", *refspecs)
        self._heads.clear()
        return self.rev_parse(f"refs/remotes/origin/{base}")

    def rev_parse(self, rev: str) -> str:
        """The commit sha `rev` names."""
        return self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()

    def checkout_detached(self, sha: str) -> None:
        """Make the worktree exactly `sha`: files find and rewrite read from."""
        self.run("checkout", "--quiet", "--force", "--detach", sha)
        self.run("clean", "--quiet", "-ffdx")

    def branch_heads(self, branch_prefix: str) -> list[BranchHead]:
        """The fetched remote branches under `branch_prefix`, with their head commits."""
        if branch_prefix in self._heads:
            return list(self._heads[branch_prefix])
        sep = "%00"
        fields = sep.join(("%(refname)", "%(objectname)", "%(authoremail)", "%(contents)"))
        out = self.run(
            "for-each-ref", f"--format={fields}%01", f"refs/remotes/origin/{branch_prefix}"
        )
        heads = []
        strip = len("refs/remotes/origin/")
        for raw in out.split("\x01"):
            record = raw.lstrip("\n")
            if not record:
                continue
            ref, sha, email, message = record.split("\x00", 3)
            heads.append(BranchHead(ref[strip:], sha, email.strip("<>"), message))
        self._heads[branch_prefix] = heads
        return list(heads)

    def first_parent_log(self, rev: str, paths: Iterable[str] = ()) -> list[LogCommit]:
        """Every commit of `rev`'s first-parent history that changed something under `paths`
        (every commit when empty), oldest first, with the files it changed. One `git log`.

        A merge is compared with its first parent, so it carries what the merged branch
        brought; renames are a deletion and an addition.
        """
        out = self.run_bytes(
            "log", "--first-parent", "--diff-merges=first-parent", "--root", "--reverse",
            "--raw", "--no-abbrev", "--no-renames", "-z", f"--format={LOG_FORMAT}", rev,
            "--", *[p for p in paths if p not in ("", ".")],
        )  # fmt: skip
        return [c for record in out.split(RECORD.encode())[1:] if (c := parse_log_record(record))]

    def object_sizes(self, shas: Iterable[str]) -> dict[str, int]:
        """The size in bytes of each object (those missing are left out)."""
        sizes: dict[str, int] = {}
        wanted = list(dict.fromkeys(shas))
        for start in range(0, len(wanted), _BATCH * 20):
            chunk = wanted[start : start + _BATCH * 20]
            out = self.run("cat-file", "--batch-check", stdin="\n".join(chunk).encode() + b"\n")
            for line in out.splitlines():
                sha, kind, size = ([*line.split(" "), "", ""])[:3]
                if kind and kind != "missing" and size.isdigit():
                    sizes[sha] = int(size)
        return sizes

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The content of each blob, with `git cat-file --batch` (one run per few hundred)."""
        blobs: dict[str, bytes] = {}
        wanted = list(dict.fromkeys(shas))
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            out = self.run_bytes("cat-file", "--batch", stdin="\n".join(chunk).encode() + b"\n")
            blobs.update(parse_batch(out))
        return blobs

    def changed_files(self, sha: str) -> list[str]:
        """The paths commit `sha` changes against its first parent (a bot commit's files)."""
        out = self.run(
            "diff-tree", "--no-commit-id", "--name-only", "--no-renames", "-r", "-z", sha
        )
        return [path for path in out.split("\x00") if path]

    # --- writing --------------------------------------------------------------------------

    def commit(
        self,
        branch: str,
        parent: str,
        files: Mapping[str, str],
        message: str,
        author: Author,
        *,
        when: datetime,
    ) -> str:
        """Commit `files` (path -> new text) on top of `parent` as local `branch`; its sha.

        Built with one `git fast-import` run: the worktree stays at the base, so every plan
        starts from the same files. File modes are kept from `parent`.
        """
        modes = self.file_modes(parent, files)
        stamp = f"{int(when.timestamp())} +0000"
        ident = f"{author.name} <{author.email}> {stamp}"
        chunks = [f"commit refs/heads/{branch}\nmark :1\n".encode(), f"author {ident}\n".encode()]
        chunks.append(f"committer {ident}\n".encode())
        chunks.append(_data(message.encode("utf-8")))
        chunks.append(f"from {parent}\n".encode())
        for path, text in sorted(files.items()):
            chunks.append(f"M {modes.get(path, '100644')} inline {_quote_path(path)}\n".encode())
            chunks.append(_data(text.encode("utf-8")))
        chunks.append(b"\nget-mark :1\ndone\n")  # the new commit's sha, on stdout
        out = self.run("fast-import", "--quiet", "--force", "--done", stdin=b"".join(chunks))
        sha = out.strip()
        self.local_heads[branch] = sha
        return sha

    def push(self, sha: str, branch: str, *, expected: str | None, force: bool = True) -> None:
        """Set the remote `branch` to `sha` only if it is still at `expected` (None: absent).

        With `force=False` (the base branch, direct commits) only a fast-forward is pushed.
        """
        target = f"refs/heads/{branch}"
        args = ["push", "--porcelain", "--quiet"]
        if force:
            args.append(f"--force-with-lease={target}:{expected or ''}")
        self.run(*args, "origin", f"{sha}:{target}")

    def delete_remote_branch(self, branch: str, *, expected: str) -> None:
        """Delete the remote `branch` only if it is still at `expected`."""
        target = f"refs/heads/{branch}"
        self.run(
            "push", "--porcelain", "--quiet", f"--force-with-lease={target}:{expected}", "origin",
            f":{target}",
        )  # fmt: skip

    # --- plumbing -------------------------------------------------------------------------

    def file_modes(self, commit: str, files: Iterable[str]) -> dict[str, str]:
        """The git mode (`100644`, `100755`) of each of `files` that exists in `commit`.

        These are the files a commit is about to write: GitError when one of them, or a
        directory above it, is a symbolic link (or a file) in `commit`, since writing it would
        replace that link with a file (or the file with a directory).
        """
        files = sorted(files)
        if not files:
            return {}
        out = self.run("ls-tree", "-r", "-t", "-z", commit, "--", *files)
        modes, trees = {}, set()
        for entry in out.split("\x00"):
            if entry:
                meta, path = entry.split("\t", 1)
                mode = meta.split(" ", 1)[0]
                if mode == _TREE:
                    trees.add(path)
                else:
                    modes[path] = mode
        for path, mode in modes.items():
            if mode == _LINK:
                raise GitError("commit", f"refusing to write {path}: a symbolic link in {commit}")
        unseen = {d for path in files if (d := _first_missing(path, trees)) is not None}
        if unseen:  # a directory missing above a file: new, or something else in its place
            for entry in self.run("ls-tree", "-z", commit, "--", *sorted(unseen)).split("\x00"):
                if entry and entry.split(" ", 1)[0] != _TREE:
                    name = entry.split("\t", 1)[1]
                    raise GitError(
                        "commit", f"refusing to write below {name}: not a directory in {commit}"
                    )
        return modes

    def _environment(self) -> dict[str, str]:
        """git's environment: `_ENV`, plus the credentials as one more `GIT_CONFIG_*` entry."""
        env = {**os.environ, **_ENV}
        if self.credentials is not None:
            index = int(env.get("GIT_CONFIG_COUNT", "0") or "0")
            env[f"GIT_CONFIG_KEY_{index}"] = "http.extraHeader"
            env[f"GIT_CONFIG_VALUE_{index}"] = self.credentials.header()
            env["GIT_CONFIG_COUNT"] = str(index + 1)
        return env

    def run(self, *args: str, stdin: bytes | None = None) -> str:
        """Run `git ARGS` in the clone; stdout as text. GitError/PushRejected on failure."""
        return self.run_bytes(*args, stdin=stdin).decode("utf-8", "replace")

    def run_bytes(self, *args: str, stdin: bytes | None = None) -> bytes:
        """`run`, with stdout as the bytes git wrote."""
        self.calls[args[0]] += 1
        command = " ".join(args)
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.workdir,
                input=stdin,
                capture_output=True,
                env=self._environment(),
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GitError(command, f"timed out after {self.timeout:.0f}s") from None
        except OSError as error:
            raise GitError(command, f"cannot run git: {error.strerror}") from None
        if done.returncode == 0:
            return done.stdout
        stdout = done.stdout.decode("utf-8", "replace")
        stderr = done.stderr.decode("utf-8", "replace")
        if args[0] == "push" and (_REJECTED.search(stdout) or _REJECTED.search(stderr)):
            raise PushRejected(command, f"{stdout}\n{stderr}".strip())
        raise GitError(command, stderr or stdout)


def _first_missing(path: str, trees: set[str]) -> str | None:
    """The first directory above `path` that is not among `trees` (None: all are)."""
    parts = path.split("/")[:-1]
    for end in range(1, len(parts) + 1):
        directory = "/".join(parts[:end])
        if directory not in trees:
            return directory
    return None


def _data(payload: bytes) -> bytes:
    return f"data {len(payload)}\n".encode() + payload + b"\n"


def _quote_path(path: str) -> str:
    """fast-import paths: C-style quoted when they hold a quote, a newline or start with one."""
    if any(ch in path for ch in '"\n\\') or path.startswith(" "):
        escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    return path
