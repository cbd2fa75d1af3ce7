"""The lock: uv.lock still satisfies pyproject.toml, the hashed requirements files that pip
installs from (scripts/setup's uv bootstrap, the Dockerfile, action.yml, the release
workflow) are exactly its exports, and byte-exact editing's ruamel.yaml stays bounded."""

from __future__ import annotations

import subprocess  # noqa: TID251 (the test runs the real uv)
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
EXPORTS = {  # file -> the `uv export` selection scripts/lock writes it with
    # the container image serves replicas on PostgreSQL state too (deploy/kubernetes/org)
    "requirements/runtime.txt": ["--no-dev", "--extra", "postgres"],
    "requirements/dev.txt": ["--extra", "dev"],
    "requirements/release.txt": ["--only-group", "release"],
}


def uv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(UV), *args], cwd=ROOT, capture_output=True, text=True, check=False)


def body(text: str) -> str:
    """Without uv's header comment, which records the command line."""
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "\n".join(lines)


def test_the_lock_satisfies_pyproject() -> None:
    result = uv("lock", "--check", "--offline")
    assert result.returncode == 0, result.stderr + "\nrun ./scripts/lock"


@pytest.mark.parametrize("path", sorted(EXPORTS))
def test_each_requirements_file_is_the_locks_export(path: str) -> None:
    result = uv("export", "--frozen", "--no-emit-project", "--format", "requirements.txt",
                *EXPORTS[path])  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert body((ROOT / path).read_text()) == body(result.stdout), f"run ./scripts/lock ({path})"


def test_every_pin_carries_hashes() -> None:
    for path in EXPORTS:
        entries = (ROOT / path).read_text().split("\n")
        pins = [line for line in entries if line and not line.startswith((" ", "#"))]
        assert pins, path
        assert all("==" in pin and pin.rstrip().endswith("\\") for pin in pins), path


def test_ruamel_yaml_has_an_upper_bound_the_lock_respects() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (spec,) = [
        Requirement(dep) for dep in pyproject["project"]["dependencies"]
        if Requirement(dep).name == "ruamel.yaml"
    ]  # fmt: skip
    assert any(clause.operator == "<" for clause in spec.specifier)
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (locked,) = [pkg["version"] for pkg in lock["package"] if pkg["name"] == "ruamel-yaml"]
    assert spec.specifier.contains(locked)


def test_setup_bootstraps_uv_from_the_lock() -> None:
    setup = (ROOT / "scripts" / "setup").read_text()
    assert "requirements/dev.txt" in setup
    assert "--require-hashes" in setup
    assert "uv sync --quiet --frozen" in setup
    assert "\nuv==" in (ROOT / "requirements" / "dev.txt").read_text()
