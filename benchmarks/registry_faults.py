"""Benchmark how fast and how cheaply hostile or misconfigured registries fail.

- plain http without `insecure`: seconds to fail and requests sent (a real docker-registry
  reached over https);
- an endless tags body, a 50 MiB body and a trickling one: wall time and the peak RSS of
  the scanning process (each scan in a child process, so the peaks do not mix).

Each figure over RUNS runs, with the 1-minute load average beside it.

    .venv/bin/python -m benchmarks.registry_faults [--runs 3] [--timeout 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import subprocess  # noqa: TID251 (each scan in its own process, to measure its peak RSS)
import sys
import tempfile
import time
from pathlib import Path

from image_bot.errors import RegistryError
from image_bot.model import ImageName
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from tests.support.hostile import HostileServer, endless, huge, trickle
from tests.support.registry import start_registry


async def _fail(settings: list[RegistrySettings], name: ImageName, tmp: Path) -> tuple[float, int]:
    async with OCIRegistry(settings, docker_config=tmp / "none.json") as registry:
        start = time.monotonic()
        with contextlib.suppress(RegistryError):
            await registry.list_tags(name)
        return time.monotonic() - start, registry.requests[name.registry]


def plain_http(runs: int, tmp: Path) -> None:
    with start_registry(tmp / "registry") as running:
        running.push_tags("bench/app", ["1.0.0"])
        name = ImageName(running.host, "bench/app")
        for _ in range(runs):
            wall, requests = asyncio.run(_fail([], name, tmp))
            load = os.getloadavg()[0]
            print(f"plain http, no insecure: {wall:.2f} s, {requests} request(s), load {load:.2f}")


def _child(host: str, repository: str, timeout: float) -> None:
    """In the child: scan one image, print wall time; the parent reads the peak RSS."""
    settings = [RegistrySettings(host, insecure=True, timeout=timeout)]
    wall, _ = asyncio.run(_fail(settings, ImageName(host, repository), Path(tempfile.gettempdir())))
    print(f"{wall:.2f}")


def hostile(runs: int, timeout: float) -> None:
    with HostileServer() as server:
        server.route("/v2/endless/", endless())
        server.route("/v2/huge/", huge(50 << 20))
        server.route("/v2/trickle/", trickle(b'{"tags": ["1.0.0"]}' * 100, every=0.1))
        for case in ("endless", "huge", "trickle"):
            for _ in range(runs):
                command = [sys.executable, "-m", "benchmarks.registry_faults", "--child",
                           server.host, case, str(timeout)]  # fmt: skip
                process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
                assert process.stdout is not None
                wall = process.stdout.read().strip()
                _, _, usage = os.wait4(process.pid, 0)
                load = os.getloadavg()[0]
                rss = usage.ru_maxrss / 1024
                print(f"{case} body: failed in {wall} s, peak RSS {rss:.0f} MiB, load {load:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=5.0, help="registries[].timeout")
    parser.add_argument("--child", nargs=3, metavar=("HOST", "REPOSITORY", "TIMEOUT"))
    args = parser.parse_args()
    if args.child:
        host, repository, timeout = args.child
        _child(host, repository, float(timeout))
        return
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process before any scan: {baseline:.0f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        plain_http(args.runs, Path(tmp))
    hostile(args.runs, args.timeout)


if __name__ == "__main__":
    main()
