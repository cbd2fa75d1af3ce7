"""Forge API calls of a no-op pass: list the bot's PRs, reconcile, find nothing to do.

Starts the project's fake forge (real HTTP, real PyGithub / python-gitlab clients), opens
N bot pull requests (default 20) plus some human ones, then runs the forge half of a pass
whose plans all match the open PRs' fingerprints (so reconcile says Keep for each), and
prints read and write calls per adapter, wall time and peak RSS.

Then a whole pass (`pipeline.run_pass`: a real registry, git and clients) over a repository
with `--images` open bot pull requests (three with human comments) and a dashboard, after
everything is in place: the reads and writes it costs on each forge (`tests/support/budget`).

    .venv/bin/python benchmarks/forge_calls.py [--prs 20] [--human 5] [--images 20]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import os  # noqa: E402

from image_bot.model import UpdatePlan  # noqa: E402
from image_bot.publish.forge import Forge, PullRequestDraft  # noqa: E402
from image_bot.publish.forges.github.forge import GitHubForge  # noqa: E402
from image_bot.publish.forges.gitlab.forge import GitLabForge  # noqa: E402
from image_bot.publish.pr.marker import PrMarker, encode_pr_marker  # noqa: E402
from image_bot.publish.reconcile import Keep, reconcile  # noqa: E402
from tests.fakeforge.control import FakeForge  # noqa: E402
from tests.support.budget import no_op_pass, scene  # noqa: E402
from tests.support.registry import start_registry  # noqa: E402

REPO = "acme/deploy"
CONTRACTS = ROOT.parent / "shared" / "contracts"


def _seed(fake: FakeForge, forge: Forge, prs: int, human: int) -> list[UpdatePlan]:
    fake.create_repo(REPO, {"deploy/app.yaml": "image: nginx:1.0.0\n"})
    plans = []
    for n in range(prs):
        branch = f"image-bot/image-{n:03d}"
        fake.commit(REPO, branch, {"deploy/app.yaml": f"image: nginx:1.{n}.0\n"}, start="main")
        marker = encode_pr_marker(PrMarker(group=f"image-{n:03d}", fingerprint=f"fp-{n}"))
        forge.create(REPO, branch, "main", PullRequestDraft(title=f"PR {n}", body=marker))
        plans.append(UpdatePlan(REPO, "main", branch, f"image-{n:03d}", (), f"fp-{n}"))
    for n in range(human):
        branch = f"feature/{n}"
        fake.commit(REPO, branch, {f"notes/{n}.txt": "x\n"}, start="main")
        fake.open_pull(REPO, branch, title=f"Human PR {n}")
    return plans


def _measure(
    name: str, fake: FakeForge, make: Callable[[], Forge], args: argparse.Namespace
) -> None:
    fake.reset()
    forge = make()
    plans = _seed(fake, forge, args.prs, args.human)
    fake.clear_calls()
    api = "github" if name == "github" else "gitlab"

    started = time.perf_counter()
    fresh = make()  # a new pass: nothing cached from seeding
    actions = reconcile(plans, fresh.bot_pull_requests(REPO))
    elapsed = time.perf_counter() - started

    assert all(isinstance(a, Keep) for a in actions), actions
    reads = fake.count_calls(api, writes=False)
    writes = fake.count_calls(api, writes=True)
    print(
        f"{name:7s} open bot PRs={args.prs:3d} human PRs={args.human:3d}  "
        f"reads={reads}  writes={writes}  wall={elapsed * 1000:.1f} ms"
    )


def _measure_pass(fake: FakeForge, kind: str, images: int, root: Path) -> None:
    fake.reset()
    with start_registry(root / f"registry-{kind}") as registry:
        made = scene(fake, registry, kind, root / f"work-{kind}", images=images)
        started = time.perf_counter()
        reads, writes, _ = no_op_pass(made)
        elapsed = time.perf_counter() - started
    load = os.getloadavg()[0]
    print(
        f"{kind:7s} pass: open bot PRs={images:3d} + dashboard  reads={reads}  writes={writes}"
        f"  wall={elapsed * 1000:.0f} ms  (load {load:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=20, help="open bot pull requests")
    parser.add_argument("--human", type=int, default=5, help="open human pull requests")
    parser.add_argument("--images", type=int, default=20, help="bot PRs of the whole pass")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeForge(Path(tmp), CONTRACTS).start()
        try:
            token = fake.bot_token

            def github() -> Forge:
                return GitHubForge.with_token(
                    token, api_url=fake.github_api_url, request_interval=0, write_interval=0
                )

            def gitlab() -> Forge:
                return GitLabForge(token, url=fake.gitlab_url)

            _measure("github", fake, github, args)
            _measure("gitlab", fake, gitlab, args)
            _measure_pass(fake, "github", args.images, Path(tmp))
            _measure_pass(fake, "gitlab", args.images, Path(tmp))
            violations = fake.take_violations()
            if violations:
                print("contract violations:", *violations[:5], sep="\n  ")
        finally:
            fake.stop()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
