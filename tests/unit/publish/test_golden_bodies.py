"""Golden pull request bodies (`tests/fixtures/pr_bodies/<case>.md`), byte for byte: a patch
bump, a major bump, a digest-only rebuild, a group of five images, an image without labels.

The details are what the pipeline gathers (`pipeline.details`); here they are written out so
each body is exactly reproducible. Regenerate after an intended change with
`IMAGE_BOT_GOLDEN=write .venv/bin/python -m pytest tests/unit/publish/test_golden_bodies.py`,
then read the diff.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from image_bot.model import (
    Change,
    ChangeDetails,
    ReleaseNote,
    ReleaseNotes,
    UpdatePlan,
    UpdateType,
)
from image_bot.plan import Grouping, Strategy, make_plans
from image_bot.publish.pr.body import details_key
from image_bot.publish.pr.draft import draft_for
from image_bot.publish.settings import PullRequestSettings
from image_bot.reference import parse_reference
from tests.unit.publish.factory import change

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pr_bodies"
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
DIGEST = "sha256:" + "4f" * 32
SPEC = PullRequestSettings(labels=("image-bot",), update_type_labels=(("major", ("major",)),))


def plan(*changes: Change, strategy: Strategy = Strategy.PER_IMAGE) -> UpdatePlan:
    (made,) = make_plans(
        "acme/deploy", "main", changes, grouping=Grouping(strategy),
        branch_prefix="image-bot/", file_hashes={},
    )  # fmt: skip
    return made


def details(c: Change, kind: UpdateType, **extra: object) -> ChangeDetails:
    base = ChangeDetails(
        image=str(c.old.name),
        old=c.old.canonical,
        new=c.new.canonical,
        update_type=kind,
        policy="policies.web",
        digest=DIGEST,
        platforms=("linux/amd64", "linux/arm64"),
        created=NOW - timedelta(days=3, hours=2),
        first_seen=NOW - timedelta(days=2),
    )
    return dataclasses.replace(base, **extra)  # type: ignore[arg-type]


def notes(*tags: str, more: bool = False) -> ReleaseNotes:
    releases = tuple(
        ReleaseNote(
            tag=tag,
            name=f"web {tag}",
            url=f"https://github.com/acme/web/releases/tag/{tag}",
            body=f"## Fixes\n\n- fix #&#8203;{40 + i} in the parser, thanks @&#8203;bob",
            published=NOW - timedelta(days=2 + i),
        )
        for i, tag in enumerate(tags)
    )
    return ReleaseNotes(releases, more="https://github.com/acme/web/releases" if more else None)


def source(old: str, new: str) -> dict[str, object]:
    return {
        "source": "https://github.com/acme/web",
        "old_revision": old,
        "new_revision": new,
        "compare": f"https://github.com/acme/web/compare/{old}...{new}",
    }


def patch_bump() -> tuple[UpdatePlan, list[ChangeDetails]]:
    c = change("ghcr.io/acme/web:1.4.2", "1.4.3", "apps/web/deploy.yaml", 12)
    d = details(
        c, UpdateType.PATCH, **source("a1b2c3d4e5f6", "0f9e8d7c6b5a"), notes=notes("v1.4.3")
    )
    return plan(c), [d]


def major_bump() -> tuple[UpdatePlan, list[ChangeDetails]]:
    c = change("ghcr.io/acme/web:1.4.3", "2.0.0", "apps/web/deploy.yaml", 12)
    found = notes("v2.0.0", "v1.5.0", more=True)
    d = details(c, UpdateType.MAJOR, **source("0f9e8d7c6b5a", "99aa88bb77cc"), notes=found)
    return plan(c), [d]


def digest_only_rebuild() -> tuple[UpdatePlan, list[ChangeDetails]]:
    old = parse_reference("nginx:1.27@sha256:" + "11" * 32)
    c = change(old.text, "1.27", "base/nginx.yaml", 7)
    c = dataclasses.replace(c, new=dataclasses.replace(old, digest=DIGEST, text=""))
    d = details(c, UpdateType.DIGEST_ONLY, policy="images[nginx]", platforms=("linux/amd64",))
    return plan(c), [d]


def group_of_five() -> tuple[UpdatePlan, list[ChangeDetails]]:
    moves = [
        ("ghcr.io/acme/api:3.1.0", "3.2.0", UpdateType.MINOR),
        ("ghcr.io/acme/web:1.4.2", "1.4.3", UpdateType.PATCH),
        ("bitnami/redis:7.2.4-debian-12-r3", "7.2.4-debian-12-r5", UpdateType.REBUILD),
        ("postgres:16.2", "17.0", UpdateType.MAJOR),
        ("quay.io/acme/worker:2.0.0", "2.1.0-rc.1", UpdateType.PRERELEASE),
    ]
    changes = [
        change(ref, new, f"envs/prod/{i}.yaml", 4 + i) for i, (ref, new, _) in enumerate(moves)
    ]
    found = [
        details(
            c, kind, notes=ReleaseNotes(missing="the source repository is private or missing (404)")
        )
        if i == 0
        else details(c, kind)
        for i, (c, (_, _, kind)) in enumerate(zip(changes, moves, strict=True))
    ]
    return plan(*changes, strategy=Strategy.ALL), found


def without_labels() -> tuple[UpdatePlan, list[ChangeDetails]]:
    c = change("registry.example.com/tools/cli:0.9.1", "0.10.0", "tools/cli.yaml", 3)
    missing = ReleaseNotes(missing="the image has no `org.opencontainers.image.source` label")
    d = details(c, UpdateType.MINOR, policy="default_policy", first_seen=None, notes=missing)
    return plan(c), [d]


CASES = {
    "patch-bump": patch_bump,
    "major-bump": major_bump,
    "digest-only-rebuild": digest_only_rebuild,
    "group-of-five": group_of_five,
    "without-labels": without_labels,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_pull_request_body(case: str) -> None:
    made, found = CASES[case]()
    draft = draft_for(made, SPEC, details={(d.old, d.new): d for d in found}, now=NOW)
    assert all(details_key(c) in {(d.old, d.new) for d in found} for c in made.changes)
    text = f"title: {draft.title}\nlabels: {', '.join(draft.labels)}\n\n{draft.body}"
    golden = FIXTURES / f"{case}.md"
    if os.environ.get("IMAGE_BOT_GOLDEN") == "write":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()
