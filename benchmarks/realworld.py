"""Recall and false positives per file kind on the real-world corpus, and find time per file.

The corpus (tests/fixtures/realworld: 15 public repositories, expectations written by reading
the files) says which references a user expects kept up to date. This script finds references
in each repository with `find_references`, as `image-bot refs` does, and prints per kind:
expected, found of those (recall) and found that nobody expects (false positives). Then the
time to find in 1,000 files: over the corpus and, when ../shared is there, over the shared
corpus's 577 files, several runs each (min-max), with CPU time, peak RSS and the load average
beside each figure (2 shared cores: a busy machine makes any one figure slow).

Run from the repository root: `.venv/bin/python -m benchmarks.realworld [--runs 5] [--list]`
(`--list` names every miss and false positive).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

from image_bot.edit.find import find_references
from tests.support.realworld import REPOS, Score, expected_refs, repositories, score

SHARED_FILES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files"


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def _recall(listing: bool) -> int:
    total = Score()
    files = 0
    for repo in repositories():
        refs, _, listed = expected_refs(repo)
        files += len(listed)
        score(find_references(REPOS / repo).occurrences, refs, total)
    kinds = sorted(set(total.expected) | set(total.extra))
    print(f"{'kind':16} {'expected':>8} {'found':>6} {'recall':>7} {'false+':>7}")
    for kind in kinds:
        want, got = total.expected[kind], total.recalled[kind]
        recall = f"{100 * got / want:.1f}%" if want else "-"
        print(f"{kind:16} {want:8} {got:6} {recall:>7} {total.extra[kind]:7}")
    want, got = sum(total.expected.values()), sum(total.recalled.values())
    print(
        f"{'all':16} {want:8} {got:6} {100 * got / want:6.1f}% {sum(total.extra.values()):7}"
        f"   ({files} files, {len(repositories())} repositories)"
    )
    if listing:
        for missing in total.missing:
            print(f"  missed {missing.path}:{missing.line} {missing.kind} {missing.ref}")
        for extra in total.extras:
            print(f"  extra  {extra.path}:{extra.line} {extra.kind} {extra.ref}")
    return files


def _timed(label: str, files: int, runs: int, work: Callable[[], object]) -> None:
    walls, cpus, loads = [], [], []
    for _ in range(runs):
        loads.append(os.getloadavg()[0])
        cpu, wall = time.process_time(), time.perf_counter()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    per = [1000 * w / files for w in walls]
    per_cpu = [1000 * c / files for c in cpus]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label}: {files} files, per 1,000 files: wall {min(per):.2f}-{max(per):.2f} s,"
        f" cpu {min(per_cpu):.2f}-{max(per_cpu):.2f} s ({runs} runs);"
        f" peak RSS {rss:.0f} MB; 1-min load {min(loads):.2f}-{max(loads):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--list", action="store_true", help="name each miss and extra")
    args = parser.parse_args()
    print(_load())
    files = _recall(args.list)
    _timed(
        "realworld corpus",
        files,
        args.runs,
        lambda: [find_references(REPOS / repo) for repo in repositories()],
    )
    if SHARED_FILES.is_dir():
        shared = sum(1 for p in SHARED_FILES.rglob("*") if p.is_file())
        _timed("shared corpus", shared, args.runs, lambda: find_references(SHARED_FILES))
    print(_load())


if __name__ == "__main__":
    main()
