"""The fake forge's memory: repositories (each a real bare git repo), their pull/merge
requests, comments and labels, the calls received, injected faults and contract violations."""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.fakeforge.barerepo import BareRepo

__all__ = [
    "App",
    "Call",
    "Comment",
    "Fault",
    "ForgeState",
    "PullRequest",
    "Repository",
    "User",
    "now_iso",
]

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def now_iso() -> str:
    """The current time as GitHub writes it (UTC, seconds, `Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class User:
    """An account of the fake forge (the same account on both API flavours). An App
    installation token is a user limited to `repos` until `expires` (epoch seconds)."""

    id: int
    login: str
    token: str
    repos: frozenset[str] | None = None
    expires: float | None = None

    def may_see(self, full_name: str) -> bool:
        """Whether this account's token reaches the repository."""
        return self.repos is None or full_name.lower() in self.repos


@dataclass(slots=True)
class App:
    """A GitHub App: its id, the public half of its key, and where it is installed
    (installation id -> account and repository names)."""

    id: int
    slug: str
    public_key_pem: bytes
    installations: dict[int, tuple[str, list[str]]] = field(default_factory=dict)


@dataclass(slots=True)
class Comment:
    """A comment on a pull request (GitHub issue comment, GitLab MR note)."""

    id: int
    body: str
    author: User
    created_at: str
    updated_at: str


@dataclass(slots=True)
class PullRequest:
    """A pull request / merge request. Head and base shas come from git when rendered."""

    number: int
    id: int
    title: str
    body: str
    head: str
    base: str
    author: User
    created_at: str
    updated_at: str
    state: str = "open"  # open | closed (merged is closed + merged_at)
    draft: bool = False
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    merged_at: str | None = None
    merged_by: User | None = None
    merge_commit_sha: str | None = None
    closed_at: str | None = None
    head_sha_at_close: str | None = None
    auto_merge: str | None = None  # None, or the merge method requested (MERGE/SQUASH/REBASE)
    auto_merge_by: User | None = None
    auto_merge_at: str | None = None
    remove_source_branch: bool = False
    merge_error: str | None = None
    milestone_id: int | None = None

    @property
    def merged(self) -> bool:
        """Whether the pull request was merged."""
        return self.merged_at is not None


@dataclass(slots=True)
class Repository:
    """One repository: `owner/name` on GitHub, the project path on GitLab."""

    id: int
    full_name: str
    git: BareRepo
    default_branch: str
    created_at: str
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    issues: dict[int, PullRequest] = field(default_factory=dict)  # plain issues (no branches)
    allow_auto_merge: bool = True
    require_checks: bool = True  # auto-merge waits for a green status on the head commit
    statuses: dict[str, str] = field(default_factory=dict)  # commit sha -> combined state

    @property
    def owner(self) -> str:
        """First path component (GitHub owner / GitLab namespace)."""
        return self.full_name.rsplit("/", 1)[0]

    @property
    def name(self) -> str:
        """Last path component."""
        return self.full_name.rsplit("/", 1)[1]


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP call the fake received."""

    api: str  # github | gitlab | git | graphql
    method: str
    path: str
    operation: str | None
    status: int

    @property
    def is_write(self) -> bool:
        """Whether the call could change state (POST/PUT/PATCH/DELETE, git pushes)."""
        if self.api == "git":
            return "receive-pack" in self.path and self.method == "POST"
        return self.method not in READ_METHODS


@dataclass(slots=True)
class Fault:
    """A canned failure answered instead of the next matching calls."""

    api: str
    status: int
    method: str | None
    path_pattern: re.Pattern[str] | None
    times: int
    retry_after: int | None
    message: str
    rate_limit_remaining_zero: bool

    def matches(self, api: str, method: str, path: str) -> bool:
        """Whether this fault applies to the call."""
        return (
            self.times > 0
            and self.api == api
            and (self.method is None or self.method == method)
            and (self.path_pattern is None or self.path_pattern.search(path) is not None)
        )


class ForgeState:
    """Everything the fake forge knows; guarded by `lock` (server thread vs test thread)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.RLock()
        self._ids = itertools.count(1000)
        self.users: dict[str, User] = {}
        self.apps: dict[int, App] = {}
        self._permanent_tokens: set[str] = set()
        self.repos: dict[str, Repository] = {}
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.violations: list[str] = []
        self.rate_limit = 5000
        self.rate_used = 0
        self.rate_reset = int(time.time()) + 3600
        self.generation = 0

    def next_id(self) -> int:
        """A fresh numeric id (unique across all objects of this forge)."""
        return next(self._ids)

    def reset(self) -> None:
        """Forget every repository, call, fault and violation (between tests)."""
        with self.lock:
            self.generation += 1
            self.repos.clear()
            self.calls.clear()
            self.faults.clear()
            self.violations.clear()
            self.rate_used = 0
            self.apps.clear()
            for token in set(self.users) - self._permanent_tokens:
                del self.users[token]

    def add_user(self, login: str, token: str, *, permanent: bool = True) -> User:
        """Register an account and the token that authenticates it (`permanent` ones
        survive `reset`)."""
        with self.lock:
            user = User(id=self.next_id(), login=login, token=token)
            self.users[token] = user
            if permanent:
                self._permanent_tokens.add(token)
            return user

    def add_token(self, user: User) -> None:
        """Register a token-bearing account until the next reset (installation tokens)."""
        with self.lock:
            self.users[user.token] = user

    def user_for_token(self, token: str | None) -> User | None:
        """The account a token belongs to, or None (also once an expiring token expired)."""
        user = self.users.get(token) if token else None
        if user is not None and user.expires is not None and user.expires < time.time():
            return None
        return user

    def user_by_login(self, login: str) -> User | None:
        """The account with this login, or None."""
        return next((u for u in self.users.values() if u.login == login), None)

    def repo_by_id(self, repo_id: int) -> Repository | None:
        """A repository by numeric id."""
        return next((r for r in self.repos.values() if r.id == repo_id), None)

    def repo_dir(self, full_name: str) -> Path:
        """Where the bare repo of `full_name` lives (the git HTTP project root + path)."""
        return self.root / f"g{self.generation}" / f"{full_name}.git"

    def git_root(self) -> Path:
        """GIT_PROJECT_ROOT for the current generation of repositories."""
        return self.root / f"g{self.generation}"

    def take_fault(self, api: str, method: str, path: str) -> Fault | None:
        """The first armed fault matching the call (its count is decremented)."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(api, method, path):
                    fault.times -= 1
                    return fault
        return None

    def record(self, call: Call) -> None:
        """Append to the call log."""
        with self.lock:
            self.calls.append(call)

    def violation(self, message: str) -> None:
        """Record a contract violation (the test that caused it fails at teardown)."""
        with self.lock:
            self.violations.append(message)
