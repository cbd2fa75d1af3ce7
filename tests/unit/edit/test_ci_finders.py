"""CI files are their own kinds: GitHub Actions, GitLab CI, Woodpecker, Drone; and can be off."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_bot.edit.find import find_in_text, find_references
from image_bot.model import Part

WORKFLOW = """\
name: test
on: [push]
jobs:
  unit:
    runs-on: ubuntu-latest
    container:
      image: node:20-bookworm
      options: --cpus 1
    services:
      db:
        image: postgres:16.4
      cache:
        image: ${{ matrix.cache }}
    steps:
      - uses: actions/checkout@v4
      - uses: docker://alpine:3.20
        with: {args: uname -a}
  lint:
    runs-on: ubuntu-latest
    container: golangci/golangci-lint:v1.60
"""
GITLAB = """\
image: python:3.12
services:
  - docker:27-dind
default:
  image:
    name: alpine:3.20
    entrypoint: [""]
variables:
  IMAGE: not-a-job-image:1.0
.template:
  image: $CI_REGISTRY_IMAGE/builder:latest
test:
  stage: test
  image: node:20
  services:
    - name: redis:7.4
      alias: cache
  script: [npm test]
"""
WOODPECKER = """\
variables:
  - &go 'golang:1.23'
steps:
  build:
    image: *go
    commands: [go build]
  publish:
    image: woodpeckerci/plugin-docker-buildx:5.0.0
services:
  database:
    image: mysql:8.4
"""
DRONE = """\
kind: pipeline
type: docker
name: default
steps:
  - name: test
    image: golang:1.23
services:
  - name: cache
    image: redis:7
"""


def refs(text: str, path: str) -> list[tuple[str, str, str]]:
    found = find_in_text(text, path)
    return [(str(o.kind), ".".join(map(str, o.yaml_path)), o.ref.text) for o in found.occurrences]


def test_github_actions_containers_services_and_docker_steps() -> None:
    found = find_in_text(WORKFLOW, ".github/workflows/test.yml")
    assert [(str(o.kind), o.ref.text, o.line) for o in found.occurrences] == [
        ("github-actions", "node:20-bookworm", 7),
        ("github-actions", "postgres:16.4", 11),
        ("github-actions", "alpine:3.20", 16),
        ("github-actions", "golangci/golangci-lint:v1.60", 20),
    ]
    assert [s.line for s in found.skipped] == [13]  # ${{ matrix.cache }}
    step = found.occurrences[2].spans[Part.WHOLE]
    assert WORKFLOW[step.start : step.end] == "alpine:3.20"  # after `docker://`


def test_a_workflow_is_known_by_its_shape_outside_github_workflows() -> None:
    assert [kind for kind, _, _ in refs(WORKFLOW, "testdata/push.yml")] == ["github-actions"] * 4


def test_gitlab_ci_image_and_services_everywhere_but_variables() -> None:
    assert refs(GITLAB, ".gitlab-ci.yml") == [
        ("gitlab-ci", "image", "python:3.12"),
        ("gitlab-ci", "services.0", "docker:27-dind"),
        ("gitlab-ci", "default.image.name", "alpine:3.20"),
        ("gitlab-ci", "test.image", "node:20"),
        ("gitlab-ci", "test.services.0.name", "redis:7.4"),
    ]
    assert refs(GITLAB, "ci/templates/build.gitlab-ci.yml")[0][0] == "gitlab-ci"


def test_woodpecker_and_drone_steps_and_services() -> None:
    assert refs(WOODPECKER, ".woodpecker/build.yaml") == [
        ("woodpecker", "steps.build.image", "golang:1.23"),  # at the anchor, once
        ("woodpecker", "steps.publish.image", "woodpeckerci/plugin-docker-buildx:5.0.0"),
        ("woodpecker", "services.database.image", "mysql:8.4"),
    ]
    assert refs(DRONE, ".drone.yml") == [
        ("drone", "steps.0.image", "golang:1.23"),
        ("drone", "services.0.image", "redis:7"),
    ]


@pytest.mark.parametrize("ci_files", [True, False])
def test_ci_files_can_be_left_alone(tmp_path: Path, ci_files: bool) -> None:
    files = {
        ".github/workflows/test.yml": WORKFLOW,
        ".gitlab-ci.yml": GITLAB,
        ".woodpecker.yaml": WOODPECKER,
        ".drone.yml": DRONE,
        "compose.yaml": "services:\n  web:\n    image: nginx:1.27\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = find_references(tmp_path, ci_files=ci_files)
    kinds = sorted({str(o.kind) for o in found.occurrences})
    if ci_files:
        assert kinds == ["compose", "drone", "github-actions", "gitlab-ci", "woodpecker"]
    else:  # not read as Compose or Helm values either
        assert kinds == ["compose"]
        assert all(s.path == "compose.yaml" for s in found.skipped)
