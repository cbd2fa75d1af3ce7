"""Static facts about the container image that would otherwise only show when someone builds
it (no Docker engine here): the base is pinned by digest, dependencies come from the hashed
lock, the build context holds what the Dockerfile copies, the labels say what the image is,
the health check works, the entrypoint is our console script, the default command parses, and
it does not run as root. What only a build shows (apt, the wheel, multi-arch) is checked by
the release workflow, which builds the image for linux/amd64 and linux/arm64."""

from __future__ import annotations

import http.server
import json
import re
import shlex
import subprocess  # noqa: TID251 (the test runs the image's real health check)
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

import pytest

from image_bot.cli import cli
from image_bot.config.service import ServiceSpec

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


DIGEST_PINNED = re.compile(r"^python:3\.11-slim@sha256:[0-9a-f]{64}$")


def labels() -> dict[str, str]:
    pairs = [args for name, args in final_stage() if name == "LABEL"]
    return dict(item.split("=", 1) for args in pairs for item in shlex.split(args))


def test_multi_stage_build_on_python_slim_pinned_by_digest() -> None:
    froms = [args.split()[0] for name, args in instructions() if name == "FROM"]
    assert len(froms) >= 2
    assert all(DIGEST_PINNED.match(base) for base in froms), froms
    assert len(set(froms)) == 1, "build and runtime stages share one base"
    assert any(args.startswith("--from=") for name, args in final_stage() if name == "COPY")
    assert labels()["org.opencontainers.image.base.digest"] == froms[-1].split("@")[1]


def test_dependencies_install_from_the_hashed_lock() -> None:
    runs = " ".join(args for name, args in instructions() if name == "RUN")
    assert "--require-hashes --no-deps -r requirements/runtime.txt" in runs
    assert "pip install --no-deps /wheels/image_bot-" in runs
    assert "pip check" in runs  # the lock holds every dependency the wheel declares


def test_oci_labels_say_what_the_image_is() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found = labels()
    assert found["org.opencontainers.image.licenses"] == pyproject["project"]["license"]
    assert found["org.opencontainers.image.source"] == pyproject["project"]["urls"]["Source"]
    assert found["org.opencontainers.image.version"] == "${VERSION}"
    assert found["org.opencontainers.image.revision"] == "${REVISION}"
    assert {"title", "description", "url", "documentation", "vendor"} <= {
        key.removeprefix("org.opencontainers.image.") for key in found
    }


def healthcheck_command() -> list[str]:
    (args,) = [args for name, args in final_stage() if name == "HEALTHCHECK"]
    command: list[str] = json.loads(args[args.index("CMD") + 3 :])
    return command


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def health_server(status: int) -> Iterator[str]:
    handler = type("Handler", (_Health,), {"status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/healthz"
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(pid1: Path, url: str) -> int:
    """The image's check as Docker runs it, with PID 1's command line read from `pid1`."""
    _python, flag, code = healthcheck_command()
    code = code.replace("/proc/1/cmdline", str(pid1))
    env = {"IMAGE_BOT_HEALTH_URL": url}
    return subprocess.run([sys.executable, flag, code], env=env, check=False).returncode


def test_healthcheck_targets_the_served_health_route() -> None:
    program, flag, code = healthcheck_command()
    assert (program, flag) == ("python", "-c")
    exposed = [int(args) for name, args in final_stage() if name == "EXPOSE"]
    assert exposed == [ServiceSpec().port]
    assert f"http://127.0.0.1:{exposed[0]}/healthz" in code


@pytest.mark.parametrize(
    ("pid1_args", "status", "healthy"),
    [
        ([b"image-bot", b"serve", b"--config", b"c.yaml"], 200, True),
        ([b"image-bot", b"serve", b"--config", b"c.yaml"], 503, False),
        ([b"image-bot", b"run", b"--once"], 503, True),  # no server to ask in one-shot mode
    ],
)
def test_healthcheck_reports_what_serve_answers(
    tmp_path: Path, pid1_args: list[bytes], status: int, healthy: bool
) -> None:
    pid1 = tmp_path / "cmdline"
    pid1.write_bytes(b"\0".join([b"/opt/venv/bin/python", *pid1_args]) + b"\0")
    with health_server(status) as url:
        assert (run_healthcheck(pid1, url) == 0) is healthy


def test_healthcheck_fails_when_serve_does_not_answer(tmp_path: Path) -> None:
    pid1 = tmp_path / "cmdline"
    pid1.write_bytes(b"image-bot\0serve\0")
    with health_server(200) as url:
        pass  # closed again: nothing listens on the port any more
    assert run_healthcheck(pid1, url) != 0


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
    assert ignored("requirements/dev.txt")
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
