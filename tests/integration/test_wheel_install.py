"""What a user or the image gets: `python -m build` makes an sdist and a wheel (the wheel without
tests, with the licence and the metadata PyPI shows), and the wheel installs into an empty
venv from the hashed lock (requirements/runtime.txt, as the Dockerfile does) with nothing
missing, and runs. A fresh-Debian-container run is not possible here; this is the nearest."""

from __future__ import annotations

import email
import subprocess  # noqa: TID251 (the test runs the real build, pip and image-bot)
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_has_no_tests_and_installs_from_the_lock_into_an_empty_venv(
    tmp_path: Path,
) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    (wheel,) = dist.glob("image_bot-*.whl")
    (sdist,) = dist.glob("image_bot-*.tar.gz")
    assert sdist.name == f"image_bot-{PYPROJECT['version']}.tar.gz"

    names = zipfile.ZipFile(wheel).namelist()
    assert "image_bot/cli/__init__.py" in names
    assert "image_bot/py.typed" in names
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/"))]
    (licence,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    assert "Apache License" in zipfile.ZipFile(wheel).read(licence).decode()
    (metadata_name,) = [name for name in names if name.endswith(".dist-info/METADATA")]
    metadata = email.message_from_bytes(zipfile.ZipFile(wheel).read(metadata_name))
    assert metadata["License-Expression"] == "Apache-2.0"
    assert set(metadata.get_all("Classifier")) == set(PYPROJECT["classifiers"])
    assert "Source, https://github.com/image-bot/image-bot" in metadata.get_all("Project-URL")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    run(*pip, "--require-hashes", "--no-deps", "-r", ROOT / "requirements" / "runtime.txt")
    run(*pip, "--no-deps", wheel)
    run(venv / "bin" / "python", "-m", "pip", "check")  # the lock holds every dependency
    out = run(venv / "bin" / "image-bot", "--version", cwd=tmp_path)
    assert out.strip() == f"image-bot, version {PYPROJECT['version']}"
