"""The API budget scene: a manifests repository with N images, each with an open bot pull
request (some with human comments already read), a dashboard, and the config for it, on the
fake forge (GitHub or GitLab). Used by `benchmarks/forge_calls.py` and the test that pins it.

`no_op_pass(scene)` runs one real pass (`pipeline.run_pass`, real git, registry and client)
after everything is in place and returns (reads, writes) the forge saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from image_bot.config.load import load_config
from image_bot.pipeline import PassOptions, run_pass
from image_bot.report import RunReport
from image_bot.wiring.forges import Forges
from image_bot.wiring.passes import registry_opener
from tests.fakeforge.control import FakeForge
from tests.support.registry import RunningRegistry

__all__ = ["Scene", "no_op_pass", "one_pass", "scene"]

REPO = "acme/deploy"


@dataclass(frozen=True, slots=True)
class Scene:
    """Where the repository, its images and the bot's config are."""

    fake: FakeForge
    kind: str
    config: Path
    work: Path
    images: int


def scene(
    fake: FakeForge, registry: RunningRegistry, kind: str, work: Path, *, images: int = 20,
    namespace: str = "budget",
) -> Scene:  # fmt: skip
    """N images at 1.0.0 (1.1.0 available) in one repository with a dashboard; the first
    pass (run here) opens N pull requests and the dashboard; humans comment on three."""
    work.mkdir(parents=True, exist_ok=True)
    files = {}
    for n in range(images):
        registry.push_tags(f"{namespace}/img{n:02d}", ["1.0.0", "1.1.0"], distinct=True)
        files[f"deploy/img{n:02d}.yaml"] = f"image: {registry.host}/{namespace}/img{n:02d}:1.0.0\n"
    fake.create_repo(REPO, files)
    if kind == "github":
        url = fake.git_url(REPO)
        forge = f"{{type: github, api_url: '{fake.github_api_url}', token: '{fake.bot_token}'}}"
    else:
        url = fake.git_url(REPO, user="oauth2")
        forge = f"{{type: gitlab, url: '{fake.gitlab_url}', token: '{fake.bot_token}'}}"
    config = work / "image-bot.yaml"
    config.write_text(
        f"registries: [{{host: '{registry.host}', insecure: true}}]\n"
        "repositories:\n"
        f"  - url: '{url}'\n"
        f"    project: {REPO}\n"
        f"    forge: {forge}\n"
        "    dashboard: {enabled: true}\n"
        f"    limits: {{max_open_pull_requests: {images + 5}}}\n"
    )
    made = Scene(fake, kind, config, work, images)
    one_pass(made)
    for pull in fake.pulls(REPO)[:3]:
        fake.comment(REPO, pull.number, "LGTM, merging after the release")
    one_pass(made)  # reads those comments once (and records that it did)
    return made


def one_pass(made: Scene) -> RunReport:
    """One pass as `image-bot run --once --no-state` makes it."""
    config = load_config(made.config)
    options = PassOptions(cache_dir=made.work / "cache")
    report = run_pass(
        config, open_registry=registry_opener(config), forge_for=Forges(), options=options
    )
    if report.exit_code != 0:
        raise AssertionError(report)
    return report


def no_op_pass(made: Scene) -> tuple[int, int, RunReport]:
    """(reads, writes) the forge's API saw in a pass with nothing new, and its report."""
    made.fake.clear_calls()
    report = one_pass(made)
    api = made.kind
    return (
        made.fake.count_calls(api, writes=False),
        made.fake.count_calls(writes=True),
        report,
    )
