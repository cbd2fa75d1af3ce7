"""A Flux repository moves to image-bot without touching a manifest: `image-bot import flux`
on a checkout holding the Flux objects and `$imagepolicy`-marked manifests, then `run --once`
with the generated config against a real docker-registry and a real git remote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.support.gitrepo import GitRemote, MakeRemote
from tests.support.registry import RunningRegistry, free_port

pytestmark = pytest.mark.integration

FLUX_OBJECTS = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  url: {url}
  ref:
    branch: main
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  image: {podinfo}
  interval: 5m
  insecure: true
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: podinfo
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: podinfo
  policy:
    semver:
      range: 5.0.x
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: minio
  namespace: flux-system
spec:
  image: {minio}
  interval: 5m
  insecure: true
  exclusionList:
    - "^.*\\\\.sig$"
    - "(?i)snapshot"
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: minio
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: minio
  filterTags:
    pattern: '^RELEASE\\.(?P<timestamp>.*)Z$'
    extract: '$timestamp'
  policy:
    alphabetical:
      order: asc
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 30m
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        email: fluxcdbot@users.noreply.github.com
        name: fluxcdbot
    push:
      branch: main
  update:
    path: ./clusters/my-cluster
    strategy: Setters
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: default
spec:
  template:
    spec:
      containers:
        - name: podinfod
          image: {podinfo}:5.0.0 # {{"$imagepolicy": "flux-system:podinfo"}}
        - name: unmarked
          image: {elsewhere}:1.0.0
"""
KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - podinfo.yaml
images:
  - name: minio
    newName: {minio} # {{"$imagepolicy": "flux-system:minio:name"}}
    newTag: RELEASE.2024-01-01T00-00-00Z # {{"$imagepolicy": "flux-system:minio:tag"}}
"""


@pytest.fixture
def flux_repository(
    registry: RunningRegistry, repo_name: str, git_remote: MakeRemote
) -> tuple[GitRemote, dict[str, str]]:
    podinfo, minio = f"{registry.host}/{repo_name}/podinfo", f"{registry.host}/{repo_name}/minio"
    registry.push_tags(f"{repo_name}/podinfo", ["5.0.0", "5.0.3", "5.1.0"], distinct=True)
    registry.push_tags(
        f"{repo_name}/minio",
        [
            "RELEASE.2024-01-01T00-00-00Z",
            "RELEASE.2024-03-01T00-00-00Z",
            "RELEASE.2024-09-01T00-00-00Z-SNAPSHOT",  # excluded by the repository
            "sha256-1234.sig",
        ],
        distinct=True,
    )
    names = {
        "podinfo": podinfo,
        "minio": minio,
        "elsewhere": f"127.0.0.1:{free_port()}/nobody/there",  # never contacted
    }
    remote = git_remote(
        files={
            "clusters/my-cluster/podinfo.yaml": DEPLOYMENT.format(**names),
            "clusters/my-cluster/kustomization.yaml": KUSTOMIZATION.format(**names),
            "README.md": "fleet\n",
        }
    )
    remote.commit(
        "main",
        {
            "clusters/my-cluster/flux-system/image-automation.yaml": FLUX_OBJECTS.format(
                url=remote.url, **names
            )
        },
        "flux image automation",
    )
    return remote, names


def test_import_then_run_updates_every_marked_field_and_nothing_else(
    flux_repository: tuple[GitRemote, dict[str, str]], tmp_path: Path
) -> None:
    remote, names = flux_repository
    config = tmp_path / "image-bot.yaml"
    imported = CliRunner().invoke(
        cli, ["import", "flux", str(remote.scratch), "--output", str(config)]
    )
    assert imported.exit_code == 0, imported.output
    text = config.read_text(encoding="utf-8")
    assert "flux-system:podinfo:" in text
    assert "flux-system:minio:" in text
    assert "Flux pushed straight to main" in imported.stderr  # what changes, said
    checked = CliRunner().invoke(cli, ["check-config", str(config)])
    assert checked.exit_code == 0, checked.output

    before = {
        path: remote.show("main", path)
        for path in ("clusters/my-cluster/podinfo.yaml", "clusters/my-cluster/kustomization.yaml")
    }
    args = [
        "run", "--once", "--json", "--config", str(config),
        "--cache-dir", str(tmp_path / "cache"), "--state-dir", str(tmp_path / "state"),
    ]  # fmt: skip
    ran = CliRunner().invoke(cli, args, catch_exceptions=False)
    report = json.loads(ran.stdout)
    assert ran.exit_code == 0, ran.output
    assert report["scan_failures"] == []  # the unmarked image's registry was never read
    (repository,) = report["repositories"]
    assert repository["outcome"] == "ok"
    moved = {
        change["path"]: (change["old"], change["new"])
        for branch in repository["branches"]
        for change in branch["changes"]
    }
    assert moved == {
        "clusters/my-cluster/podinfo.yaml": (
            f"{names['podinfo']}:5.0.0",
            f"{names['podinfo']}:5.0.3",  # the newest in 5.0.x
        ),
        "clusters/my-cluster/kustomization.yaml": (
            f"{names['minio']}:RELEASE.2024-01-01T00-00-00Z",
            f"{names['minio']}:RELEASE.2024-03-01T00-00-00Z",  # the snapshot and .sig excluded
        ),
    }
    assert remote.branches() == sorted(["main", *(b["branch"] for b in repository["branches"])])
    for branch in repository["branches"]:
        for path, original in before.items():
            updated = remote.show(branch["branch"], path)
            changed = [
                (old, new)
                for old, new in zip(original.splitlines(), updated.splitlines(), strict=True)
                if old != new
            ]
            for old, new in changed:  # only the marked value moved; its marker stayed
                assert "$imagepolicy" in old
                assert new.split(" # ")[1] == old.split(" # ")[1]
            if path.endswith("podinfo.yaml"):
                assert f"{names['elsewhere']}:1.0.0" in updated  # unmarked: untouched

    again = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert again.exit_code == 0
    (repository,) = json.loads(again.stdout)["repositories"]
    assert repository["git_writes"] == 0  # nothing new: nothing written
