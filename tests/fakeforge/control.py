"""FakeForge: the test-control API of the fake forge (plain Python, not HTTP). Tests use it to
set up repositories, act as a human (commit, open/merge/close pull requests), read state,
count the calls the bot made, inject faults and collect contract violations."""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from cryptography.hazmat.primitives import serialization

from tests.fakeforge.app import Flavour, build_app
from tests.fakeforge.barerepo import BareRepo
from tests.fakeforge.checks import CheckStore, GitHubChecks, GitLabChecks
from tests.fakeforge.contracts import GitHubContract
from tests.fakeforge.conversation import (
    GitHubPermissions,
    GitLabConversation,
    Permissions,
    post_comment,
)
from tests.fakeforge.github_api import GitHubApi
from tests.fakeforge.github_apps import JWT_OPERATIONS, GitHubApps, new_private_key, verify_app_jwt
from tests.fakeforge.github_git_api import GitHubGitApi
from tests.fakeforge.github_graphql import GitHubGraphQL
from tests.fakeforge.github_issues import GitHubIssues
from tests.fakeforge.github_render import GitHubRenderer
from tests.fakeforge.gitlab_api import GitLabApi
from tests.fakeforge.gitlab_contract import GitLabContract
from tests.fakeforge.gitlab_render import GitLabRenderer
from tests.fakeforge.gitlab_repo_api import GitLabRepoApi
from tests.fakeforge.pulls import (
    close_pull,
    find_repo,
    merge_pull,
    open_pull,
    set_status,
    sync_pulls,
)
from tests.fakeforge.releases import GitHubReleases, GitLabReleases, ReleaseStore
from tests.fakeforge.server import BackgroundServer
from tests.fakeforge.state import (
    App,
    Call,
    Comment,
    Fault,
    ForgeState,
    PullRequest,
    Repository,
    User,
    now_iso,
)
from tests.fakeforge.webhooks import Delivery, Hook, WebhookSender

__all__ = ["FakeForge"]

P = ParamSpec("P")
R = TypeVar("R")
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


def _then_deliver(method: Callable[P, R]) -> Callable[P, R]:
    """After a control action, let the webhook sender see what changed (as after an API call)."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        result = method(*args, **kwargs)
        forge = args[0]
        assert isinstance(forge, FakeForge)
        forge.webhooks.pump()
        return result

    return wrapper


class FakeForge:
    """A running fake GitHub + GitLab on 127.0.0.1 with its state and controls.

    Accounts: `bot` (token `bot_token`, what the code under test uses) and `human`
    (token `human_token`, a person acting through the control API or git).
    """

    def __init__(self, root: Path, contracts_dir: Path) -> None:
        self.state = ForgeState(root)
        self.bot: User = self.state.add_user(
            "image-bot", "ghp_fakeforgebottoken0000000000000000000"
        )
        self.human: User = self.state.add_user("alice", "ghp_fakeforgehumantoken00000000000000000")
        contract = GitHubContract(contracts_dir / "github-openapi-subset.json")
        flavours: list[Flavour] = []
        extra: dict[str, Any] = {}
        app = build_app(self.state, flavours, extra, self._after_call)
        self._server = BackgroundServer(app)
        self.port = self._server.port
        self.base_url = f"http://127.0.0.1:{self.port}"
        gh_render = GitHubRenderer(contract, self.base_url)
        gh_handlers = {**GitHubApi(gh_render).handlers, **GitHubGitApi(gh_render).handlers}
        gh_handlers |= GitHubApps(gh_render).handlers | GitHubIssues(gh_render).handlers
        self.releases = ReleaseStore()
        self.permissions = Permissions(admins={self.bot.login, self.human.login})
        gh_handlers |= GitHubReleases(gh_render, self.releases).handlers
        gh_handlers |= GitHubPermissions(gh_render, self.permissions).handlers
        self.checks = CheckStore()
        gh_handlers |= GitHubChecks(gh_render, self.checks).handlers
        flavours.append(
            Flavour("github", "/api/v3", contract, gh_handlers, JWT_OPERATIONS, verify_app_jwt)
        )
        gl_contract = GitLabContract(contracts_dir / "gitlab-api.yaml")
        gl_render = GitLabRenderer(gl_contract, self.base_url)
        gl_handlers = {**GitLabApi(gl_render).handlers, **GitLabRepoApi(gl_render).handlers}
        gl_handlers |= GitLabReleases(gl_render, self.releases).handlers
        gl_handlers |= GitLabConversation(gl_render, self.permissions).handlers
        gl_handlers |= GitLabChecks(gl_render, self.checks).handlers
        flavours.append(Flavour("gitlab", "/api/v4", gl_contract, gl_handlers))
        self.webhooks = WebhookSender(self.state, contract, gh_render, gl_render)
        graphql_sdl = contracts_dir / "github-graphql-automerge.graphql"
        extra["/api/graphql"] = GitHubGraphQL(self.state, graphql_sdl, self.base_url).endpoint
        self.flavours = flavours

    def _after_call(self) -> None:
        self.webhooks.pump()  # created once the port (and so every URL) is known

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeForge:
        """Start the HTTP server."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop the HTTP server and remove the repositories."""
        self._server.stop()
        shutil.rmtree(self.state.root, ignore_errors=True)

    def reset(self) -> None:
        """Forget all repositories, calls, faults and violations (between tests)."""
        old = self.state.git_root()
        self.webhooks.reset()
        self.releases.reset()
        self.permissions.reset()
        self.checks.reset()
        self.state.reset()
        shutil.rmtree(old, ignore_errors=True)

    # ------------------------------------------------------------------ addresses
    @property
    def bot_token(self) -> str:
        """The token the code under test authenticates with (GitHub and GitLab alike)."""
        return self.bot.token

    @property
    def human_token(self) -> str:
        """The token of the human account."""
        return self.human.token

    @property
    def github_api_url(self) -> str:
        """`base_url` for PyGithub (GitHub Enterprise layout: `/api/v3`)."""
        return f"{self.base_url}/api/v3"

    @property
    def gitlab_url(self) -> str:
        """`url` for python-gitlab (it appends `/api/v4`)."""
        return self.base_url

    def git_url(self, repo: str, token: str | None = None, user: str = "x-access-token") -> str:
        """HTTP clone URL with credentials (GitHub style by default; `user="oauth2"` for
        GitLab style). `token=""` gives the URL without credentials."""
        token = self.bot_token if token is None else token
        auth = f"{user}:{token}@" if token else ""
        return f"http://{auth}127.0.0.1:{self.port}/{repo}.git"

    # ------------------------------------------------------------------ repositories
    def create_repo(
        self,
        full_name: str,
        files: dict[str, str | bytes] | None = None,
        default_branch: str = "main",
        message: str = "Initial commit",
    ) -> Repository:
        """A new repository whose default branch holds one commit with `files`."""
        with self.state.lock:
            if find_repo(self.state, full_name) is not None:
                raise ValueError(f"repository {full_name} exists")
            git = BareRepo.create(self.state.repo_dir(full_name), default_branch)
            content = {k: v.encode() if isinstance(v, str) else v for k, v in (files or {}).items()}
            git.commit_files(default_branch, dict(content) or {"README.md": b"# test\n"}, message)
            repo = Repository(self.state.next_id(), full_name, git, default_branch, now_iso())
            self.state.repos[full_name] = repo
            return repo

    def repo(self, full_name: str) -> Repository:
        """A repository by name (KeyError when absent)."""
        repo = find_repo(self.state, full_name)
        if repo is None:
            raise KeyError(full_name)
        return repo

    @_then_deliver
    def commit(
        self,
        repo: str,
        branch: str,
        files: dict[str, str | bytes | None],
        *,
        message: str = "Human change",
        start: str | None = None,
        author: User | None = None,
    ) -> str:
        """Write a commit on `branch` as a human would push it (None deletes a file; `start`
        names the revision a new branch starts from). Returns the new head sha."""
        who = author or self.human
        content = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
        with self.state.lock:
            git = self.repo(repo).git
            return git.commit_files(
                branch, content, message, (who.login, f"{who.login}@users.fakeforge.invalid"), start
            )

    def branch_sha(self, repo: str, branch: str) -> str | None:
        """Head of a branch, read from the bare repository."""
        return self.repo(repo).git.branch_sha(branch)

    def branches(self, repo: str) -> dict[str, str]:
        """Branch name -> head sha."""
        return self.repo(repo).git.branches()

    def read_file(self, repo: str, rev: str, path: str) -> str | None:
        """Text of a file at a branch or sha (None when absent)."""
        data = self.repo(repo).git.read_file(rev, path)
        return None if data is None else data.decode()

    @_then_deliver
    def delete_branch(self, repo: str, branch: str) -> None:
        """Delete a branch as a human would (`git push --delete`)."""
        with self.state.lock:
            self.repo(repo).git.delete_ref(f"refs/heads/{branch}")

    # ------------------------------------------------------------------ webhooks
    def add_webhook(
        self,
        url: str,
        *,
        flavour: str = "github",
        secret: str | None = None,
        repo: str | None = None,
    ) -> Hook:
        """Deliver `pull_request`/`push` (GitHub) or `Merge Request Hook`/`Push Hook` (GitLab)
        events to `url`, for one repository or all; signed / tokened with `secret`."""
        return self.webhooks.add(url, flavour, secret, repo)

    def deliveries(self) -> list[Delivery]:
        """Every delivery attempted so far (waits for queued ones first)."""
        self.webhooks.pump()
        self.webhooks.flush()
        return list(self.webhooks.deliveries)

    # ------------------------------------------------------------------ GitHub Apps
    def create_app(self, slug: str = "image-bot") -> tuple[int, str]:
        """Register a GitHub App; returns (app id, private key PEM) for `Auth.AppAuth`."""
        private = new_private_key()
        key = serialization.load_pem_private_key(private, password=None)
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with self.state.lock:
            app = App(self.state.next_id(), slug, public)
            self.state.apps[app.id] = app
        return app.id, private.decode()

    def install_app(self, app_id: int, account: str, repos: list[str]) -> int:
        """Install the App on `account` for `repos` (full names); the installation id."""
        with self.state.lock:
            installation_id = self.state.next_id()
            self.state.apps[app_id].installations[installation_id] = (account, list(repos))
            return installation_id

    # ------------------------------------------------------------------ pull requests
    def pulls(self, repo: str) -> list[PullRequest]:
        """Every pull/merge request of the repository, by number (brought in line with
        pushes first, as the forge would show them)."""
        with self.state.lock:
            r = self.repo(repo)
            sync_pulls(r)
            return [pr for _, pr in sorted(r.pulls.items())]

    def pull(self, repo: str, number: int) -> PullRequest:
        """One pull/merge request (its state, labels, comments...)."""
        with self.state.lock:
            r = self.repo(repo)
            sync_pulls(r)
            return r.pulls[number]

    @_then_deliver
    def open_pull(
        self, repo: str, head: str, base: str | None = None, title: str = "Human PR", body: str = ""
    ) -> PullRequest:
        """Open a pull request as the human."""
        with self.state.lock:
            r = self.repo(repo)
            return open_pull(
                self.state,
                r,
                head=head,
                base=base or r.default_branch,
                title=title,
                body=body,
                author=self.human,
            )

    @_then_deliver
    def merge_pull(self, repo: str, number: int, method: str = "merge") -> str:
        """Merge as the human would in the web UI (a real git merge); the new base sha."""
        with self.state.lock:
            r = self.repo(repo)
            pr = r.pulls[number]
            sha = merge_pull(
                r, pr, self.human, message=f"Merge pull request #{number}", method=method
            )
            if sha is None:
                raise ValueError(f"pull request {number} conflicts with {pr.base}")
            return sha

    @_then_deliver
    def close_pull(self, repo: str, number: int) -> None:
        """Close without merging, as the human."""
        with self.state.lock:
            r = self.repo(repo)
            close_pull(r, r.pulls[number])

    def issues(self, repo: str) -> list[PullRequest]:
        """The plain issues (not pull requests) of a repository, by number."""
        return [issue for _, issue in sorted(self.repo(repo).issues.items())]

    def add_user(self, login: str) -> User:
        """A new account (until the next reset), with a token of its own."""
        return self.state.add_user(
            login, f"ghp_fakeforge{login}token".ljust(40, "0"), permanent=False
        )

    def comment_as(self, user: User, repo: str, number: int, body: str) -> Comment:
        """Comment on pull request or issue `number` as `user` (the PR's activity moves)."""
        return post_comment(self.state, self.repo(repo), number, body, user)

    def comment(self, repo: str, number: int, body: str) -> Comment:
        """Comment on a pull request or issue as the human."""
        with self.state.lock:
            r = self.repo(repo)
            pr = r.pulls.get(number) or r.issues[number]
            stamp = now_iso()
            comment = Comment(self.state.next_id(), body, self.human, stamp, stamp)
            pr.comments.append(comment)
            return comment

    @_then_deliver
    def set_status(self, repo: str, rev: str, state: str = "success") -> list[PullRequest]:
        """Report the checks of a commit (branch or sha) as `success`, `pending`, `failure`
        or `error`, as CI would. On success, requests with auto-merge (GitHub auto-merge,
        GitLab merge-when-pipeline-succeeds) whose head is that commit merge; returned."""
        with self.state.lock:
            r = self.repo(repo)
            sha = r.git.resolve(rev)
            if sha is None:
                raise KeyError(rev)
            self.checks.status(r, sha, "ci", state, self.human)
            return set_status(r, sha, state, self.human)

    def report_check(
        self, repo: str, rev: str, name: str = "build", conclusion: str = "success"
    ) -> str:
        """Record a completed GitHub check run on a commit; the commit's sha. (A run in
        progress has a null conclusion, which the published contract's enum does not allow:
        report a pending status instead.)"""
        with self.state.lock:
            r = self.repo(repo)
            sha = self._sha(r, rev)
            self.checks.run(r, sha, name, "completed", conclusion)
            return sha

    def report_status(self, repo: str, rev: str, context: str, state: str) -> str:
        """Record a commit status (GitHub `success`/`pending`/`failure`/`error`, GitLab
        `success`/`running`/`failed`/...) without merging anything; the commit's sha."""
        with self.state.lock:
            r = self.repo(repo)
            sha = self._sha(r, rev)
            self.checks.status(r, sha, context, state, self.human)
            return sha

    def report_pipeline(self, repo: str, rev: str, status: str = "success") -> str:
        """Record a GitLab pipeline on a commit; the commit's sha."""
        with self.state.lock:
            r = self.repo(repo)
            sha = self._sha(r, rev)
            self.checks.pipeline(r, sha, status)
            return sha

    @staticmethod
    def _sha(repo: Repository, rev: str) -> str:
        sha = repo.git.resolve(rev)
        if sha is None:
            raise KeyError(rev)
        return sha

    # ------------------------------------------------------------------ observation
    def calls(self, api: str | None = None) -> list[Call]:
        """Calls received so far (`api`: github, gitlab, graphql or git)."""
        with self.state.lock:
            return [c for c in self.state.calls if api is None or c.api == api]

    def count_calls(
        self,
        api: str | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        writes: bool | None = None,
    ) -> int:
        """How many calls match: `path` is a regex searched in the API-relative path;
        `writes=True` counts only writes, `False` only reads."""
        pattern = re.compile(path) if path else None
        return sum(
            1
            for c in self.calls(api)
            if (method is None or c.method == method)
            and (pattern is None or pattern.search(c.path))
            and (writes is None or c.is_write == writes)
        )

    def clear_calls(self) -> None:
        """Forget the calls recorded so far."""
        with self.state.lock:
            self.state.calls.clear()

    def take_violations(self) -> list[str]:
        """Contract violations recorded so far; clears them (a test that provokes one on
        purpose takes it, so the fixture does not fail the test)."""
        with self.state.lock:
            found = list(self.state.violations)
            self.state.violations.clear()
            return found

    # ------------------------------------------------------------------ faults
    def inject_fault(
        self,
        api: str = "github",
        status: int = 429,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
        retry_after: int | None = None,
        message: str | None = None,
        primary: bool = False,
    ) -> None:
        """Answer the next `times` matching calls with `status` instead of serving them.
        `path` is a regex searched in the API-relative path. `primary=True` sends
        `X-RateLimit-Remaining: 0` (a primary rate limit); status 403 with `retry_after`
        is GitHub's secondary rate limit."""
        if message is None:
            message = SECONDARY if status in (403, 429) and not primary else "Service unavailable"
            if primary:
                message = f"API rate limit exceeded for user ID {self.bot.id}."
        fault = Fault(
            api=api,
            status=status,
            method=method,
            path_pattern=re.compile(path) if path else None,
            times=times,
            retry_after=retry_after,
            message=message,
            rate_limit_remaining_zero=primary,
        )
        with self.state.lock:
            self.state.faults.append(fault)
