"""Benchmark an organisation: 1,000 repositories on the fake forge, 1, 2 and 4 workers.

    .venv/bin/python -m benchmarks.org [--repositories 1000] [--images 300]
        [--workers 1,2,4] [--concurrency 4] [--changing-every 4]

Seeds IMAGES images (tags 1.0.0 and 1.1.0) in a real docker-registry and REPOSITORIES
repositories on the fake forge's GitHub (tests/support/org.py), each with three tiny
Deployments of images shared among them; every CHANGING_EVERY-th repository runs one outdated
tag (one pull request due), the others are up to date. For each worker count W it starts a
fresh organisation and PostgreSQL state, then runs W `image-bot run --once --shard I/W`
processes at once (a Kubernetes Indexed Job of W pods) twice: the first pass (pull requests
opened) and a no-op pass (nothing new). Per pass it prints:

- wall (until the last worker exits), CPU (user+sys of the workers and their git children),
  the largest worker's peak RSS, the load average at its start;
- forge API requests (reads, writes), git commands (the reports' count; those that went to
  the forge over HTTP apart) and registry requests (the registry's access log), per
  repository;
- the pass time per repository (wall / repositories) and the throughput (repositories per
  hour at that wall time).

The fake forge runs in this process (its CPU is printed apart: it is not the bot's; the git
processes it starts to serve clones and pushes are in neither figure), the
registry and PostgreSQL in their own; all share the machine, so read the figures with the
load average beside them. docs/scaling.md turns them into what to run for 100, 1,000 and
10,000 repositories.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess  # noqa: TID251  (runs the real command, as a Job's pods do)
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bytecode import ensure_bytecode  # noqa: E402
from tests.fakeforge.control import FakeForge  # noqa: E402
from tests.support.org import deployment, org_config, seed_org  # noqa: E402
from tests.support.peak import image_bot_command, peak_mib  # noqa: E402
from tests.support.postgres import RunningPostgres, start_postgres  # noqa: E402
from tests.support.registry import RunningRegistry, start_registry  # noqa: E402

CONTRACTS = ROOT.parent / "shared" / "contracts"
MANIFESTS = 3  # per repository


@dataclass(frozen=True)
class Bench:
    """What every measurement uses: the fake forge, the registry, PostgreSQL, and how many
    repositories each worker passes at once."""

    fake: FakeForge
    registry: RunningRegistry
    postgres: RunningPostgres
    concurrency: int


@dataclass
class Pass:
    """What one pass of W workers cost."""

    label: str
    repositories: int
    wall: float
    cpu: float
    forge_cpu: float
    rss_mib: float
    load: tuple[float, float, float]
    forge_reads: int
    forge_writes: int
    git_commands: int
    git_http: int
    registry: int
    pulls_opened: int

    def lines(self) -> list[str]:
        n = self.repositories
        return [
            f"{self.label:16s} wall {self.wall:7.1f}s  cpu {self.cpu:7.1f}s (fake forge"
            f" {self.forge_cpu:5.1f}s)  rss {self.rss_mib:4.0f} MiB/worker  load"
            f" {self.load[0]:.2f} {self.load[1]:.2f} {self.load[2]:.2f}",
            f"{'':16s} per repository: {self.wall / n * 1000:6.1f} ms wall,"
            f" {self.cpu / n * 1000:6.1f} ms cpu, forge {self.forge_reads / n:.2f} reads"
            f" + {self.forge_writes / n:.2f} writes, git {self.git_commands / n:.1f} commands"
            f" ({self.git_http / n:.1f} over HTTP),"
            f" registry {self.registry / n:.2f} requests;"
            f" {n / self.wall * 3600:8.0f} repositories/hour; {self.pulls_opened} PRs opened",
        ]


def _organisation(
    fake: FakeForge, registry: RunningRegistry, repositories: int, images: int, every: int
) -> list[str]:
    files = {}
    for n in range(repositories):
        manifests = {}
        for m in range(MANIFESTS):
            image = f"{registry.host}/org/img{(n * MANIFESTS + m) % images:03d}"
            outdated = m == 0 and n % every == 0
            manifests[f"deploy/app{m}.yaml"] = deployment(image, "1.0.0" if outdated else "1.1.0")
        files[f"org/r{n:05d}"] = manifests
    return seed_org(fake, files)


def _run_workers(label: str, workers: int, config: Path, work: Path, bench: Bench) -> Pass:
    fake, registry = bench.fake, bench.registry
    fake.clear_calls()
    served_before = len(registry.served())
    forge_cpu_before = _self_cpu()
    load = os.getloadavg()
    started = time.perf_counter()
    running = []
    for index in range(workers):
        home = work / f"worker-{index}"
        home.mkdir(exist_ok=True)
        peak = home / f"peak-{label}"
        command = image_bot_command([
            "run", "--once", "--json", "--config", str(config), "--shard", f"{index}/{workers}",
            "--concurrency", str(bench.concurrency), "--cache-dir", str(home / "cache"),
            "--tag-cache-ttl", "0s",
        ], peak)  # fmt: skip
        out = (home / f"report-{label}.json").open("wb")
        with (home / f"stderr-{label}.log").open("wb") as err:
            process = subprocess.Popen(command, stdout=out, stderr=err)
        running.append((process, out, peak))
    cpu = 0.0
    for process, out, _ in running:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.close()
        cpu += usage.ru_utime + usage.ru_stime
    wall = time.perf_counter() - started
    reports = []
    for index, (process, _, _) in enumerate(running):
        text = (work / f"worker-{index}" / f"report-{label}.json").read_text()
        if process.returncode not in (0, 1) or not text.startswith("{"):
            stderr = (work / f"worker-{index}" / f"stderr-{label}.log").read_text()
            raise SystemExit(f"{label} worker {index}: exit {process.returncode}: {stderr[-3000:]}")
        reports.append(json.loads(text))
    repositories = [repo for report in reports for repo in report["repositories"]]
    failed = [repo for repo in repositories if repo["errors"]]
    if failed:
        print(f"  {len(failed)} repositories failed, e.g. {failed[0]['errors']}")
    actions = Counter(b["action"] for repo in repositories for b in repo["branches"])
    calls = fake.calls("github")
    writes = sum(call.is_write for call in calls)
    return Pass(
        label=label,
        repositories=len(repositories),
        wall=wall,
        cpu=cpu,
        forge_cpu=_self_cpu() - forge_cpu_before,
        rss_mib=max(peak_mib(peak) for _, _, peak in running),
        load=load,
        forge_reads=len(calls) - writes,
        forge_writes=writes,
        git_commands=sum(repo["git_commands"] for repo in repositories),
        git_http=len(fake.calls("git")),
        registry=len(registry.served()) - served_before,
        pulls_opened=actions["create"],
    )


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=1000)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--concurrency", type=int, default=4, help="repositories at once")
    parser.add_argument("--changing-every", type=int, default=4)
    args = parser.parse_args()
    ensure_bytecode()
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_registry(Path(tmp) / "registry", access_log=True) as registry,
        start_postgres() as postgres,
    ):
        root = Path(tmp)
        started = time.perf_counter()
        for n in range(args.images):
            registry.push_tags(f"org/img{n:03d}", ["1.0.0", "1.1.0"], distinct=True)
        print(f"registry: {args.images} images x 2 tags in {time.perf_counter() - started:.1f}s")
        fake = FakeForge(root / "forge", CONTRACTS).start()
        try:
            for workers in (int(w) for w in args.workers.split(",")):
                bench = Bench(fake, registry, postgres, args.concurrency)
                _measure(workers, args, bench, root / f"w{workers}")
        finally:
            fake.stop()


def _measure(workers: int, args: argparse.Namespace, bench: Bench, work: Path) -> None:
    fake, registry = bench.fake, bench.registry
    fake.reset()
    started = time.perf_counter()
    names = _organisation(fake, registry, args.repositories, args.images, args.changing_every)
    seeded = time.perf_counter() - started
    work.mkdir()
    url = bench.postgres.create_database(f"org_w{workers}")
    config = work / "image-bot.yaml"
    config.write_text(org_config(fake, registry.host, names, extra=f"state: {{url: '{url}'}}"))
    print(
        f"\n== {workers} worker(s) x concurrency {args.concurrency}: {len(names)} repositories"
        f" ({MANIFESTS} manifests each, seeded in {seeded:.1f}s), PostgreSQL state"
    )
    for label in ("first pass", "no-op pass"):
        for line in _run_workers(label, workers, config, work, bench).lines():
            print(line, flush=True)
    violations = fake.take_violations()
    if violations:
        print("contract violations:", *violations[:5], sep="\n  ")


if __name__ == "__main__":
    main()
