"""PyGithub's git-data calls against the fake forge (the App-mode "one commit, many files" flow
recorded in pygithub-replay/GitRef.testExample.txt) and the contents API: objects really land
in the bare repository."""

from __future__ import annotations

import pytest
from github import Auth, Github, GithubException, InputGitTreeElement
from github.Repository import Repository as GhRepository

from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration

REPO = "acme/deploy"


@pytest.fixture
def gh_repo(fake_forge: FakeForge) -> GhRepository:
    fake_forge.create_repo(REPO, {"app.yaml": "image: nginx:1.0\n", "lib/x.txt": "x\n"})
    gh = Github(
        auth=Auth.Token(fake_forge.bot_token),
        base_url=fake_forge.github_api_url,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    return gh.get_repo(REPO)


def test_one_commit_many_files_flow(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    base = gh_repo.get_git_ref("heads/main")
    base_commit = gh_repo.get_git_commit(base.object.sha)
    tree = gh_repo.create_git_tree(
        [
            InputGitTreeElement("app.yaml", "100644", "blob", content="image: nginx:1.1\n"),
            InputGitTreeElement("lib/x.txt", "100644", "blob", sha=None),
            InputGitTreeElement("new.txt", "100644", "blob", content="new\n"),
        ],
        base_tree=gh_repo.get_git_tree(base_commit.tree.sha),
    )
    commit = gh_repo.create_git_commit("Bump nginx", tree, [base_commit])
    ref = gh_repo.create_git_ref("refs/heads/image-bot/nginx", commit.sha)

    assert fake_forge.branch_sha(REPO, "image-bot/nginx") == commit.sha
    assert fake_forge.read_file(REPO, commit.sha, "app.yaml") == "image: nginx:1.1\n"
    assert fake_forge.read_file(REPO, commit.sha, "lib/x.txt") is None
    assert fake_forge.read_file(REPO, commit.sha, "new.txt") == "new\n"
    info = fake_forge.repo(REPO).git.commit_info(commit.sha)
    assert info.parents == (base.object.sha,)
    assert info.author_name == "image-bot"

    second = gh_repo.create_git_commit("again", tree, [commit])
    ref.edit(second.sha)
    assert fake_forge.branch_sha(REPO, "image-bot/nginx") == second.sha
    matching = gh_repo.get_git_matching_refs("heads/image-bot/")
    assert [r.ref for r in matching] == ["refs/heads/image-bot/nginx"]


def test_ref_update_must_fast_forward_unless_forced(
    fake_forge: FakeForge, gh_repo: GhRepository
) -> None:
    main = fake_forge.branch_sha(REPO, "main")
    assert main is not None
    side = fake_forge.commit(REPO, "side", {"a": "1"}, start="main")
    other = fake_forge.commit(REPO, "other", {"b": "2"}, start="main")
    ref = gh_repo.get_git_ref("heads/side")
    with pytest.raises(GithubException) as caught:
        ref.edit(other)
    assert caught.value.status == 422
    assert fake_forge.branch_sha(REPO, "side") == side
    ref.edit(other, force=True)
    assert fake_forge.branch_sha(REPO, "side") == other


def test_recursive_tree_lists_files(gh_repo: GhRepository) -> None:
    tree = gh_repo.get_git_tree("main", recursive=True)
    paths = {(e.path, e.type) for e in tree.tree}
    assert paths == {("app.yaml", "blob"), ("lib", "tree"), ("lib/x.txt", "blob")}


def test_blobs_round_trip(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    blob = gh_repo.create_git_blob("hello\n", "utf-8")
    assert fake_forge.repo(REPO).git.cat(blob.sha) == b"hello\n"
    assert gh_repo.get_git_blob(blob.sha).size == 6


def test_contents_get_and_update(fake_forge: FakeForge, gh_repo: GhRepository) -> None:
    current = gh_repo.get_contents("app.yaml", ref="main")
    assert not isinstance(current, list)
    assert current.decoded_content == b"image: nginx:1.0\n"
    result = gh_repo.update_file(
        "app.yaml", "Bump", "image: nginx:1.2\n", current.sha, branch="main"
    )
    assert fake_forge.branch_sha(REPO, "main") == result["commit"].sha
    assert fake_forge.read_file(REPO, "main", "app.yaml") == "image: nginx:1.2\n"
    with pytest.raises(GithubException) as caught:  # stale blob sha
        gh_repo.update_file("app.yaml", "Again", "x\n", current.sha, branch="main")
    assert caught.value.status == 409
