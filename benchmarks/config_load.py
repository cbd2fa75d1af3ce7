"""Load config files: the example, and a generated one with many repositories and policies.

    .venv/bin/python benchmarks/config_load.py [--repositories 500] [--policies 200] [--rounds 5]

Prints wall time per load (best of rounds), file size, lines, and peak RSS. A config is read
once per pass (and on SIGHUP), so this is about start-up latency and `check-config` in CI.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from image_bot.config.load import load_config

ROOT = Path(__file__).resolve().parents[1]


def generated(repositories: int, policies: int) -> str:
    lines = ["registries:"]
    lines += [
        f"  - {{host: reg{i}.example.com, username: u, password: '${{BENCH_TOKEN}}'}}"
        for i in range(20)
    ]
    lines.append("policies:")
    lines += [
        f"  p{i}: {{semver: '^{i % 9}.{i % 7}', ignore: ['*-rc*'], min-age: 1d}}"
        for i in range(policies)
    ]
    lines.append("images:")
    lines += [f"  - {{name: 'ghcr.io/acme/app{i}', policy: p{i}}}" for i in range(policies)]
    lines.append("repositories:")
    for i in range(repositories):
        lines += [
            f"  - url: https://github.com/acme/deploy{i}.git",
            "    forge: {type: github, token: '${BENCH_TOKEN}'}",
            "    paths: [clusters, apps]",
            "    exclude: ['**/templates/**']",
            "    pull_request: {title: 'chore: {summary}', labels: [image-bot, deps]}",
            "    grouping: {strategy: named, groups: [{name: platform, images: ['ghcr.io/*']}]}",
        ]
    return "\n".join(lines) + "\n"


def best_of(rounds: int, path: Path) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        load_config(path)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repositories", type=int, default=500)
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for name in ("BENCH_TOKEN", "GHCR_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN"):
        os.environ[name] = f"{name.lower()}-value"
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        example = directory / "example.yaml"
        shutil.copy(ROOT / "config.example.yaml", example)
        (directory / "secrets").mkdir()
        for name in ("dockerhub-token", "github-app.pem"):
            (directory / "secrets" / name).write_text("secret\n", encoding="utf-8")
        big = directory / "big.yaml"
        big.write_text(generated(args.repositories, args.policies), encoding="utf-8")
        for label, path in (("example", example), ("generated", big)):
            text = path.read_text(encoding="utf-8")
            seconds = best_of(args.rounds, path)
            print(
                f"{label:>9}: {seconds * 1000:8.1f} ms per load  "
                f"({len(text) / 1024:.0f} KiB, {text.count(chr(10))} lines)"
            )
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS: {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
