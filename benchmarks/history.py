"""`image-bot history` and `image-bot envs` on a generated repository with a long history.

    .venv/bin/python benchmarks/history.py [--commits 10000] [--images 50] [--rounds 3]

The repository (generated once with `git fast-import`, tests/support/historyrepo.py) has
three stages (dev, staging, prod) with `images` Deployments each (150 references by default)
and `commits` first-parent commits: image bumps, promotions, merges of pull requests, file
removals, unrelated changes. Each command runs as the CLI does, in its own process; printed:
wall time and peak RSS of that process (min and max over the rounds), the load average
beside each, and what the walk read. Target (issue 10): under 5 s and 200 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess  # noqa: TID251  (measures the CLI as a user runs it)
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.historyrepo import generate, stages_config  # noqa: E402


def _run(args: list[str]) -> tuple[float, float, bytes]:
    """(wall seconds, peak RSS MiB of the process, stdout) of one CLI run."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "image_bot", *args], stdout=subprocess.PIPE, cwd=ROOT
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"image-bot {' '.join(args)} failed with status {status}")
    return wall, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "deploy"
        start = time.perf_counter()
        made = generate(repo, commits=args.commits, images=args.images)
        print(
            f"generated {made.first_parent} first-parent commits ({made.commits} in all),"
            f" {3 * args.images} references in 3 stages in {time.perf_counter() - start:.1f}s"
        )
        config = stages_config(Path(tmp) / "image-bot.yaml", repo)
        for name, extra in (
            ("history", []),
            ("envs", []),
            ("history --path-only", ["--path-only"]),
        ):
            command = name.split()[0]
            args_ = [command, str(repo), "--config", str(config), "--json", *extra]
            walls, peaks, loads = [], [], []
            out = b""
            for _ in range(args.rounds):
                wall, peak, out = _run(args_)
                walls.append(wall)
                peaks.append(peak)
                loads.append(os.getloadavg()[0])
            data = json.loads(out)
            size = len(data["entries"]) if "entries" in data else len(data["images"])
            print(
                f"{name:>20}: wall {min(walls):.2f}-{max(walls):.2f} s  "
                f"peak RSS {min(peaks):.0f}-{max(peaks):.0f} MiB  "
                f"load {min(loads):.2f}-{max(loads):.2f}  ({size} rows)"
            )


if __name__ == "__main__":
    main()
