"""Static facts about the container image that would otherwise only show when someone builds
it (no Docker engine here): the build context holds what the Dockerfile copies, the
entrypoint is our console script, the default command parses, and it does not run as root."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from image_bot.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def ignored(path: str) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or a parent wins."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    candidates = [
        path,
        *(str(parent) for parent in PurePosixPath(path).parents if str(parent) != "."),
    ]
    result = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").removeprefix("**/")
        if any(
            fnmatchcase(candidate, glob) or fnmatchcase(PurePosixPath(candidate).name, glob)
            for candidate in candidates
        ):
            result = not negated
    return result


def test_multi_stage_build_on_python_slim() -> None:
    froms = [args for name, args in instructions() if name == "FROM"]
    assert len(froms) >= 2
    assert froms[-1] == "python:3.11-slim"
    assert any(args.startswith("--from=") for name, args in final_stage() if name == "COPY")


def test_every_copied_source_is_in_the_build_context() -> None:
    copied = [
        source
        for name, args in instructions()
        if name == "COPY" and not args.startswith("--from=")
        for source in shlex.split(args)[:-1]
    ]
    assert copied
    for source in copied:
        assert (ROOT / source).exists(), source
        assert not ignored(source), f"{source} is excluded by .dockerignore"
    assert ignored("tests/conftest.py")
    assert ignored(".venv/bin/python")
    assert ignored("image_bot/__pycache__/spec.cpython-311.pyc")


def test_runs_as_an_unprivileged_user() -> None:
    users = [args for name, args in final_stage() if name == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_entrypoint_is_the_console_script_and_the_default_command_parses() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (entrypoint,) = [json.loads(args) for name, args in final_stage() if name == "ENTRYPOINT"]
    assert entrypoint == [next(iter(pyproject["project"]["scripts"]))]
    (command,) = [json.loads(args) for name, args in final_stage() if name == "CMD"]
    subcommand = cli.commands[command[0]]
    context = subcommand.make_context(command[0], command[1:])
    assert context.params["once"] is True
    assert str(context.params["config_path"]) == "/config/image-bot.yaml"
