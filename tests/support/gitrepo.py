"""Real git repositories and remotes for the tests (a registered pytest plugin).

`git_remote` makes bare remotes seeded from files or a directory, with every ref update
logged (`core.logAllRefUpdates=always`), so a test can prove a pass wrote nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # noqa: TID251  (tests drive real git repositories)
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["GitRemote", "git_cmd"]

_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Human Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Human Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
    "LC_ALL": "C",
}


def git_cmd(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in `cwd` as a human developer would; stdout, or the test fails with stderr."""
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **_ENV, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout


@dataclass
class GitRemote:
    """A bare repository standing in for the manifests repository's remote."""

    path: Path
    scratch: Path  # a human's clone, for commits the bot did not make
    base: str = "main"

    @property
    def url(self) -> str:
        return str(self.path)

    def refs(self) -> dict[str, str]:
        """Every ref of the remote and the sha it points at."""
        out = git_cmd(self.path, "for-each-ref", "--format=%(refname) %(objectname)")
        return dict(line.split(" ", 1) for line in out.splitlines())

    def reflog(self) -> list[str]:
        """Every ref update the remote ever received, oldest first."""
        logs = self.path / "logs"
        if not logs.is_dir():
            return []
        return sorted(
            f"{log.relative_to(logs)} {line}"
            for log in logs.rglob("*")
            if log.is_file()
            for line in log.read_text().splitlines()
        )

    def branches(self, prefix: str = "") -> list[str]:
        out = git_cmd(self.path, "for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads/")
        return [name for name in out.split() if name.startswith(prefix)]

    def show(self, rev: str, path: str) -> str:
        """The text of `path` at `rev` on the remote."""
        return git_cmd(self.path, "show", f"{rev}:{path}")

    def message(self, rev: str) -> str:
        return git_cmd(self.path, "log", "-1", "--format=%B", rev)

    def author(self, rev: str) -> str:
        return git_cmd(self.path, "log", "-1", "--format=%an <%ae>", rev).strip()

    def count(self, rev_range: str) -> int:
        return int(git_cmd(self.path, "rev-list", "--count", rev_range))

    def commit(
        self, branch: str, files: Mapping[str, str], message: str, *, on: str | None = None
    ) -> str:
        """Commit `files` as a human on top of `on` (default: `branch`), push it to `branch`."""
        start = on or branch
        refspec = f"+{start}:refs/remotes/origin/{start}"
        git_cmd(self.scratch, "fetch", "--quiet", "origin", refspec)
        git_cmd(self.scratch, "checkout", "--quiet", "--force", "-B", "work", f"origin/{start}")
        for name, text in files.items():
            target = self.scratch / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            git_cmd(self.scratch, "add", name)
        git_cmd(self.scratch, "commit", "--quiet", "-m", message)
        git_cmd(self.scratch, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
        return git_cmd(self.scratch, "rev-parse", "HEAD").strip()


MakeRemote = Callable[..., GitRemote]


@pytest.fixture
def git_remote(tmp_path: Path) -> Iterator[MakeRemote]:
    """A factory: `git_remote(files={...})` or `git_remote(tree=Path)` -> a seeded GitRemote."""
    made = 0

    def make(
        *, files: Mapping[str, str] | None = None, tree: Path | None = None, base: str = "main"
    ) -> GitRemote:
        nonlocal made
        made += 1
        root = tmp_path / f"remote-{made}"
        bare, scratch = root / "remote.git", root / "human"
        git_cmd(tmp_path, "init", "--quiet", "--bare", f"--initial-branch={base}", str(bare))
        git_cmd(bare, "config", "core.logAllRefUpdates", "always")
        git_cmd(tmp_path, "init", "--quiet", f"--initial-branch={base}", str(scratch))
        if tree is not None:
            shutil.copytree(tree, scratch, dirs_exist_ok=True)
        for name, text in (files or {}).items():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            (scratch / name).write_text(text)
        git_cmd(scratch, "add", "--all")
        git_cmd(scratch, "commit", "--quiet", "-m", "manifests")
        git_cmd(scratch, "remote", "add", "origin", str(bare))
        git_cmd(scratch, "push", "--quiet", "origin", f"HEAD:refs/heads/{base}")
        return GitRemote(bare, scratch, base)

    yield make
