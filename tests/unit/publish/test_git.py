"""publish.git against real repositories: fetch, commit without a worktree, leased pushes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from image_bot.errors import GitError, PushRejected
from image_bot.publish.git import Author, Git
from tests.support.gitrepo import GitRemote, MakeRemote, git_cmd

BOT = Author("image-bot", "bot@example.com")
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def remote(git_remote: MakeRemote) -> GitRemote:
    return git_remote(
        files={
            "app/deploy.yaml": "image: nginx:1.25\n",
            "run.sh": "#!/bin/sh\n",
            "bin/tool.sh": "#!/bin/sh\n",
        }
    )


@pytest.fixture
def git(remote: GitRemote, tmp_path: Path) -> Iterator[Git]:
    git_cmd(remote.scratch, "update-index", "--chmod=+x", "run.sh", "bin/tool.sh")
    git_cmd(remote.scratch, "commit", "--quiet", "-m", "exec")
    git_cmd(remote.scratch, "push", "--quiet", "origin", "HEAD:refs/heads/main")
    clone = Git.open(remote.url, tmp_path / "cache")
    yield clone
    clone.close()


def test_fetch_returns_the_base_head_and_reuses_the_clone(
    git: Git, remote: GitRemote, tmp_path: Path
) -> None:
    assert git.fetch("main", "image-bot/") == remote.refs()["refs/heads/main"]
    git.close()
    again = Git.open(remote.url, tmp_path / "cache")
    assert again.workdir == git.workdir
    assert "init" not in again.calls  # the cached clone is reused, not cloned again


def test_commit_builds_on_the_parent_as_the_bot_and_leaves_the_worktree(
    git: Git, remote: GitRemote
) -> None:
    base = git.fetch("main", "image-bot/")
    git.checkout_detached(base)
    files = {
        "app/deploy.yaml": "image: nginx:1.27\n",
        "run.sh": "#!/bin/sh\necho hi\n",
        "bin/tool.sh": "#!/bin/sh\necho tool\n",
    }
    sha = git.commit("image-bot/nginx", base, files, "Update nginx\n\nbody\n", BOT, when=WHEN)
    git.push(sha, "image-bot/nginx", expected=None)

    assert remote.show("image-bot/nginx", "app/deploy.yaml") == "image: nginx:1.27\n"
    assert remote.author("image-bot/nginx") == "image-bot <bot@example.com>"
    assert remote.message("image-bot/nginx").startswith("Update nginx\n\nbody")
    assert remote.count("main..image-bot/nginx") == 1
    assert sha == remote.refs()["refs/heads/image-bot/nginx"]
    tree = git_cmd(remote.path, "ls-tree", "-r", "image-bot/nginx", "run.sh", "bin/tool.sh", "app")
    assert [line.split()[0] for line in tree.splitlines()] == ["100644", "100755", "100755"]
    assert (git.workdir / "app/deploy.yaml").read_text() == "image: nginx:1.25\n"
    assert git.writes == 2


def test_branch_heads_lists_fetched_bot_branches_with_their_messages(
    git: Git, remote: GitRemote
) -> None:
    base = git.fetch("main", "image-bot/")
    sha = git.commit(
        "image-bot/a", base, {"x.yaml": "a: 1\n"}, "subject\n\nmarker\n", BOT, when=WHEN
    )
    git.push(sha, "image-bot/a", expected=None)
    git.fetch("main", "image-bot/")
    heads = git.branch_heads("image-bot/")
    assert [(h.branch, h.sha, h.author_email) for h in heads] == [
        ("image-bot/a", sha, "bot@example.com")
    ]
    assert heads[0].message == "subject\n\nmarker\n"


def test_a_stale_lease_is_a_push_rejection_and_changes_nothing(git: Git, remote: GitRemote) -> None:
    base = git.fetch("main", "image-bot/")
    first = git.commit("image-bot/a", base, {"x.yaml": "a: 1\n"}, "one\n", BOT, when=WHEN)
    git.push(first, "image-bot/a", expected=None)
    human = remote.commit("image-bot/a", {"x.yaml": "a: human\n"}, "a human fix")
    second = git.commit("image-bot/a", base, {"x.yaml": "a: 2\n"}, "two\n", BOT, when=WHEN)

    with pytest.raises(PushRejected):
        git.push(second, "image-bot/a", expected=first)
    with pytest.raises(PushRejected):
        git.push(second, "image-bot/a", expected=None)  # "must not exist" fails too
    assert remote.refs()["refs/heads/image-bot/a"] == human


def test_a_non_fast_forward_to_the_base_is_rejected_without_force(
    git: Git, remote: GitRemote
) -> None:
    base = git.fetch("main", "image-bot/")
    moved = remote.commit("main", {"other.yaml": "c: 3\n"}, "someone else")
    sha = git.commit("direct", base, {"x.yaml": "a: 1\n"}, "direct\n", BOT, when=WHEN)
    with pytest.raises(PushRejected):
        git.push(sha, "main", expected=base, force=False)
    assert remote.refs()["refs/heads/main"] == moved


def test_delete_only_deletes_where_the_bot_left_the_branch(git: Git, remote: GitRemote) -> None:
    base = git.fetch("main", "image-bot/")
    sha = git.commit("image-bot/a", base, {"x.yaml": "a: 1\n"}, "one\n", BOT, when=WHEN)
    git.push(sha, "image-bot/a", expected=None)
    with pytest.raises(PushRejected):
        git.delete_remote_branch("image-bot/a", expected=base)
    git.delete_remote_branch("image-bot/a", expected=sha)
    assert remote.branches("image-bot/") == []


def test_errors_never_show_credentials_from_the_url(tmp_path: Path) -> None:
    git = Git.open("http://bot:hunter2-secret@127.0.0.1:9/repo.git", tmp_path / "cache")
    with pytest.raises(GitError) as caught:
        git.fetch("main", "image-bot/")
    assert "hunter2-secret" not in str(caught.value)
    assert "hunter2-secret" not in caught.value.command
    assert "hunter2-secret" not in str(git.workdir)


def test_a_missing_remote_is_a_git_error(tmp_path: Path) -> None:
    git = Git.open(str(tmp_path / "nowhere.git"), tmp_path / "cache")
    with pytest.raises(GitError, match="fetch"):
        git.fetch("main", "image-bot/")


def test_a_clone_in_use_is_locked_against_other_processes(
    remote: GitRemote, tmp_path: Path
) -> None:
    first = Git.open(remote.url, tmp_path / "cache")
    blocked = Git(first.workdir, remote.url)
    with pytest.raises(GitError, match="held by another image-bot"):
        blocked.lock(wait=0.3)
    first.close()
    blocked.lock(wait=0.3)
    blocked.close()


def test_another_base_of_the_same_url_gets_its_own_clone(remote: GitRemote, tmp_path: Path) -> None:
    main = Git.open(remote.url, tmp_path / "cache", variant="main")
    release = Git.open(remote.url, tmp_path / "cache", variant="release")
    assert main.workdir != release.workdir
    main.close()
    release.close()


def test_git_missing_from_path_is_a_git_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    with pytest.raises(GitError, match="cannot run git"):
        Git(tmp_path, "unused").run("status")


def test_a_remote_that_never_answers_times_out_as_a_git_error(tmp_path: Path) -> None:
    with socket.socket() as server:  # accepts connections (backlog), never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        git = Git.open(f"http://127.0.0.1:{port}/repo.git", tmp_path / "cache")
        git.timeout = 1.0
        with pytest.raises(GitError, match="timed out"):
            git.fetch("main", "image-bot/")
        git.close()


def test_the_locks_a_killed_git_left_are_removed_when_the_clone_is_taken(
    git: Git, remote: GitRemote, tmp_path: Path
) -> None:
    """A pass killed while git checked out (or updated a ref) leaves `index.lock` behind;
    git then refuses every command in the clone, so the next pass failed its repository."""
    base = git.fetch("main", "image-bot/")
    git.checkout_detached(base)
    git.close()
    git_dir = git.workdir / ".git"
    (git_dir / "index.lock").write_text("")
    (git_dir / "refs" / "remotes" / "origin" / "main.lock").write_text("")
    with pytest.raises(GitError, match=r"index\.lock"):
        Git(git.workdir, remote.url).checkout_detached(base)  # what the next pass met
    again = Git.open(remote.url, tmp_path / "cache")
    try:
        assert not list(git_dir.glob("*.lock"))
        assert not list((git_dir / "refs").rglob("*.lock"))
        assert again.fetch("main", "image-bot/") == base
        again.checkout_detached(base)
    finally:
        again.close()
