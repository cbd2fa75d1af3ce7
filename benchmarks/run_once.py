"""Benchmark `run --once` passes: a first pass that pushes, then a pass with nothing new.

Seeds IMAGES images x TAGS distinct tags in a real docker-registry, a manifests remote with
one Deployment per image (each image referenced twice: a Deployment and a compose file),
then runs `pipeline.run_pass` three times: first (creates one branch per image), no-op
(nothing new), and after one new tag (one branch updated). Prints wall time, git commands
and writes, registry requests and peak RSS per pass.

    .venv/bin/python -m benchmarks.run_once [--images 50] [--tags 20]
"""

from __future__ import annotations

import argparse
import resource
import subprocess  # noqa: TID251  (sets up a bare remote, as a user would)
import tempfile
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from image_bot.config.load import parse_config
from image_bot.pipeline import PassOptions, run_pass
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.registry import Registry
from image_bot.state import StateStore
from image_bot.wiring.forges import Forges
from tests.support.registry import start_registry


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _remote(root: Path, host: str, images: int) -> Path:
    work, remote = root / "work", root / "remote.git"
    _git(root, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    _git(root, "init", "-q", "--initial-branch=main", str(work))
    _git(work, "config", "user.email", "bench@example.com")
    _git(work, "config", "user.name", "bench")
    services = []
    for i in range(images):
        image = f"{host}/bench/app{i:03d}"
        path = work / f"apps/app{i:03d}/deployment.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n"
            "  template:\n    spec:\n      containers:\n"
            f"        - name: app\n          image: {image}:1.0.0\n"
        )
        services.append(f"  app{i:03d}:\n    image: {image}:1.0.0\n")
    (work / "compose.yaml").write_text("services:\n" + "".join(services))
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "manifests")
    _git(work, "push", "-q", str(remote), "HEAD:refs/heads/main")
    return remote


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--tags", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, start_registry(Path(tmp) / "reg") as registry:
        root = Path(tmp)
        started = time.perf_counter()
        for i in range(args.images):
            tags = [f"1.{minor}.0" for minor in range(args.tags)]
            registry.push_tags(f"bench/app{i:03d}", tags, distinct=True)
        remote = _remote(root, registry.host, args.images)
        seeded = time.perf_counter() - started
        print(f"seeded {args.images} images x {args.tags} tags in {seeded:.2f}s")
        config = parse_config(
            f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
            f"repositories: [{{url: '{remote}', limits: {{max_open_pull_requests: null}}}}]\n",
            source="bench",
            base_dir=root,
        )
        settings = [RegistrySettings(host=registry.host, insecure=True)]
        opened: list[OCIRegistry] = []

        def open_registry() -> AbstractAsyncContextManager[Registry]:
            opened.append(OCIRegistry(settings))
            return opened[-1]

        options = PassOptions(cache_dir=root / "cache")
        with StateStore.in_dir(root / "state") as state:
            for label in ("first pass", "no-op pass", "one new tag"):
                if label == "one new tag":
                    registry.push_tags("bench/app000", ["9.0.0"], distinct=True)
                started = time.perf_counter()
                report = run_pass(
                    config, open_registry=open_registry, forge_for=Forges(),
                    options=options, state=state,
                )  # fmt: skip
                wall = time.perf_counter() - started
                (repo,) = report.repositories
                actions: dict[str, int] = {}
                for branch in repo.branches:
                    actions[branch.action] = actions.get(branch.action, 0) + 1
                print(
                    f"{label:12s} wall {wall:6.2f}s  git commands {repo.git_commands:4d}"
                    f"  git writes {repo.git_writes:4d}"
                    f"  registry requests {sum(opened[-1].requests.values()):5d}"
                    f"  branches {actions}  exit {report.exit_code}"
                    f"  peak RSS {_peak_rss_mib():.0f} MiB"
                )


if __name__ == "__main__":
    main()
