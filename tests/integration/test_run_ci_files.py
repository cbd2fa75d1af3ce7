"""CI files through `image-bot run --once` (real docker-registry, real git): their images are
updated under their own kind, by the same policies, and `ci_files: false` leaves them alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gitrepo import MakeRemote
from tests.support.registry import RunningRegistry
from tests.support.runs import run_once_ok

pytestmark = pytest.mark.integration

WORKFLOW = """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: {image}:1.0.0
    steps:
      - uses: docker://{image}:1.0.0
"""
GITLAB = "test:\n  image: {image}:1.0.0\n  script: [make]\n"


@pytest.mark.parametrize("ci_files", [None, False])
def test_ci_images_follow_the_policies_unless_turned_off(
    registry: RunningRegistry,
    repo_name: str,
    git_remote: MakeRemote,
    tmp_path: Path,
    ci_files: bool | None,
) -> None:
    image = f"{registry.host}/{repo_name}/tool"
    registry.push_tags(f"{repo_name}/tool", ["1.0.0", "1.1.0", "2.0.0"], distinct=True)
    files = {
        ".github/workflows/test.yml": WORKFLOW.format(image=image),
        ".gitlab-ci.yml": GITLAB.format(image=image),
        "compose.yaml": f"services:\n  tool:\n    image: {image}:1.0.0\n",
    }
    remote = git_remote(files=files)
    option = "" if ci_files is None else f"    ci_files: {str(ci_files).lower()}\n"
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        f"images: [{{name: '{image}', policy: minor}}]\n"
        "policies: {minor: {semver: '^1.0'}}\n"
        f"repositories:\n  - url: '{remote.url}'\n{option}"
    )
    report = run_once_ok(config, tmp_path / "bot")
    (branch,) = report["repositories"][0]["branches"]
    kinds = sorted((c["path"], c["kind"], c["line"]) for c in branch["changes"])
    expected = [("compose.yaml", "compose", 3)]
    if ci_files is None:
        expected += [
            (".github/workflows/test.yml", "github-actions", 5),
            (".github/workflows/test.yml", "github-actions", 7),
            (".gitlab-ci.yml", "gitlab-ci", 2),
        ]
    assert kinds == sorted(expected)
    name = branch["branch"]
    for path, text in files.items():
        updated = text.replace(":1.0.0", ":1.1.0")  # ^1.0: not 2.0.0
        touched = ci_files is None or path == "compose.yaml"
        assert remote.show(name, path) == (updated if touched else text)
