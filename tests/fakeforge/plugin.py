"""pytest fixtures that start the fake forge (a fake GitHub + GitLab backed by bare git repos).

Fixture API
-----------
``fake_forge`` (function scope) -> :class:`tests.fakeforge.control.FakeForge`
    One server per test session (per xdist worker), state wiped before each test: no
    repositories, no calls, no faults, no violations. At teardown the test **fails** if the
    server recorded contract violations (an undocumented call, a request or response that does
    not match ``../shared/contracts``). A test that provokes one on purpose calls
    ``fake_forge.take_violations()``. Skips when ``../shared/contracts`` is absent.

Addresses and credentials (the same tokens work on both API flavours and for git):
    ``fake_forge.github_api_url``  ``http://127.0.0.1:PORT/api/v3`` -> ``Github(base_url=...)``
    ``fake_forge.gitlab_url``      ``http://127.0.0.1:PORT``        -> ``Gitlab(url=...)``
    ``fake_forge.bot_token`` / ``bot`` (login ``image-bot``),
    ``fake_forge.human_token`` / ``human`` (login ``alice``)
    ``fake_forge.git_url("owner/repo", token=None, user="x-access-token")``
        ``http://x-access-token:TOKEN@127.0.0.1:PORT/owner/repo.git`` (``user="oauth2"`` for
        GitLab style; ``token=""`` for no credentials -> 401).

Set up and act as a human (everything is real git in a bare repo; each action is seen by
webhooks like an API call):
    ``create_repo("owner/repo", {"path": "text"}, default_branch="main")``
    ``commit("owner/repo", "branch", {"path": "text" | None}, *, message=, start=None)`` -> sha
    ``delete_branch(repo, branch)``, ``open_pull(repo, head, base=None, title=...)``,
    ``merge_pull(repo, number, method="merge"|"squash"|"rebase")``, ``close_pull(repo, number)``,
    ``comment(repo, number, body)``,
    ``set_status(repo, sha_or_branch, "success"|"pending"|"failure")``: CI result; on success
    requests with auto-merge (GitHub) / merge-when-pipeline-succeeds (GitLab) merge for real.
    Repository switches: ``repo(name).allow_auto_merge`` (GraphQL refusal when False),
    ``repo(name).require_checks`` (False: auto-merge answers "clean status").

Read state:
    ``branch_sha(repo, branch)``, ``branches(repo)``, ``read_file(repo, rev, path)``,
    ``pulls(repo)``, ``pull(repo, number)`` -> ``state.PullRequest`` (title, body, state,
    merged, labels, assignees, reviewers, comments, auto_merge, merge_commit_sha...),
    ``issues(repo)`` (plain GitHub issues), ``repo(name).git`` (``barerepo.BareRepo``).

GitHub App (real RS256 JWT verification):
    ``app_id, private_key_pem = create_app()``; ``install_app(app_id, "owner", ["owner/repo"])``
    -> installation id; installation tokens reach only those repositories (API and git).

Webhooks (delivered by a background thread to a real HTTP receiver):
    ``add_webhook(url, flavour="github"|"gitlab", secret=None, repo=None)``;
    ``deliveries()`` -> ``webhooks.Delivery`` list (event, headers, payload, status).

Observe and disturb:
    ``calls(api=None)`` (api: github, gitlab, graphql, git), ``count_calls(api, method=...,
    path=regex, writes=True|False)``, ``clear_calls()``, ``take_violations()``,
    ``inject_fault(api="github"|"gitlab", status=429, method=None, path=regex, times=1,
    retry_after=None, message=None, primary=False)`` (403 + Retry-After = GitHub secondary
    limit; ``primary=True`` adds ``X-RateLimit-Remaining: 0``).

Clients: PyGithub throttles itself by default (0.25 s between requests, 1 s between writes);
pass ``seconds_between_requests=None, seconds_between_writes=None`` against the fake.
GraphQL is at ``http://127.0.0.1:PORT/api/graphql`` (PyGithub derives it from ``/api/v3``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeforge.control import FakeForge

CONTRACTS = Path(__file__).resolve().parents[3] / "shared" / "contracts"


@pytest.fixture(scope="session")
def _fake_forge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeForge]:
    if not CONTRACTS.is_dir():
        pytest.skip(f"{CONTRACTS} is absent (the fake forge validates against it)")
    forge = FakeForge(tmp_path_factory.mktemp("fakeforge"), CONTRACTS).start()
    yield forge
    forge.stop()


@pytest.fixture
def fake_forge(_fake_forge_server: FakeForge) -> Iterator[FakeForge]:
    """The running fake forge with a clean state; fails the test on contract violations."""
    forge = _fake_forge_server
    forge.reset()
    yield forge
    violations = forge.take_violations()
    if violations:
        pytest.fail(
            "the fake forge saw calls outside the published contracts:\n  "
            + "\n  ".join(violations[:20]),
            pytrace=False,
        )
