"""A manifests repository on the fake forge with two images (two bot groups) and the config that
points `image-bot run --once` at it, for GitHub (PyGithub) or GitLab (python-gitlab)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from image_bot.cli import cli
from tests.fakeforge.control import FakeForge
from tests.fakeforge.state import Comment, PullRequest
from tests.support.registry import RunningRegistry

REPO = "acme/deploy"
FORGES = ("github", "gitlab")


@dataclass
class Lifecycle:
    """One repository, its two images (`app`, `side`) and the bot's config file."""

    forge: FakeForge
    registry: RunningRegistry
    kind: str  # github | gitlab
    namespace: str  # registry repositories live under it
    config: Path
    cache: Path
    repo: str = REPO

    @property
    def app(self) -> str:
        return f"{self.registry.host}/{self.namespace}/app"

    @property
    def side(self) -> str:
        return f"{self.registry.host}/{self.namespace}/side"

    def push(self, image: str, *tags: str) -> None:
        self.registry.push_tags(f"{self.namespace}/{image}", list(tags), distinct=True)

    def write_config(self, extra: str = "") -> None:
        """The bot's config; `extra` is appended to the repository entry (indented 4)."""
        if self.kind == "github":
            url = self.forge.git_url(self.repo)
            forge = (
                f"{{type: github, api_url: '{self.forge.github_api_url}',"
                f" token: '{self.forge.bot_token}'}}"
            )
        else:
            url = self.forge.git_url(self.repo, user="oauth2")
            forge = (
                f"{{type: gitlab, url: '{self.forge.gitlab_url}', token: '{self.forge.bot_token}'}}"
            )
        self.config.write_text(
            f"registries: [{{host: '{self.registry.host}', insecure: true}}]\n"
            "repositories:\n"
            f"  - url: '{url}'\n"
            f"    project: {self.repo}\n"
            f"    forge: {forge}\n" + extra
        )

    def args(self) -> list[str]:
        return ["run", "--once", "--json", "--config", str(self.config), "--no-state",
                "--cache-dir", str(self.cache)]  # fmt: skip

    def pulls(self, state: str | None = None) -> list[PullRequest]:
        return [p for p in self.forge.pulls(self.repo) if state is None or p.state == state]

    def bot_comments(self, pull: PullRequest) -> list[Comment]:
        return [
            c
            for c in self.forge.pull(self.repo, pull.number).comments
            if c.author == self.forge.bot
        ]

    def bot_branches(self) -> dict[str, str]:
        return {
            b: sha
            for b, sha in self.forge.branches(self.repo).items()
            if b.startswith("image-bot/")
        }


def new_lifecycle(
    forge: FakeForge,
    registry: RunningRegistry,
    kind: str,
    namespace: str,
    work: Path,
    *,
    repo: str = REPO,
) -> Lifecycle:
    """Two images at 1.0.0 with 1.1.0 available: the first pass opens two pull requests."""
    work.mkdir(parents=True, exist_ok=True)
    setup = Lifecycle(
        forge, registry, kind, namespace, work / "image-bot.yaml", work / "cache", repo
    )
    setup.push("app", "1.0.0", "1.1.0")
    setup.push("side", "1.0.0", "1.1.0")
    forge.create_repo(
        repo,
        {
            "deploy/app.yaml": f"image: {setup.app}:1.0.0\n",
            "deploy/side.yaml": f"image: {setup.side}:1.0.0\n",
        },
    )
    setup.write_config()
    return setup


def run(life: Lifecycle) -> dict[str, tuple[str, ...]]:
    """One `image-bot run --once`; the actions taken on each branch, in order."""
    result = CliRunner().invoke(cli, life.args(), catch_exceptions=False)
    assert result.stdout.startswith("{"), result.output
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report
    (repository,) = report["repositories"]
    assert not [b for b in repository["branches"] if b.get("error")], repository
    actions: dict[str, tuple[str, ...]] = {}
    for branch in repository["branches"]:
        actions[branch["branch"]] = (*actions.get(branch["branch"], ()), branch["action"])
    return actions


def assert_no_op(life: Lifecycle) -> None:
    life.forge.clear_calls()
    actions = run(life)
    assert set(actions.values()) <= {("keep",)}, actions
    assert life.forge.count_calls(writes=True) == 0
