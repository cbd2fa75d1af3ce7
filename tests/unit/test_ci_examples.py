"""The CI recipes in examples/, the release workflow and the GitHub Action stay runnable and
safe: each passes its platform's JSON schema (check-jsonschema's vendored GitHub workflow,
GitHub action and GitLab CI schemas) and zizmor's audits (actions pinned by commit, least
privilege, no persisted credentials, no template injection), the examples are scheduled,
and every image-bot command line in them parses with today's CLI (a renamed option would
break users' jobs)."""

from __future__ import annotations

import shlex
import subprocess  # noqa: TID251 (the test runs the real linters)
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from image_bot.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "2>&1"}
GITHUB_FILES = [".github/workflows/release.yml", "action.yml", "examples/github-actions.yml"]
SCHEMAS = {
    ".github/workflows/release.yml": "vendor.github-workflows",
    "examples/github-actions.yml": "vendor.github-workflows",
    "action.yml": "vendor.github-actions",
    "examples/gitlab-ci.yml": "vendor.gitlab-ci",
}


def load(name: str) -> dict[str, object]:
    data = YAML(typ="safe", pure=True).load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def image_bot_commands(lines: list[str]) -> list[list[str]]:
    """The argument lists of every `image-bot ...` line, up to the first shell operator."""
    commands = []
    for text in lines:
        for line in text.splitlines():
            if not line.strip().startswith("image-bot "):
                continue
            words = shlex.split(line)[1:]
            cut = [i for i, word in enumerate(words) if word in SHELL_OPERATORS]
            commands.append(words[: cut[0]] if cut else words)
    return commands


def assert_parses(argv: list[str]) -> None:
    command = cli.commands[argv[0]]
    command.make_context(argv[0], argv[1:])  # raises click.UsageError on unknown options


def test_github_actions_workflow() -> None:
    workflow = load("github-actions.yml")
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on"
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    assert len(triggers["schedule"][0]["cron"].split()) == 5
    (job,) = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    commands = image_bot_commands(runs)
    assert [argv[0] for argv in commands] == ["check-config", "run"]
    for argv in commands:
        assert_parses(argv)
    run_step = next(step for step in job["steps"] if "run --once" in step.get("run", ""))
    assert all(value.startswith("${{ ") for value in run_step["env"].values())


def test_gitlab_ci_job() -> None:
    (job,) = load("gitlab-ci.yml").values()
    assert isinstance(job, dict)
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    commands = image_bot_commands(job["script"])
    assert [argv[0] for argv in commands] == ["check-config", "run"]
    for argv in commands:
        assert_parses(argv)


@pytest.mark.parametrize("argv", [["run", "--onse"], ["check-config"]])
def test_the_parse_check_catches_a_broken_command_line(argv: list[str]) -> None:
    import click

    with pytest.raises(click.UsageError):
        assert_parses(argv)


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("path", sorted(SCHEMAS))
def test_passes_its_platforms_schema(path: str) -> None:
    result = tool("check-jsonschema", "--builtin-schema", SCHEMAS[path], path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_even_pedantic() -> None:
    """Offline: the audits that need GitHub's API (impostor commits, tag/SHA agreement, known
    vulnerable versions) cannot run here; the SHAs were read from the actions' own
    repositories."""
    result = tool(
        "zizmor", "--offline", "--persona", "pedantic", "--format", "plain", *GITHUB_FILES
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_zizmor_catches_what_it_is_here_to_catch(tmp_path: Path) -> None:
    workflow = tmp_path / "bad.yml"
    workflow.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.head_commit.message }}"\n'
    )
    result = tool("zizmor", "--offline", "--format", "plain", str(workflow))
    assert result.returncode != 0
    for audit in ("unpinned-uses", "artipacked", "excessive-permissions", "template-injection"):
        assert audit in result.stdout, result.stdout


def test_every_action_is_pinned_to_a_full_commit_with_its_release_beside_it() -> None:
    for path in GITHUB_FILES:
        uses = [
            line.split("uses:", 1)[1].strip()
            for line in (ROOT / path).read_text(encoding="utf-8").splitlines()
            if line.strip().removeprefix("- ").startswith("uses:")
        ]
        assert uses, path
        for use in uses:
            ref, _, comment = use.partition(" # ")
            sha = ref.rpartition("@")[2]
            assert len(sha) == 40, (path, use)
            assert all(c in "0123456789abcdef" for c in sha), (path, use)
            assert comment.startswith("v"), (path, use)
