"""Decide over many tags: one choose() among N tags, then N tags x M images, cold and warm.

    .venv/bin/python benchmarks/decide.py [--images 50] [--tags 5000]

First one `choose()` for one image (default policy, current 1.20.1) that elects a winner:
cold (the first call in the process: empty parse caches, no ranking memo), the same call
again (warm: the fact round reuses the ranking), and a fresh policy (parse caches warm);
then the second round that reaches the verdict with the digests it asked for (listing why
every other tag lost: reasons are built only for a verdict).
Then every image through the elect-then-resolve loop (its "cold" means new policies; the
version-part caches already saw image 0's tags in the single choose). Prints wall and CPU
time per phase, fact requests the policies asked for, and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time
from datetime import UTC, datetime

from image_bot.config import parse_policy
from image_bot.decide.build import build_policy
from image_bot.model import TagFacts, TagList
from image_bot.reference import parse_reference

SPECS = [
    {},
    {"semver": "^1.20"},
    {"semver": ">=1.0 <3 || 4.x", "ignore": ["*-rc*"]},
    {"numerical": "asc", "filter": {"pattern": r"^build-(?P<n>\d+)$", "extract": "$n"}},
    {"alphabetical": "asc"},
]


def make_tags(rng: random.Random, count: int) -> tuple[str, ...]:
    variants = ["", "", "-alpine", "-bookworm", "-debian-12-r3"]
    pres = ["", "", "", "-rc.1", "-beta2"]
    tags = set()
    while len(tags) < count:
        kind = rng.random()
        if kind < 0.8:
            parts = [rng.randint(0, 5), rng.randint(0, 30), rng.randint(0, 20)]
            text = ".".join(map(str, parts[: rng.choice([1, 2, 3, 3, 3])]))
            tags.add(rng.choice(["", "v"]) + text + rng.choice(pres) + rng.choice(variants))
        elif kind < 0.9:
            tags.add(f"build-{rng.randint(1, 10**6)}")
        else:
            tags.add(f"main-{rng.getrandbits(28):07x}")
    return tuple(sorted(tags))


def time_one_choose(tags: tuple[str, ...], now: datetime) -> None:
    """One choose() among `tags` that elects a winner (it then asks for two digests)."""
    ref = parse_reference("registry.example/team/app:1.20.1")
    taglist = TagList(ref.name, tags, {})
    policy = build_policy(parse_policy({}).settings())
    fresh = build_policy(parse_policy({}).settings())
    timings = []
    for label, chosen in (("cold", policy), ("warm", policy), ("fresh policy", fresh)):
        start, cpu = time.perf_counter(), time.process_time()
        decision = chosen.choose(ref, taglist, now=now)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        timings.append(f"{label} {elapsed:.3f} s (cpu {cpu:.3f} s)")
    print(f"choose among {len(tags)} tags: " + ", ".join(timings))
    print(f"  elected: {decision.reason}; asks digests of {', '.join(decision.missing)}")
    digests = {tag: TagFacts(digest=f"sha256:{tag}") for tag in decision.missing}
    start, cpu = time.perf_counter(), time.process_time()
    verdict = policy.choose(ref, TagList(ref.name, tags, digests), now=now)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"  then the verdict with those digests: {elapsed:.3f} s (cpu {cpu:.3f} s):"
        f" {verdict.reason}; {len(verdict.rejected)} tags listed as rejected"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--tags", type=int, default=5000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    time_one_choose(make_tags(random.Random(7), args.tags), now)  # first: really cold
    rng = random.Random(7)
    policies = [build_policy(parse_policy(spec).settings()) for spec in SPECS]
    images = []
    for n in range(args.images):
        ref = parse_reference(f"registry.example/team/app{n}:1.20.1")
        tags = make_tags(rng, args.tags)
        facts = {t: TagFacts(digest=f"sha256:{hash(t) & (2**256 - 1):064x}") for t in tags}
        images.append((ref, tags, facts, policies[n % len(policies)]))
    for phase in ("cold", "warm"):
        asked = rounds = 0
        start, cpu = time.perf_counter(), time.process_time()
        for ref, tags, facts, policy in images:
            known: dict[str, TagFacts] = {}
            while True:
                decision = policy.choose(ref, TagList(ref.name, tags, known), now=now)
                if not decision.missing:
                    break
                rounds += 1
                asked += len(decision.missing)
                known.update({t: facts[t] for t in decision.missing})
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"{phase}: {args.images} images x {args.tags} tags: wall {elapsed:.2f}s, cpu {cpu:.2f}s"
            f" ({cpu / args.images * 1000:.1f} ms cpu/image), fact rounds {rounds},"
            f" tags whose facts were asked {asked}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()
    print(f"peak RSS: {peak:.0f} MiB; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
