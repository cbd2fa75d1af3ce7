"""The GitHub Action (action.yml): its run step, executed by bash as the runner executes a
composite step, against a real registry and a real git remote. It must pass the inputs
through, write the Markdown report to $GITHUB_STEP_SUMMARY, set its outputs and fail the
step exactly when image-bot fails. (The install step's commands are the ones
test_wheel_install.py runs; GitHub's runner itself cannot run here.)"""

from __future__ import annotations

import os
import subprocess  # noqa: TID251 (the test runs the action's real bash step)
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.support.gitrepo import GitRemote, MakeRemote
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.integration

ACTION = Path(__file__).resolve().parents[2] / "action.yml"


@dataclass(frozen=True)
class Step:
    code: int
    summary: str
    outputs: dict[str, str]
    stdout: str
    stderr: str


def run_step(tmp: Path, config: Path, **inputs: str) -> Step:
    """The `run` step with the runner's files and variables, image-bot from this venv."""
    action = YAML(typ="safe", pure=True).load(ACTION.read_text(encoding="utf-8"))
    (step,) = [step for step in action["runs"]["steps"] if step.get("id") == "run"]
    assert step["shell"] == "bash"
    defaults = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    given = {**defaults, "config": str(config), "state-dir": str(tmp / "state"), **inputs}
    runner_temp = tmp / "runner-temp"
    (runner_temp / "image-bot-venv" / "bin").mkdir(parents=True, exist_ok=True)
    link = runner_temp / "image-bot-venv" / "bin" / "image-bot"
    if not link.exists():
        link.symlink_to(Path(sys.executable).parent / "image-bot")
    summary, outputs = tmp / "summary.md", tmp / "outputs"
    summary.write_text("")
    outputs.write_text("")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "CONFIG": given["config"],
        "DRY_RUN": given["dry-run"],
        "LOG_FORMAT": given["log-format"],
        "STATE_DIR": given["state-dir"],
    }
    # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`
    script = tmp / "step.sh"
    script.write_text(step["run"])
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env, capture_output=True, text=True, check=False, cwd=tmp,
    )  # fmt: skip
    lines = outputs.read_text().splitlines()
    return Step(
        result.returncode,
        summary.read_text(),
        dict(line.split("=", 1) for line in lines),
        result.stdout,
        result.stderr,
    )


@pytest.fixture
def manifests(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> tuple[Path, GitRemote]:
    registry.push_tags(f"{repo_name}/app", ["1.0.0", "1.1.0"], distinct=True)
    image = f"{registry.host}/{repo_name}/app"
    remote = git_remote(files={"app.yaml": f"services:\n  app:\n    image: {image}:1.0.0\n"})
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries:\n  - host: '{registry.host}'\n    insecure: true\n"
        f"repositories:\n  - url: '{remote.url}'\n"
    )
    return config, remote


def test_the_pass_lands_in_the_job_summary_and_the_outputs(
    manifests: tuple[Path, GitRemote], tmp_path: Path
) -> None:
    config, remote = manifests
    step = run_step(tmp_path, config)
    assert step.code == 0, step.stderr
    (branch,) = remote.branches("image-bot/")
    assert step.summary.startswith("## image-bot: ✅ ok\n")
    assert f"| create | `{branch}` |" in step.summary
    assert step.outputs["exit-code"] == "0"
    assert Path(step.outputs["report"]).read_text() == step.summary
    assert (tmp_path / "state" / "state.sqlite3").is_file()  # the state-dir input was used


def test_dry_run_writes_nothing_and_says_so(
    manifests: tuple[Path, GitRemote], tmp_path: Path
) -> None:
    config, remote = manifests
    step = run_step(tmp_path, config, **{"dry-run": "true", "log-format": "json"})
    assert step.code == 0, step.stderr
    assert remote.branches("image-bot/") == []
    assert "| would create |" in step.summary
    assert "(dry run: nothing written)" in step.summary


def test_a_bad_config_fails_the_step_with_a_summary_pointing_at_the_log(tmp_path: Path) -> None:
    config = tmp_path / "image-bot.yaml"
    config.write_text("repositories:\n  - url: x\n    grouping: {strategy: sideways}\n")
    step = run_step(tmp_path, config)
    assert step.code == 2
    assert step.outputs["exit-code"] == "2"
    assert "no report (see the job log)" in step.summary
    assert "grouping" in step.stderr


def test_a_dry_run_input_that_is_not_a_boolean_is_refused(tmp_path: Path) -> None:
    step = run_step(tmp_path, tmp_path / "image-bot.yaml", **{"dry-run": "yes"})
    assert step.code == 2
    assert "::error::dry-run must be true or false, not 'yes'" in step.stdout
    assert step.summary == ""  # image-bot never ran
