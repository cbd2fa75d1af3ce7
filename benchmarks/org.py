"""Benchmark an organisation: 1,000 repositories on the fake forge, 1, 2 and 4 workers.

    .venv/bin/python -m benchmarks.org [--repositories 1000] [--images 300]
        [--workers 1,2,4] [--concurrency 4] [--changing-every 4] [--tag-cache-ttl 0s]
        [--serve 1,2] [--serve-changed 10]

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

With `--serve R1,R2`, after the first worker count's two passes it also measures the service:
R `image-bot serve` replicas on the same organisation and PostgreSQL state, each replica's
first scheduled tick (the period claims of earlier rows are forgotten first) passing every
repository once through the shared queue, one job per repository (the jobs of the period
share tag listings through the state's tag cache, emptied before each row). The wall runs from the
first job's start to the last job's end by the replicas' own JSON log lines ("queued pass
starting"/"done"); CPU is the replicas' whole lives (start-up, the pass, the drain after
SIGTERM) with their git children; git commands are counted by a `git` on the replicas' PATH
that counts and runs the real one. `--serve-changed K` then gives images 0..K-1 a newer tag
and measures one more service pass with the most replicas (pull requests updated, opened).

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
import signal
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
from benchmarks.replica_logs import counting_git, logged, logged_entries  # noqa: E402
from tests.fakeforge.control import FakeForge  # noqa: E402
from tests.support.org import deployment, org_config, seed_org  # noqa: E402
from tests.support.peak import image_bot_command, peak_mib  # noqa: E402
from tests.support.postgres import RunningPostgres, start_postgres  # noqa: E402
from tests.support.registry import RunningRegistry, free_port, start_registry  # noqa: E402

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
    tag_cache_ttl: str


@dataclass(frozen=True)
class Org:
    """A seeded organisation: its config, work directory, database and size."""

    config: Path
    work: Path
    database: str
    repositories: int


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
    _fresh_window(fake)
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
            "--tag-cache-ttl", bench.tag_cache_ttl,
        ], peak)  # fmt: skip
        with (
            (home / f"report-{label}.json").open("wb") as out,
            (home / f"stderr-{label}.log").open("wb") as err,
        ):
            process = subprocess.Popen(command, stdout=out, stderr=err)
        running.append((process, peak))
    cpu = _reap([process for process, _ in running])
    wall = time.perf_counter() - started
    reports = []
    for index, (process, _) in enumerate(running):
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
        rss_mib=max(peak_mib(peak) for _, peak in running),
        load=load,
        forge_reads=len(calls) - writes,
        forge_writes=writes,
        git_commands=sum(repo["git_commands"] for repo in repositories),
        git_http=len(fake.calls("git")),
        registry=len(registry.served()) - served_before,
        pulls_opened=actions["create"],
    )


def _serve_pass(label: str, replicas: int, org: Org, bench: Bench) -> Pass:
    """Start `replicas` serve processes, wait until their first scheduled tick has passed
    every repository of `org` (their logs say so), stop them; what that cost."""
    fake, registry, config, work = bench.fake, bench.registry, org.config, org.work
    # forget earlier rows' period claims and listings: these replicas' first tick passes
    # every repository, and its jobs share the listings of this row's passes only
    bench.postgres.psql(org.database, "DELETE FROM deliveries WHERE id LIKE 'pass %'")
    bench.postgres.psql(org.database, "DELETE FROM tag_cache")
    _fresh_window(fake)
    served_before = len(registry.served())
    forge_cpu_before = _self_cpu()
    home = work / label.replace(" ", "-")
    git_count = counting_git(home)
    load = os.getloadavg()
    running = []
    for index in range(replicas):
        own = home / f"replica-{index}"
        own.mkdir(parents=True)
        peak = own / "peak"
        command = image_bot_command([
            "serve", "--config", str(config), "--port", str(free_port()), "--log-format", "json",
            "--concurrency", str(bench.concurrency), "--cache-dir", str(own / "cache"),
            "--tag-cache-ttl", bench.tag_cache_ttl,
        ], peak)  # fmt: skip
        env = {**os.environ, "HOME": str(own), "PATH": f"{home / 'bin'}:{os.environ['PATH']}"}
        with (own / "serve.log").open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        running.append((process, own / "serve.log", peak))
    logs = [log for _, log, _ in running]
    while len(logged(logs, "queued pass done")) < org.repositories:
        for process, log, _ in running:
            if process.poll() is not None:
                raise SystemExit(f"{label}: exit {process.returncode}: {log.read_text()[-3000:]}")
        time.sleep(0.5)  # only waits: the wall comes from the replicas' log times
    for process, _, _ in running:
        process.send_signal(signal.SIGTERM)
    cpu = _reap([process for process, _, _ in running])
    started, done = logged(logs, "queued pass starting"), logged(logs, "queued pass done")
    failed = sum(1 for entry in logged_entries(logs) if entry.get("failed_repositories"))
    if failed:
        print(f"  {failed} repository passes failed (see {home})")
    calls = fake.calls("github")
    writes = sum(call.is_write for call in calls)
    return Pass(
        label=label,
        repositories=len(done),
        wall=(max(done.values()) - min(started.values())).total_seconds(),
        cpu=cpu,
        forge_cpu=_self_cpu() - forge_cpu_before,
        rss_mib=max(peak_mib(peak) for _, _, peak in running),
        load=load,
        forge_reads=len(calls) - writes,
        forge_writes=writes,
        git_commands=len(git_count.read_bytes()),
        git_http=len(fake.calls("git")),
        registry=len(registry.served()) - served_before,
        pulls_opened=sum(c.is_write and c.path.endswith("/pulls") for c in calls),
    )


def _fresh_window(fake: FakeForge) -> None:
    """Forget the calls so far and start a new rate-limit window: each pass is measured on
    its own, not on what is left of the fake GitHub's 5,000 requests after the earlier ones
    (four passes over 1,000 repositories use them up, and the bot then rightly refuses)."""
    fake.clear_calls()
    with fake.state.lock:
        fake.state.rate_used = 0


def _reap(processes: list[subprocess.Popen[bytes]]) -> float:
    """Wait for every process; their CPU (user + sys, with the children they waited for)."""
    cpu = 0.0
    for process in processes:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
    return cpu


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
    parser.add_argument("--tag-cache-ttl", default="0s", help="of every process")
    parser.add_argument("--serve", default="", help="serve replica counts, comma-separated")
    parser.add_argument("--serve-changed", type=int, default=0, help="images given a new tag")
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
            for index, workers in enumerate(int(w) for w in args.workers.split(",")):
                bench = Bench(fake, registry, postgres, args.concurrency, args.tag_cache_ttl)
                _measure(workers, args, bench, root / f"w{workers}", serve=index == 0)
        finally:
            fake.stop()


def _measure(
    workers: int, args: argparse.Namespace, bench: Bench, work: Path, *, serve: bool
) -> None:
    fake, registry = bench.fake, bench.registry
    fake.reset()
    started = time.perf_counter()
    names = _organisation(fake, registry, args.repositories, args.images, args.changing_every)
    seeded = time.perf_counter() - started
    work.mkdir()
    url = bench.postgres.create_database(f"org_w{workers}")
    config = work / "image-bot.yaml"
    extra = f"state: {{url: '{url}'}}\nservice: {{schedule: {{interval: 100d}}}}"
    config.write_text(org_config(fake, registry.host, names, extra=extra))
    print(
        f"\n== {workers} worker(s) x concurrency {args.concurrency}: {len(names)} repositories"
        f" ({MANIFESTS} manifests each, seeded in {seeded:.1f}s), PostgreSQL state"
    )
    for label in ("first pass", "no-op pass"):
        for line in _run_workers(label, workers, config, work, bench).lines():
            print(line, flush=True)
    counts = [int(r) for r in args.serve.split(",") if r] if serve else []
    org = Org(config, work, f"org_w{workers}", len(names))
    for replicas in counts:
        label = f"serve x{replicas}"
        for line in _serve_pass(label, replicas, org, bench).lines():
            print(line, flush=True)
    if counts and args.serve_changed:
        for n in range(args.serve_changed):
            registry.push_tags(f"org/img{n:03d}", ["1.2.0"], distinct=True)
        label = f"serve x{max(counts)} new"
        for line in _serve_pass(label, max(counts), org, bench).lines():
            print(line, flush=True)
    violations = fake.take_violations()
    if violations:
        print("contract violations:", *violations[:5], sep="\n  ")


if __name__ == "__main__":
    main()
