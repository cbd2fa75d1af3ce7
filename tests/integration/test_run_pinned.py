"""`digest: pin` through `image-bot run --once` (real docker-registry, real git): every file
kind that can hold a digest gets `tag@digest`, and the pull request, the commit, the report
and the file all name the same value, at the line of the scalar that changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.support.gitrepo import GitRemote, MakeRemote
from tests.support.registry import RunningRegistry
from tests.support.runs import run_once_ok

pytestmark = pytest.mark.integration

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  template:
    spec:
      containers:
        - name: web
          image: {image}:1.0.0   # keep this comment
"""
VALUES = """\
api:
  registry: {registry}
  repository: {repository}
  tag: "1.0.0"
  pullPolicy: IfNotPresent
"""
VALUES_WITH_DIGEST = """\
image:
  repository: {image}
  tag: 1.0.0
  digest: ""
"""
KUSTOMIZATION = """\
resources: [deploy.yaml]
images:
  - name: worker
    newName: {image}
    newTag: 1.0.0
"""


def _seed(registry: RunningRegistry, repository: str) -> str:
    """`1.0.0` and `1.1.0` of `repository`; the digest of 1.1.0."""
    registry.push_image(repository, "1.0.0")
    return registry.push_image(repository, "1.1.0")


@pytest.fixture
def pinned(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote, tmp_path: Path
) -> tuple[GitRemote, Path, dict[str, str]]:
    names = {name: f"{repo_name}/{name}" for name in ("web", "api", "db", "worker")}
    digests = {name: _seed(registry, repository) for name, repository in names.items()}
    image = {name: f"{registry.host}/{repository}" for name, repository in names.items()}
    remote = git_remote(
        files={
            "apps/deploy.yaml": DEPLOY.format(image=image["web"]),
            "charts/api/values.yaml": VALUES.format(
                registry=registry.host, repository=names["api"]
            ),
            "charts/db/values.yaml": VALUES_WITH_DIGEST.format(image=image["db"]),
            "overlays/prod/kustomization.yaml": KUSTOMIZATION.format(image=image["worker"]),
        }
    )
    config = tmp_path / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        "default_policy: {semver: '*', digest: pin}\n"
        f"repositories:\n  - url: '{remote.url}'\n    grouping: {{strategy: all}}\n"
    )
    return remote, config, {name: f"{image[name]}:1.1.0@{digests[name]}" for name in image}


def test_digest_pin_writes_what_the_pull_request_says(
    pinned: tuple[GitRemote, Path, dict[str, str]], tmp_path: Path
) -> None:
    remote, config, new = pinned
    report = run_once_ok(config, tmp_path / "bot")
    (repo,) = report["repositories"]
    (branch,) = repo["branches"]
    changes = {Path(c["path"]).parts[1]: c for c in branch["changes"]}
    name = branch["branch"]

    # the report's `new` is the pinned reference for every kind ...
    assert {key: c["new"] for key, c in changes.items()} == {
        "deploy.yaml": new["web"],
        "api": new["api"],
        "db": new["db"],
        "prod": new["worker"],
    }
    # ... and the commit writes exactly that, in each file's own shape
    web_tag, web_digest = new["web"].rsplit(":", 2)[1], new["web"].split("@")[1]
    assert f"image: {new['web']}   # keep this comment" in remote.show(name, "apps/deploy.yaml")
    api = remote.show(name, "charts/api/values.yaml")
    assert f'  tag: "{web_tag.split("@")[0]}@{new["api"].split("@")[1]}"\n' in api
    db = remote.show(name, "charts/db/values.yaml")
    assert f'  tag: 1.1.0\n  digest: "{new["db"].split("@")[1]}"\n' in db
    kustomization = remote.show(name, "overlays/prod/kustomization.yaml")
    assert f"    newTag: 1.1.0@{new['worker'].split('@')[1]}\n" in kustomization
    assert web_digest != new["api"].split("@")[1]

    # the title and body name the pinned versions, the places are the scalars that change
    short = {
        key: "1.1.0@" + c["new"].split("@")[1][: len("sha256:") + 12] for key, c in changes.items()
    }
    assert all(text in branch["body"] for text in short.values())
    lines = {key: (c["path"], c["line"]) for key, c in changes.items()}
    assert lines == {
        "deploy.yaml": ("apps/deploy.yaml", 9),
        "api": ("charts/api/values.yaml", 4),  # `tag:`, not `registry:`
        "db": ("charts/db/values.yaml", 3),  # `tag:`, not `repository:`
        "prod": ("overlays/prod/kustomization.yaml", 5),  # `newTag:`, not `newName:`
    }
    message = remote.message(name)
    for path, line in lines.values():
        assert f"{path}:{line}" in message
        assert f"{path}:{line}" in branch["body"]


def test_refs_names_the_line_and_column_of_the_tag(
    pinned: tuple[GitRemote, Path, dict[str, str]],
) -> None:
    remote, _, _ = pinned
    result = CliRunner().invoke(cli, ["refs", str(remote.scratch), "--json"])
    assert result.exit_code == 0, result.output
    places: dict[str, Any] = {
        r["file"]: (r["line"], r["column"]) for r in json.loads(result.stdout)["refs"]
    }
    assert places == {
        "apps/deploy.yaml": (9, 18),
        "charts/api/values.yaml": (4, 9),  # inside the quotes of "1.0.0"
        "charts/db/values.yaml": (3, 8),
        "overlays/prod/kustomization.yaml": (5, 13),
    }
