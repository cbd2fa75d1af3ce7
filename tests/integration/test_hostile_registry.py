"""Hostile registries in one real `image-bot run --once` (its own process, so its memory is
measured): control characters in tags, huge and endless bodies, trickling answers, deep
JSON, a redirect and a token realm on another host. Images on the real docker-registry and
the hostile registry's healthy images still update; each hostile image fails alone, with a
reason; no credential reaches the other host; peak memory stays bounded."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess  # noqa: TID251 (the real command in its own process, to measure its memory)
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.gitrepo import MakeRemote
from tests.support.hostile import (
    Behaviour,
    HostileServer,
    Reply,
    after_basic_challenge,
    answer,
    endless,
    huge,
    json_answer,
    redirect,
    trickle,
)
from tests.support.peak import image_bot_command, peak_mib
from tests.support.registry import RunningRegistry

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USER, PASSWORD = "bot", "hostile-e2e-pass-7731"
MAX_RSS_MIB = 250  # measured ~130 MiB (see the report); before the bounds: MemoryError
ADDRESS_SPACE = 3 << 30  # a runaway process dies at 3 GiB instead of eating the machine


def manifest_head(reply: Reply) -> None:
    """HEAD of a manifest: each tag its own image (a digest made from the path)."""
    digest = "sha256:" + hashlib.sha256(reply.request.path.encode()).hexdigest()
    answer(200, b"", {"Docker-Content-Digest": digest})(reply)


@dataclass
class Measured:
    code: int
    report: dict[str, Any]
    max_rss_mib: float
    stderr: str


def run_measured(config: Path, work: Path) -> Measured:
    """`image-bot run --once --json` in a child process; its exit code, report and peak RSS."""
    out, err = work / "stdout", work / "stderr"
    work.mkdir(parents=True, exist_ok=True)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    peak = work / "peak-rss"
    args = ["run", "--once", "--json", "--no-state", "--config", str(config), "--cache-dir"]
    command = image_bot_command([*args, str(work / "cache")], peak)
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "HOME": str(work)},
            preexec_fn=limit_memory,  # noqa: PLW1509 (no threads run in the child before exec)
        )
        _, status, _ = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    text = out.read_text()
    assert text.startswith("{"), err.read_text()[-3000:]
    return Measured(process.returncode, json.loads(text), peak_mib(peak), err.read_text())


@pytest.fixture
def elsewhere() -> Iterator[HostileServer]:
    """Another host (127.0.0.2): whatever is sent there is recorded."""
    with HostileServer("127.0.0.2") as server:
        server.route("/", json_answer({"tags": ["1.0.0", "1.2.0"], "token": "t0k3n-elsewhere"}))
        yield server


@pytest.fixture
def hostile(elsewhere: HostileServer) -> Iterator[HostileServer]:
    """A registry with credentials whose images misbehave each in its own way."""
    with HostileServer() as server:
        routes: dict[str, Behaviour] = {
            "/v2/h/control/tags/list": json_answer(
                {"tags": ["1.0.0", "1.1.0", "zz\nimage: evil", "\x00"]}
            ),
            "/v2/h/endless/tags/list": endless(),
            "/v2/h/huge/tags/list": huge(50 << 20),
            "/v2/h/trickle/tags/list": trickle(b'{"tags": ["1.0.0", "1.1.0"]}', every=0.2),
            "/v2/h/nested/tags/list": answer(200, b"[" * 100_000 + b"]" * 100_000),
            "/v2/h/away/tags/list": redirect(f"{elsewhere.url}/v2/h/away/tags/list", 307),
            "/v2/h/": manifest_head,
        }
        for path, behaviour in routes.items():
            server.route(path, after_basic_challenge(behaviour))
        yield server


@pytest.fixture
def realm_elsewhere(elsewhere: HostileServer) -> Iterator[HostileServer]:
    """A registry whose token realm is on another host (not in token_realms)."""
    with HostileServer() as server:
        challenge = f'Bearer realm="{elsewhere.url}/token",service="s"'
        server.route("/v2/", answer(401, b"", {"WWW-Authenticate": challenge}))
        yield server


HOSTILE_IMAGES = ("control", "endless", "huge", "trickle", "nested", "away")


def test_hostile_registries_fail_alone_and_memory_stays_bounded(  # noqa: PLR0917 (fixtures)
    registry: RunningRegistry,
    hostile: HostileServer,
    realm_elsewhere: HostileServer,
    elsewhere: HostileServer,
    repo_name: str,
    git_remote: MakeRemote,
    tmp_path: Path,
) -> None:
    registry.push_tags(f"{repo_name}/web", ["1.0.0", "1.1.0"], distinct=True)
    files = {"apps/web.yaml": f"image: {registry.host}/{repo_name}/web:1.0.0\n"}
    files |= {f"apps/{name}.yaml": f"image: {hostile.host}/h/{name}:1.0.0\n"
              for name in HOSTILE_IMAGES}  # fmt: skip
    files["apps/realm.yaml"] = f"image: {realm_elsewhere.host}/h/realm:1.0.0\n"
    remote = git_remote(files=files)
    config = tmp_path / "image-bot.yaml"
    credentials = f"username: {USER}, password: {PASSWORD}"
    config.write_text(
        "registries:\n"
        f"  - {{host: '{registry.host}', insecure: true}}\n"
        f"  - {{host: '{hostile.host}', insecure: true, timeout: 2s, {credentials}}}\n"
        f"  - {{host: '{realm_elsewhere.host}', insecure: true, {credentials}}}\n"
        "images:\n"  # alphabetical would elect "zz\nimage: evil" were it not dropped
        f"  - {{name: '{hostile.host}/h/control', policy: {{alphabetical: asc}}}}\n"
        f"repositories:\n  - {{url: '{remote.url}', forge: local}}\n"
    )

    run = run_measured(config, tmp_path / "bot")

    assert run.code == 1, run.stderr[-3000:]
    (repo,) = run.report["repositories"]
    moved = {
        change["image"].rsplit("/", 1)[-1]: change["new"].rsplit(":", 1)[-1]
        for branch in repo["branches"]
        for change in branch["changes"]
    }
    assert moved == {"web": "1.1.0", "control": "1.1.0", "away": "1.2.0"}
    assert {branch["action"] for branch in repo["branches"]} == {"create"}
    failures = {f["image"].rsplit("/", 1)[-1]: f["error"] for f in run.report["scan_failures"]}
    assert set(failures) == {"endless", "huge", "trickle", "nested", "realm"}
    assert "larger than 16 MiB" in failures["endless"]
    assert "larger than 16 MiB" in failures["huge"]
    assert "no complete answer within 2 s" in failures["trickle"]
    assert "nested more than 64 levels" in failures["nested"]
    assert "add it to token_realms" in failures["realm"]
    assert "insecure" not in failures["realm"]
    (warning,) = run.report["warnings"]
    assert "h/control: dropped 2 tag(s) that are not valid tag names" in warning
    assert PASSWORD not in json.dumps(run.report) + run.stderr
    assert [r.path for r in elsewhere.requests] == ["/v2/h/away/tags/list"]
    assert "authorization" not in elsewhere.requests[0].headers
    assert run.max_rss_mib < MAX_RSS_MIB, f"peak RSS {run.max_rss_mib:.0f} MiB"
    print(f"peak RSS of run --once with hostile registries: {run.max_rss_mib:.0f} MiB")
