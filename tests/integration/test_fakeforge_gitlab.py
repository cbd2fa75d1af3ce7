"""The real python-gitlab client against the fake forge: merge requests, notes, labels,
merges that are real git merges, auto-merge, multi-file commits, pagination headers, git over
HTTP with `oauth2:TOKEN`, auth failures, 429 with Retry-After and the contract check."""

from __future__ import annotations

import subprocess  # noqa: TID251 - the test drives the real git client
from pathlib import Path

import gitlab
import pytest
from gitlab.v4.objects import Project

from tests.fakeforge.barerepo import git_env
from tests.fakeforge.control import FakeForge

pytestmark = pytest.mark.integration

REPO = "group/deploy"


def client(forge: FakeForge, token: str | None = None) -> gitlab.Gitlab:
    return gitlab.Gitlab(url=forge.gitlab_url, private_token=token or forge.bot_token)


@pytest.fixture
def project(fake_forge: FakeForge) -> Project:
    fake_forge.create_repo(REPO, {"app.yaml": "image: nginx:1.0\n"})
    fake_forge.commit(REPO, "image-bot/nginx", {"app.yaml": "image: nginx:1.1\n"}, start="main")
    return client(fake_forge).projects.get(REPO)


def open_mr(project: Project, **extra: object) -> object:
    fields = {"source_branch": "image-bot/nginx", "target_branch": "main", "title": "Bump"}
    return project.mergerequests.create({**fields, **extra})


def test_project_by_encoded_path_and_by_id(fake_forge: FakeForge, project: Project) -> None:
    assert project.default_branch == "main"
    assert project.path_with_namespace == REPO
    assert project.http_url_to_repo == f"{fake_forge.base_url}/{REPO}.git"
    assert client(fake_forge).projects.get(project.id).path_with_namespace == REPO


def test_create_list_update_and_close_merge_request(
    fake_forge: FakeForge, project: Project
) -> None:
    mr = project.mergerequests.create(
        {
            "source_branch": "image-bot/nginx",
            "target_branch": "main",
            "title": "Bump",
            "description": "v1",
            "labels": ["dependencies", "image-bot"],
        }
    )
    assert mr.iid == 1
    assert mr.sha == fake_forge.branch_sha(REPO, "image-bot/nginx")
    assert mr.detailed_merge_status == "mergeable"
    assert mr.labels == ["dependencies", "image-bot"]

    found = project.mergerequests.list(
        state="opened", source_branch="image-bot/nginx", get_all=True
    )
    assert [m.iid for m in found] == [1]
    assert project.mergerequests.list(state="opened", source_branch="other", get_all=True) == []

    mr.title = "Bump nginx to 1.1"
    mr.description = "v2"
    mr.save()
    state = fake_forge.pull(REPO, 1)
    assert (state.title, state.body) == ("Bump nginx to 1.1", "v2")

    project.mergerequests.update(1, {"add_labels": "urgent", "remove_labels": "image-bot"})
    assert fake_forge.pull(REPO, 1).labels == ["dependencies", "urgent"]

    mr.state_event = "close"
    mr.save()
    assert fake_forge.pull(REPO, 1).state == "closed"
    closed = project.mergerequests.list(state="closed", get_all=True)
    assert [m.state for m in closed] == ["closed"]


def test_second_open_merge_request_for_branch_is_refused_with_409(project: Project) -> None:
    open_mr(project)
    with pytest.raises(gitlab.GitlabCreateError) as caught:
        open_mr(project, title="Again")
    assert caught.value.response_code == 409


def test_notes_assignees_and_reviewers(fake_forge: FakeForge, project: Project) -> None:
    human = fake_forge.human
    mr = open_mr(project, assignee_ids=[human.id], reviewer_ids=[human.id])
    mr.notes.create({"body": "first"})
    mr.notes.create({"body": "second"})
    assert [n.body for n in mr.notes.list(get_all=True)] == ["second", "first"]
    state = fake_forge.pull(REPO, mr.iid)
    assert [c.body for c in state.comments] == ["first", "second"]
    assert state.assignees == ["alice"]
    assert state.reviewers == ["alice"]
    assert [a["username"] for a in project.mergerequests.get(mr.iid).assignees] == ["alice"]


def test_merge_is_a_real_git_merge(fake_forge: FakeForge, project: Project) -> None:
    mr = open_mr(project)
    head = fake_forge.branch_sha(REPO, "image-bot/nginx")
    mr.merge(should_remove_source_branch=True, sha=head)

    assert mr.state == "merged"
    main = fake_forge.branch_sha(REPO, "main")
    assert mr.merge_commit_sha == main
    assert fake_forge.repo(REPO).git.commit_info(main).parents[1] == head
    assert fake_forge.read_file(REPO, "main", "app.yaml") == "image: nginx:1.1\n"
    assert fake_forge.branch_sha(REPO, "image-bot/nginx") is None


def test_merge_with_stale_sha_is_refused(fake_forge: FakeForge, project: Project) -> None:
    mr = open_mr(project)
    with pytest.raises(gitlab.GitlabMRClosedError) as caught:
        mr.merge(sha="0" * 40)
    assert caught.value.response_code == 409
    assert fake_forge.pull(REPO, mr.iid).state == "open"


def test_merge_when_pipeline_succeeds_is_recorded(fake_forge: FakeForge, project: Project) -> None:
    mr = open_mr(project)
    mr.merge(merge_when_pipeline_succeeds=True)
    assert mr.merge_when_pipeline_succeeds is True
    assert fake_forge.pull(REPO, mr.iid).auto_merge == "MERGE"
    assert fake_forge.pull(REPO, mr.iid).state == "open"
    mr.cancel_merge_when_pipeline_succeeds()
    assert fake_forge.pull(REPO, mr.iid).auto_merge is None


def test_commit_with_actions_creates_branch(fake_forge: FakeForge, project: Project) -> None:
    commit = project.commits.create(
        {
            "branch": "image-bot/redis",
            "start_branch": "main",
            "commit_message": "Bump redis",
            "actions": [
                {"action": "update", "file_path": "app.yaml", "content": "image: redis:7\n"},
                {"action": "create", "file_path": "new/file.txt", "content": "x\n"},
            ],
        }
    )
    assert fake_forge.branch_sha(REPO, "image-bot/redis") == commit.id
    assert fake_forge.read_file(REPO, "image-bot/redis", "app.yaml") == "image: redis:7\n"
    assert fake_forge.read_file(REPO, "image-bot/redis", "new/file.txt") == "x\n"
    assert project.files.get("new/file.txt", ref="image-bot/redis").decode() == b"x\n"
    assert project.branches.get("image-bot/redis").commit["id"] == commit.id


def test_list_paginates_with_gitlab_headers(fake_forge: FakeForge, project: Project) -> None:
    for i in range(5):
        fake_forge.commit(REPO, f"b{i}", {f"f{i}": "x"}, start="main")
        fake_forge.open_pull(REPO, f"b{i}", title=f"mr {i}")
    listing = project.mergerequests.list(per_page=2, iterator=True)
    assert [m.iid for m in listing] == [5, 4, 3, 2, 1]
    assert listing.total == 5
    assert listing.total_pages == 3


def test_pagination_links_keep_the_encoded_project_path(fake_forge: FakeForge) -> None:
    fake_forge.create_repo(REPO)
    for i in range(3):
        fake_forge.commit(REPO, f"b{i}", {f"f{i}": "x"}, start="main")
        fake_forge.open_pull(REPO, f"b{i}", title=f"mr {i}")
    lazy = client(fake_forge).projects.get(REPO, lazy=True)  # addressed by path, not id
    assert [m.iid for m in lazy.mergerequests.list(per_page=1, get_all=True)] == [3, 2, 1]
    paths = {c.path for c in fake_forge.calls("gitlab")}
    assert paths == {"/projects/group%2Fdeploy/merge_requests"}


def test_git_clone_and_push_over_http_with_oauth2_token(
    fake_forge: FakeForge, project: Project, tmp_path: Path
) -> None:
    env = git_env()
    work = tmp_path / "clone"
    url = fake_forge.git_url(REPO, user="oauth2")
    run = [["git", "clone", "-q", url, str(work)]]
    assert subprocess.run(run[0], capture_output=True, env=env, check=False).returncode == 0
    (work / "app.yaml").write_text("image: nginx:1.3\n")
    for args in (
        ["checkout", "-qb", "b13"],
        ["commit", "-qam", "1.3"],
        ["push", "-q", "origin", "b13"],
    ):
        done = subprocess.run(["git", *args], cwd=work, capture_output=True, env=env, check=False)
        assert done.returncode == 0, done.stderr
    mr = project.mergerequests.create(
        {"source_branch": "b13", "target_branch": "main", "title": "1.3"}
    )
    assert mr.sha == fake_forge.branch_sha(REPO, "b13")


def test_oauth_and_job_tokens_are_accepted(fake_forge: FakeForge, project: Project) -> None:
    for auth in ({"oauth_token": fake_forge.bot_token}, {"job_token": fake_forge.bot_token}):
        gl = gitlab.Gitlab(url=fake_forge.gitlab_url, **auth)
        assert gl.projects.get(REPO).id == project.id


def test_bad_token_gets_401(fake_forge: FakeForge, project: Project) -> None:
    with pytest.raises(gitlab.GitlabAuthenticationError) as caught:
        client(fake_forge, token="glpat-wrong").projects.get(REPO)
    assert caught.value.response_code == 401


def test_429_with_retry_after_is_retried_by_python_gitlab(
    fake_forge: FakeForge, project: Project
) -> None:
    fake_forge.inject_fault("gitlab", 429, method="GET", path=r"/merge_requests$", retry_after=0)
    assert project.mergerequests.list(get_all=True) == []
    statuses = [c.status for c in fake_forge.calls("gitlab") if c.path.endswith("/merge_requests")]
    assert statuses == [429, 200]


def test_undocumented_call_is_reported_as_violation(
    fake_forge: FakeForge, project: Project
) -> None:
    mr = open_mr(project)
    with pytest.raises(gitlab.GitlabError):
        mr.approve()  # the approvals API is not in the published contract
    violations = fake_forge.take_violations()
    assert violations == [
        f"gitlab: undocumented call POST /projects/{project.id}/merge_requests/1/approve"
    ]


def test_unknown_parameter_is_reported_as_violation(
    fake_forge: FakeForge, project: Project
) -> None:
    with pytest.raises(gitlab.GitlabCreateError):
        open_mr(project, colour="blue")
    violations = fake_forge.take_violations()
    assert len(violations) == 1
    assert "undocumented parameter 'colour'" in violations[0]


def test_rebase_replays_the_source_branch_onto_the_target(
    fake_forge: FakeForge, project: Project
) -> None:
    mr = open_mr(project)
    fake_forge.commit(REPO, "main", {"other.txt": "moved on\n"})
    mr.rebase()
    polled = project.mergerequests.get(mr.iid, include_rebase_in_progress=True)
    assert polled.rebase_in_progress is False
    assert polled.merge_error is None
    head = fake_forge.branch_sha(REPO, "image-bot/nginx")
    main = fake_forge.branch_sha(REPO, "main")
    assert head is not None and main is not None
    assert fake_forge.repo(REPO).git.commit_info(head).parents == (main,)
    assert fake_forge.read_file(REPO, head, "app.yaml") == "image: nginx:1.1\n"
    assert fake_forge.read_file(REPO, head, "other.txt") == "moved on\n"


def test_commits_pushed_to_the_target_mark_the_request_merged(
    fake_forge: FakeForge, project: Project
) -> None:
    mr = open_mr(project)
    head = fake_forge.branch_sha(REPO, "image-bot/nginx")
    assert head is not None
    fake_forge.repo(REPO).git.set_ref("refs/heads/main", head)  # a fast-forward push
    assert project.mergerequests.get(mr.iid).state == "merged"


def test_file_raw_and_head(fake_forge: FakeForge, project: Project) -> None:
    assert project.files.raw("app.yaml", ref="main") == b"image: nginx:1.0\n"
    headers = project.files.head("app.yaml", ref="image-bot/nginx")
    assert headers["X-Gitlab-Commit-Id"] == fake_forge.branch_sha(REPO, "image-bot/nginx")
    assert headers["X-Gitlab-Size"] == str(len("image: nginx:1.1\n"))
