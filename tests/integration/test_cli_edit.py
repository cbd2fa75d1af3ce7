"""`image-bot refs` and `image-bot set` as a user runs them, on a real tree (click's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from image_bot.cli import cli

pytestmark = pytest.mark.integration

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25 # pinned
        - name: sidecar
          image: "ghcr.io/example/sidecar:0.3.1"
"""
VALUES = """\
image:
  registry: docker.io
  repository: library/nginx
  tag: 1.25  # a float to YAML
"""
TEMPLATE = "spec:\n  image: {{ .Values.image }}\n  {{- if .Values.x }}\n"


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "deploy.yaml").write_bytes(DEPLOYMENT.replace("\n", "\r\n").encode())
    (tmp_path / "values.yaml").write_text(VALUES)
    (tmp_path / "chart" / "templates").mkdir(parents=True)
    (tmp_path / "chart" / "templates" / "deploy.yaml").write_text(TEMPLATE)
    return tmp_path


def test_refs_json_lists_references_and_skipped_files(tree: Path) -> None:
    result = _run("refs", str(tree), "--json")
    assert result.exit_code == 0, result.stderr
    inventory = json.loads(result.stdout)
    refs = {(r["file"], r["line"]): r for r in inventory["refs"]}
    assert set(refs) == {("apps/deploy.yaml", 10), ("apps/deploy.yaml", 12), ("values.yaml", 4)}
    web = refs["apps/deploy.yaml", 10]
    assert web["image"] == "docker.io/library/nginx"
    assert (web["tag"], web["digest"], web["column"]) == ("1.25", None, 18)
    assert web["yaml_path"] == "spec.template.spec.containers[0].image"
    assert web["kind"] == "pod-spec"
    split = refs["values.yaml", 4]  # the `tag:` that changes, not the first key (`registry:`)
    assert (split["image"], split["tag"], split["kind"], split["column"]) == (
        "docker.io/library/nginx",
        "1.25",
        "helm-values",
        8,
    )
    assert inventory["skipped"] == [
        {
            "file": "chart/templates/deploy.yaml",
            "line": 2,
            "reason": "Helm template: templated value '{{ .Values.image }}'",
        }
    ]


def test_refs_text_shows_inventory_then_skipped(tree: Path) -> None:
    result = _run("refs", str(tree))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == [
        "apps/deploy.yaml:10:18",
        "pod-spec",
        "docker.io/library/nginx",
        "1.25",
        "-",
    ]
    assert "3 references" in lines
    assert any(line.startswith("  chart/templates/deploy.yaml") for line in lines)


def test_set_dry_run_prints_the_diff_and_writes_nothing(tree: Path) -> None:
    before = (tree / "apps" / "deploy.yaml").read_bytes()
    result = _run("set", "nginx=1.27.0", str(tree), "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout_bytes  # `.stdout` turns CRLF into LF; the diff keeps the file's CRs
    assert b"-          image: nginx:1.25 # pinned\r\n" in out
    assert b"+          image: nginx:1.27.0 # pinned\r\n" in out
    assert "-  tag: 1.25  # a float to YAML\n+  tag: 1.27.0  # a float to YAML\n" in result.stdout
    assert (tree / "apps" / "deploy.yaml").read_bytes() == before


def test_set_writes_only_the_reference_bytes(tree: Path) -> None:
    result = _run("set", "nginx=1.30", "ghcr.io/example/sidecar=0.4.0", str(tree))
    assert result.exit_code == 0, result.stderr
    expected = (
        DEPLOYMENT.replace("nginx:1.25", "nginx:1.30")
        .replace("sidecar:0.3.1", "sidecar:0.4.0")
        .replace("\n", "\r\n")
    )
    assert (tree / "apps" / "deploy.yaml").read_bytes() == expected.encode()
    assert (tree / "values.yaml").read_text() == VALUES.replace("tag: 1.25", 'tag: "1.30"')
    assert (tree / "chart" / "templates" / "deploy.yaml").read_text() == TEMPLATE
    assert "skipped chart/templates/deploy.yaml" in result.stderr


def test_set_rejects_a_bad_tag_and_a_missing_path(tree: Path) -> None:
    bad_tag = _run("set", "nginx=-bad", str(tree))
    assert bad_tag.exit_code == 2
    assert "invalid image reference" in bad_tag.stderr
    missing = _run("set", "nginx=1.0", str(tree / "nope"))
    assert missing.exit_code == 2


def test_set_fails_when_an_image_is_not_found(tree: Path) -> None:
    before = {path: path.read_bytes() for path in tree.rglob("*") if path.is_file()}
    for extra in ((), ("--dry-run",)):
        result = _run("set", "redis=7.2", str(tree), *extra)
        assert result.exit_code == 1  # issue 14, item 16: it was 0, as if it had worked
        assert result.stdout == ""
        assert "no reference to docker.io/library/redis" in result.stderr
    both = _run("set", "nginx=1.30", "redis=7.2", str(tree), "--dry-run")
    assert both.exit_code == 1
    assert "+          image: nginx:1.30" in both.stdout  # what was found is still shown
    assert {path: path.read_bytes() for path in tree.rglob("*") if path.is_file()} == before


def test_refs_and_set_take_a_single_file(tree: Path) -> None:
    values = tree / "values.yaml"
    listed = _run("refs", str(values), "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [(r["file"], r["line"]) for r in json.loads(listed.stdout)["refs"]] == [
        ("values.yaml", 4)  # the `tag:` that changes
    ]
    result = _run("set", "nginx=1.30", str(values))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("--- a/values.yaml\n+++ b/values.yaml\n")
    assert values.read_text() == VALUES.replace("tag: 1.25", 'tag: "1.30"')
    assert (tree / "apps" / "deploy.yaml").read_bytes() == DEPLOYMENT.replace(
        "\n", "\r\n"
    ).encode()  # only the named file
    named_elsewhere = _run("set", "nginx=1.30", str(tree / "apps" / "deploy.yaml"), "--dry-run")
    assert named_elsewhere.exit_code == 0, named_elsewhere.stderr
    assert "--- a/deploy.yaml" in named_elsewhere.stdout


def test_refs_json_names_references_inside_a_values_block(tmp_path: Path) -> None:
    (tmp_path / "release.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n"
        "      values: |\n        image:\n          repository: acme/app\n          tag: 1.0.0\n"
        '    plugin: {env: [{name: X, value: "1"}]}\n'
        "---\n"
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        '    - image: nginx:1 # {"$imagepolicy": "a:b"}\n'
    )
    result = _run("refs", str(tmp_path), "--json")
    assert result.exit_code == 0, result.stderr
    refs = json.loads(result.stdout)["refs"]
    assert [(r["yaml_path"], r["kind"], r["line"], r["column"]) for r in refs] == [
        ("spec.source.helm.values|image.tag", "helm-values", 9, 16),  # the tag, not repository
        ("spec.containers[0].image", "marker", 16, 14),
    ]
    assert refs[1]["policy"] == "a:b"


def test_block_scalar_images_are_set_in_place_or_reported(tmp_path: Path) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n"
        "    - image: >-\n        nginx:1.25\n"
        "    - image: >\n        nginx:\n        1.25\n"
    )
    (tmp_path / "pod.yaml").write_text(pod)
    inventory = json.loads(_run("refs", str(tmp_path), "--json").stdout)
    assert [(r["line"], r["column"], r["text"]) for r in inventory["refs"]] == [
        (6, 9, "nginx:1.25")
    ]
    assert inventory["skipped"] == [
        {
            "file": "pod.yaml",
            "line": 7,
            "reason": "a block scalar of several lines, not one reference: 'nginx: 1.25'",
        }
    ]
    result = _run("set", "nginx=1.27.0", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "pod.yaml").read_text() == pod.replace(
        "    nginx:1.25\n", "    nginx:1.27.0\n"
    )
    assert "skipped pod.yaml:7: a block scalar of several lines" in result.stderr


def test_literal_images_in_chart_templates_are_listed_and_set(tmp_path: Path) -> None:
    chart = tmp_path / "charts" / "app"
    (chart / "templates" / "tests").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 1.0.0\n")
    test_pod = (
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: "{{ .Release.Name }}-test"\n'
        "spec:\n  containers:\n    - name: wget\n      image: busybox:1.37.0\n"
        "      args: ['{{ include \"app.fullname\" . }}:80']\n"
    )
    (chart / "templates" / "tests" / "test-connection.yaml").write_text(test_pod)
    refs = json.loads(_run("refs", str(tmp_path), "--json").stdout)["refs"]
    assert [(r["file"], r["line"], r["column"], r["kind"]) for r in refs] == [
        ("charts/app/templates/tests/test-connection.yaml", 8, 14, "helm-template")
    ]
    result = _run("set", "busybox=1.38.0", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    written = (chart / "templates" / "tests" / "test-connection.yaml").read_text()
    assert written == test_pod.replace("busybox:1.37.0", "busybox:1.38.0")
