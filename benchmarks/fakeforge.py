"""The fake forge's own costs: what a test pays per call (contract validation included).

    .venv/bin/python benchmarks/fakeforge.py [--prs 100] [--rounds 20]

Starts the fake forge, seeds one repository with N pull requests through the control API,
then times real PyGithub / python-gitlab calls and git over HTTP. Prints per-operation wall
time (median of rounds), the number of HTTP requests the fake served, and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess  # noqa: TID251 - the benchmark drives the real git client
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gitlab  # noqa: E402
from github import Auth, Github  # noqa: E402

from tests.fakeforge.barerepo import git_env  # noqa: E402
from tests.fakeforge.control import FakeForge  # noqa: E402

REPO = "acme/deploy"
CONTRACTS = ROOT.parent / "shared" / "contracts"


def timed(rounds: int, action: Callable[[], object]) -> float:
    """Median wall seconds of `rounds` runs."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        fake = FakeForge(Path(tmp) / "forge", CONTRACTS).start()
        print(f"start server                {time.perf_counter() - started:8.3f} s")
        fake.create_repo(REPO, {"app.yaml": "image: nginx:1.0\n"})
        started = time.perf_counter()
        for n in range(args.prs):
            fake.commit(REPO, f"image-bot/{n}", {"app.yaml": f"image: nginx:{n}\n"}, start="main")
            fake.open_pull(REPO, f"image-bot/{n}", title=f"Bump {n}")
        seeding = (time.perf_counter() - started) / args.prs
        print(f"seed commit + open PR       {seeding * 1000:8.1f} ms each ({args.prs} PRs)")

        gh = Github(
            auth=Auth.Token(fake.bot_token),
            base_url=fake.github_api_url,
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        repo = gh.get_repo(REPO)
        gl = gitlab.Gitlab(url=fake.gitlab_url, private_token=fake.bot_token)
        project = gl.projects.get(REPO)
        fake.clear_calls()
        rows = {
            "GitHub get pull (mergeable)": lambda: repo.get_pull(1),
            f"GitHub list {args.prs} pulls": lambda: repo.get_pulls(state="all").get_page(0),
            "GitHub edit pull": lambda: repo.get_pull(1).edit(body=str(time.time())),
            "GitLab get MR": lambda: project.mergerequests.get(1),
            f"GitLab list {args.prs} MRs": lambda: project.mergerequests.list(per_page=100),
        }
        for name, action in rows.items():
            print(f"{name:<27} {timed(args.rounds, action) * 1000:8.1f} ms")

        env = git_env()
        work = Path(tmp) / "clone"
        clone = timed(
            1,
            lambda: subprocess.run(
                ["git", "clone", "-q", fake.git_url(REPO), str(work)], env=env, check=True
            ),
        )
        print(f"git clone over HTTP         {clone * 1000:8.1f} ms")
        (work / "app.yaml").write_text("image: nginx:x\n")
        subprocess.run(["git", "commit", "-qam", "x"], cwd=work, env=env, check=True)
        push = timed(
            1,
            lambda: subprocess.run(
                ["git", "push", "-q", "origin", "HEAD:bench"], cwd=work, env=env, check=True
            ),
        )
        print(f"git push over HTTP          {push * 1000:8.1f} ms")

        print(f"requests served             {len(fake.calls()):8d}")
        print(f"contract violations         {len(fake.take_violations()):8d}")
        fake.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS                    {peak:8.1f} MiB")


if __name__ == "__main__":
    main()
