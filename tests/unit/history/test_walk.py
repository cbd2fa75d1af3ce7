"""The history walk on real repositories: first-parent merges, pull request numbers, removals,
files out of scope, symlinks and oversized files; the git reads it is made of."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_bot.edit.scope import Scope
from image_bot.history.walk import pull_request_of, read_timeline
from image_bot.model import ImageName
from image_bot.publish.git import Git
from tests.support.gitrepo import git_cmd

APP = ImageName("ghcr.io", "acme/app")


def pod(tag: str) -> str:
    return (
        f"kind: Pod\nspec:\n  containers:\n    - name: app\n      image: ghcr.io/acme/app:{tag}\n"
    )


def commit(repo: Path, files: dict[str, str | None], message: str, when: int) -> None:
    for name, text in files.items():
        target = repo / name
        if text is None:
            git_cmd(repo, "rm", "--quiet", name)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        git_cmd(repo, "add", name)
    stamp = f"{when} +0000"
    git_cmd(
        repo,
        "commit",
        "--quiet",
        "-m",
        message,
        env={"GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": "1000000000 +0000"},
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "deploy"
    git_cmd(tmp_path, "init", "--quiet", "-b", "main", str(root))
    commit(
        root, {"envs/dev/app.yaml": pod("1.0"), "docs/app.yaml": pod("0.1")}, "init", 1_800_000_000
    )
    git_cmd(root, "checkout", "--quiet", "-b", "feature")
    commit(root, {"envs/dev/app.yaml": pod("1.1")}, "bump on a branch", 1_800_000_100)
    commit(root, {"envs/dev/app.yaml": pod("1.2")}, "bump again", 1_800_000_200)
    git_cmd(root, "checkout", "--quiet", "main")
    git_cmd(
        root,
        "merge",
        "--quiet",
        "--no-ff",
        "feature",
        "-m",
        "Merge pull request #12 from acme/feature",
        env={"GIT_COMMITTER_DATE": "1800000300 +0000"},
    )
    (root / "envs/dev/link.yaml").symlink_to("../../docs/app.yaml")  # a symlink is not followed
    git_cmd(root, "add", "envs/dev/link.yaml")
    commit(
        root,
        {"envs/dev/big.yaml": pod("2.0") + "#" * 5000},
        "link and a big file (#13)",
        1_800_000_400,
    )
    commit(root, {"envs/dev/app.yaml": None}, "remove", 1_800_000_500)
    return root


def test_the_walk_follows_the_first_parent_and_reads_only_the_scope(repo: Path) -> None:
    git = Git.at(repo / "envs")
    timeline = read_timeline(git, "HEAD", Scope(directories=("envs",), max_bytes=2000))
    entries = timeline.of("envs/dev/app.yaml", APP)
    assert [(e.tag, e.commit.pull_request) for e in entries] == [("1.0", None), ("1.2", "#12")]
    merged = entries[1]
    assert merged.since.timestamp() == 1_800_000_300  # the merge landing, not the authoring
    assert merged.until is not None and merged.until.timestamp() == 1_800_000_500
    assert "Human Dev" in merged.commit.author
    assert {e.place for e in timeline.entries} == {"envs/dev/app.yaml"}  # no docs/, link, big
    assert timeline.commits == 4  # commits that touched envs/ on the first-parent line
    assert git.calls["log"] == 1


@pytest.mark.parametrize(
    ("message", "pull"),
    [
        ("Merge pull request #12 from acme/feature\n\nbody", "#12"),
        ("Merge branch 'x' into 'main'\n\nTitle\n\nSee merge request acme/deploy!34", "!34"),
        ("Update app to 1.2 (#56)\n\n* squashed", "#56"),
        ("Fix #78 in the middle", None),
    ],
)
def test_pull_request_numbers_come_from_merge_and_squash_messages(
    message: str, pull: str | None
) -> None:
    assert pull_request_of(message) == pull


def test_blobs_are_read_in_batches_and_missing_ones_left_out(repo: Path) -> None:
    git = Git.at(repo)
    blob = git.run("rev-parse", "HEAD:docs/app.yaml").strip()
    missing = "0" * 40
    assert git.read_blobs([blob, missing]) == {blob: pod("0.1").encode()}
    assert git.object_sizes([blob, missing]) == {blob: len(pod("0.1"))}


def test_history_reads_the_files_a_pass_reads_also_for_file_entries_and_excluded_dirs(
    tmp_path: Path,
) -> None:
    root = tmp_path / "deploy"
    git_cmd(tmp_path, "init", "--quiet", "-b", "main", str(root))
    files = {
        "envs/prod/app.yaml": pod("1.0"),
        "envs/prod/values.txt": pod("1.0"),  # named by a file entry: read whatever its name
        "envs/dev/app.yaml": pod("1.0"),
        "envs/dev/old/app.yaml": pod("0.9"),  # in a directory an exclude glob leaves out
    }
    commit(root, files, "init", 1_800_000_000)
    commit(root, {name: pod("1.1") for name in files}, "bump (#2)", 1_800_000_100)
    scope = Scope(directories=("envs/dev", "envs/prod/values.txt"), exclude=("envs/dev/old/",))
    found = {o.path for o in scope.find(root).occurrences}
    timeline = read_timeline(Git.at(root), "HEAD", scope)
    assert found == {"envs/dev/app.yaml", "envs/prod/values.txt"}
    assert {e.place for e in timeline.entries} == found
    assert [e.tag for e in timeline.of("envs/prod/values.txt", APP)] == ["1.0", "1.1"]
