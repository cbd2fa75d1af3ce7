"""Benchmark a full scan against a real docker-registry: wall time, requests, peak RSS.

Seeds REPOS repositories x TAGS tags plus one repository with BIG tags (storage layout
written directly), then scans every image (each named three times, as manifests repeat
images) at a few per-registry concurrency limits.

    .venv/bin/python -m benchmarks.scan [--repos 500] [--tags 20] [--big 5000]
                                        [--concurrency 1,4,16] [--auth none|basic|token]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

from image_bot.model import ImageName, ScanFailure
from image_bot.scan.hosts import RegistrySettings
from image_bot.scan.oci import OCIRegistry
from image_bot.scan.scanner import scan
from tests.support.registry import RunningRegistry, start_registry


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(registry: RunningRegistry, repos: int, tags: int, big: int) -> list[ImageName]:
    names = []
    for i in range(repos):
        repository = f"bench/app{i:04d}"
        registry.push_tags(repository, [f"1.{minor}.0" for minor in range(tags)])
        names.append(ImageName(registry.host, repository))
    registry.push_tags("bench/big", [f"0.{patch // 100}.{patch % 100}" for patch in range(big)])
    names.append(ImageName(registry.host, "bench/big"))
    return names


async def run_once(registry: RunningRegistry, names: list[ImageName], concurrency: int) -> None:
    settings = [
        RegistrySettings(
            registry.host,
            insecure=True,
            concurrency=concurrency,
            username=registry.username,
            password=registry.password,
        )
    ]
    occurrences = names * 3  # the scanner lists each image once however often it appears
    started = time.perf_counter()
    async with OCIRegistry(settings, docker_config=Path("/nonexistent/config.json")) as client:
        result = await scan(client, occurrences)
        requests = client.requests[registry.host]
    elapsed = time.perf_counter() - started
    failures = sum(isinstance(value, ScanFailure) for value in result.values())
    tags = sum(len(value.tags) for value in result.values() if not isinstance(value, ScanFailure))
    print(
        f"concurrency={concurrency:<3} images={len(result)} tags={tags} failures={failures} "
        f"requests={requests} wall={elapsed:.2f}s peak_rss={_peak_rss_mib():.0f}MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--tags", type=int, default=20)
    parser.add_argument("--big", type=int, default=5000)
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--auth", choices=("none", "basic", "token"), default="none")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="image-bot-bench-"))
    with start_registry(root, auth=args.auth) as registry:
        started = time.perf_counter()
        names = seed(registry, args.repos, args.tags, args.big)
        total = args.repos * args.tags + args.big
        seconds = time.perf_counter() - started
        print(f"auth={args.auth}: seeded {len(names)} repositories, {total} tags in {seconds:.1f}s")
        for concurrency in (int(value) for value in args.concurrency.split(",")):
            asyncio.run(run_once(registry, names, concurrency))


if __name__ == "__main__":
    main()
