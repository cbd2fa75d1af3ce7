"""Crash safety of a publishing pass: `image-bot run --once` (a real subprocess) is SIGKILLed at a
random point, then a normal pass runs; the end state must always be exactly one correct pull
request per group, no orphan bot branch, no duplicate comment, and a further pass a no-op.

Each iteration builds a fresh repository on the fake forge with every kind of lifecycle work
pending (a conflicting base change to rebuild, a human close to acknowledge, a human push to
hold, a PR made obsolete by config to close, a new group to open). The subprocess has
image-bot imported before the clock starts, so kill points fall inside the pass itself:
uniform in [0, T], T the measured duration of an unkilled pass on that forge.

Kills run on GitLab by default: the GitHub adapter paces writes 1 s apart (GitHub's
secondary-limit advice, not settable from the config file), which makes a GitHub pass ~10 s;
IMAGE_BOT_CRASH_FORGES=github,gitlab alternates both at random. Reproduce a failure with
IMAGE_BOT_CRASH_SEED=<seed> (printed); IMAGE_BOT_CRASH_ITERATIONS sets the count (50).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess  # noqa: TID251 (the test runs and kills the real image-bot process)
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from image_bot.cli import cli
from tests.fakeforge.control import FakeForge
from tests.integration.lifecycle_support import FORGES, Lifecycle
from tests.support.registry import RunningRegistry

pytestmark = [pytest.mark.integration, pytest.mark.slow]

IMAGES = ("app", "side", "gone", "held", "new")
ROOT = Path(__file__).resolve().parents[2]
# Imports image-bot, then waits for its arguments: the pass starts when they arrive.
WARM = (
    "import json, sys\n"
    "from image_bot.cli import cli\n"
    "print('ready', file=sys.stderr, flush=True)\n"
    "args = json.loads(sys.stdin.readline())\n"
    "cli.main(args=args, prog_name='image-bot')\n"
)


@dataclass
class Scenario:
    """A repository after a first pass and the human changes that give the next pass work."""

    life: Lifecycle
    numbers: dict[str, int] = field(default_factory=dict)  # image -> its first PR's number
    branches: dict[str, str] = field(default_factory=dict)  # image -> its bot branch
    held_sha: str = ""

    def image(self, name: str) -> str:
        return f"{self.life.registry.host}/{self.life.namespace}/{name}"


def in_process_pass(life: Lifecycle) -> dict[str, object]:
    result = CliRunner().invoke(cli, life.args(), catch_exceptions=False)
    assert result.stdout.startswith("{"), result.output
    report: dict[str, object] = json.loads(result.stdout)
    assert result.exit_code == 0, _failures(report)
    return report


def _failures(report: dict[str, object]) -> str:
    """What made a pass fail, in full (pytest shortens a whole report's repr)."""
    found: list[str] = [
        f"{key}: {report[key]}" for key in ("errors", "scan_failures") if report.get(key)
    ]
    repositories = report.get("repositories")
    for repo in repositories if isinstance(repositories, list) else ():
        if not isinstance(repo, dict):
            continue
        found += [f"repository error: {error}" for error in repo.get("errors") or ()]
        found += [f"image failure: {failure}" for failure in repo.get("image_failures") or ()]
        found += [
            f"branch {branch.get('branch')} ({branch.get('action')}): {branch.get('error')}"
            for branch in repo.get("branches") or ()
            if isinstance(branch, dict) and branch.get("error")
        ]
    return "; ".join(found) or json.dumps(report)[:4000]


def prepare(
    forge: FakeForge, registry: RunningRegistry, kind: str, ns: str, work: Path
) -> Scenario:
    name = f"acme/{work.name}"
    work.mkdir(parents=True)
    life = Lifecycle(forge, registry, kind, ns, work / "image-bot.yaml", work / "cache", name)
    scenario = Scenario(life)
    files: dict[str, str | bytes] = {
        f"deploy/{i}.yaml": f"image: {scenario.image(i)}:1.0.0\n" for i in IMAGES[:-1]
    }
    forge.create_repo(name, files)
    life.write_config()
    first = in_process_pass(life)
    for pull in life.pulls("open"):
        image = next(i for i in IMAGES if pull.title.startswith(f"Update {scenario.image(i)} "))
        scenario.numbers[image], scenario.branches[image] = pull.number, pull.head
    assert sorted(scenario.numbers) == sorted(IMAGES[:-1]), json.dumps(first)[:3000]
    ops = f"# pinned by ops\nimage: {scenario.image('app')}:1.0.0\n"
    new = f"image: {scenario.image('new')}:1.0.0\n"
    forge.commit(name, "main", {"deploy/app.yaml": ops, "deploy/new.yaml": new})
    forge.close_pull(name, scenario.numbers["side"])
    scenario.held_sha = forge.commit(name, scenario.branches["held"], {"NOTES.md": "mine\n"})
    life.write_config("    exclude: ['deploy/gone.yaml']\n")
    return scenario


def check_end_state(scenario: Scenario) -> int:
    """Assert the converged state; the number of one-time comments a crash lost (0..3)."""
    life, numbers = scenario.life, scenario.numbers
    pulls = life.pulls()
    opened = {p.title: p for p in life.pulls("open")}
    assert sorted(opened) == sorted(
        [f"Update {scenario.image(i)} to 1.1.0" for i in ("app", "held", "new")]
    ), opened
    assert len(pulls) == 5, [(p.number, p.title, p.state) for p in pulls]  # no duplicate PR
    by_image = {i: opened.get(f"Update {scenario.image(i)} to 1.1.0") for i in IMAGES}
    app, held, new = by_image["app"], by_image["held"], by_image["new"]
    assert app is not None and held is not None and new is not None
    assert (app.number, held.number) == (numbers["app"], numbers["held"])
    repo = life.repo
    assert life.forge.read_file(repo, app.head, "deploy/app.yaml") == (
        f"# pinned by ops\nimage: {scenario.image('app')}:1.1.0\n"
    )
    assert life.forge.read_file(repo, new.head, "deploy/new.yaml") == (
        f"image: {scenario.image('new')}:1.1.0\n"
    )
    assert life.forge.branch_sha(repo, held.head) == scenario.held_sha  # never overwritten
    assert sorted(life.bot_branches()) == sorted([app.head, held.head, new.head])  # no orphan
    gone = life.forge.pull(repo, numbers["gone"])
    assert gone.state == "closed" and gone.merged_at is None
    counts = {i: len(life.bot_comments(life.forge.pull(repo, numbers[i]))) for i in numbers}
    counts["new"] = len(life.bot_comments(new))
    assert counts["app"] == counts["new"] == 0, counts
    assert all(counts[i] <= 1 for i in ("side", "gone", "held")), counts  # never duplicated
    return sum(1 for i in ("side", "gone", "held") if counts[i] == 0)


def start_warm() -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # its own process group: the kill takes its git children too
        [sys.executable, "-c", WARM], cwd=ROOT, env=env, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def wait_ready(process: subprocess.Popen[bytes]) -> None:
    """Block until the warm process has imported image-bot (it says so on stderr)."""
    assert process.stderr is not None
    assert process.stderr.readline() == b"ready\n"


class WarmProcesses:
    """Warm image-bot processes, one always importing ahead so no iteration waits for it."""

    def __init__(self) -> None:
        self.spare: subprocess.Popen[bytes] | None = None

    def take(self) -> subprocess.Popen[bytes]:
        process = self.spare or start_warm()
        self.spare = start_warm()
        wait_ready(process)
        return process

    def close(self) -> None:
        if self.spare is not None:
            os.killpg(self.spare.pid, signal.SIGKILL)
            self.spare.wait()
            for stream in (self.spare.stdin, self.spare.stderr):
                if stream is not None:
                    stream.close()


def killed_pass(
    process: subprocess.Popen[bytes], life: Lifecycle, delay: float | None
) -> tuple[float, bool]:
    """Start the pass in warm `process`, SIGKILLed after `delay` s (None: let it finish).

    Returns (how long it ran, whether it was killed before finishing).
    """
    assert process.stdin is not None and process.stderr is not None
    started = time.monotonic()
    process.stdin.write((json.dumps(life.args()) + "\n").encode())
    process.stdin.close()
    try:
        process.wait(timeout=delay if delay is not None else 120)
        killed = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        killed = True
    process.stderr.close()
    if delay is None:
        assert process.returncode == 0
    return time.monotonic() - started, killed


def test_a_pass_killed_anywhere_converges_on_the_next_pass(
    fake_forge: FakeForge, registry: RunningRegistry, repo_name: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("IMAGE_BOT_CRASH_SEED", time.time_ns() % 2**32))
    iterations = int(os.environ.get("IMAGE_BOT_CRASH_ITERATIONS", "50"))
    rng = random.Random(seed)
    for image in IMAGES:
        registry.push_tags(f"{repo_name}/{image}", ["1.0.0", "1.1.0"], distinct=True)
    began = time.monotonic()
    warm = WarmProcesses()

    def run_one(label: str, kind: str, delay: float | None) -> tuple[float, bool, int, int]:
        scenario = prepare(fake_forge, registry, kind, repo_name, tmp_path / label)
        fake_forge.clear_calls()
        ran, killed = killed_pass(warm.take(), scenario.life, delay)
        writes_before_kill = fake_forge.count_calls(writes=True)
        in_process_pass(scenario.life)
        lost = check_end_state(scenario)
        fake_forge.clear_calls()
        in_process_pass(scenario.life)
        assert fake_forge.count_calls(writes=True) == 0  # converged: the next pass is a no-op
        return ran, killed, writes_before_kill, lost

    try:
        durations = {}
        forges = tuple(os.environ.get("IMAGE_BOT_CRASH_FORGES", "gitlab").split(","))
        assert set(forges) <= set(FORGES), forges
        for kind in forges:  # calibration: T per forge, and an unkilled pass loses nothing
            ran, _, writes, lost = run_one(f"calibrate-{kind}", kind, None)
            durations[kind] = ran
            assert lost == 0
            print(f"calibration {kind}: pass {ran:.2f}s, {writes} forge writes")

        killed_at: Counter[int] = Counter()  # forge writes completed before the kill
        fifths: Counter[int] = Counter()
        finished = lost_total = 0
        for iteration in range(iterations):
            kind = rng.choice(forges)
            delay = rng.uniform(0, durations[kind])
            context = f"seed={seed} iteration={iteration} forge={kind} kill after {delay:.3f}s"
            try:
                _, killed, writes, lost = run_one(f"crash-{iteration}", kind, delay)
            except AssertionError as error:
                raise AssertionError(f"{context}: {error}") from error
            killed_at[writes] += 1
            fifths[min(4, int(5 * delay / durations[kind]))] += 1
            finished += not killed
            lost_total += lost
        print(
            f"crash test: seed={seed} iterations={iterations}"
            f" runtime={time.monotonic() - began:.1f}s"
            f" T={ {k: round(v, 2) for k, v in durations.items()} }"
            f" kill delay by fifth of T={dict(sorted(fifths.items()))}"
            f" forge writes done before the kill={dict(sorted(killed_at.items()))}"
            f" finished before the kill={finished} comments lost to a crash={lost_total}"
        )
    finally:
        warm.close()
