"""pipeline.obsolete: an open bot PR without a plan is closed only on positive evidence."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from image_bot.edit.find import FindResult
from image_bot.model import ImageName, PullRequest, PullRequestState
from image_bot.pipeline.obsolete import PassFacts, obsolete_evidence
from image_bot.publish.reconcile import Evidence
from tests.unit.publish.factory import change

APP = change("ghcr.io/acme/app:1.1.0", "1.1.0", "deploy/app.yaml").occurrence
OTHER = change("ghcr.io/acme/other:1.0.0", "1.0.0", "deploy/other.yaml").occurrence
APP_NAME = ImageName("ghcr.io", "acme/app")


def pr(head: str = "sha", proposals: tuple[str, ...] = ("ghcr.io/acme/app:1.1.0",)) -> PullRequest:
    return PullRequest(
        1, "u", "image-bot/app", "main", head, PullRequestState.OPEN,
        fingerprint="f", proposals=proposals,
    )  # fmt: skip


def facts(
    *,
    found: FindResult | None = None,
    changed: Sequence[str] = ("deploy/app.yaml",),
    existing: Collection[str] = ("deploy/app.yaml", "deploy/other.yaml"),
    unread: Mapping[str, str] | None = None,
    unsafe: Mapping[str, str] | None = None,
    undecided: Collection[tuple[str, ImageName]] = (),
) -> PassFacts:
    files = ("deploy/app.yaml", "deploy/other.yaml")
    return PassFacts(
        found=found or FindResult((APP, OTHER), (), files=files),
        base="main",
        unread=unread or {},
        unsafe=unsafe or {},
        undecided=undecided,
        exists=lambda path: path in existing,
        changed_files=lambda _: list(changed),
    )


def verdict(request: PullRequest, known: PassFacts) -> Evidence:
    return obsolete_evidence([request], (), known)[request.branch]


def test_a_reference_found_and_needing_no_change_is_evidence() -> None:
    found = verdict(pr(), facts())
    assert found == Evidence(
        obsolete=True,
        reason="no change is needed any more: ghcr.io/acme/app in deploy/app.yaml needs no"
        " change from it",
    )


def test_a_file_gone_uncovered_or_without_the_image_is_evidence() -> None:
    assert verdict(pr(), facts(existing=())).reason.endswith("deploy/app.yaml is gone from main")
    uncovered = facts(found=FindResult((OTHER,), (), files=("deploy/other.yaml",)))
    assert verdict(pr(), uncovered).reason.endswith(
        "the configuration no longer covers deploy/app.yaml"
    )
    emptied = facts(found=FindResult((OTHER,), (), files=("deploy/app.yaml", "deploy/other.yaml")))
    assert verdict(pr(), emptied).reason.endswith(
        "deploy/app.yaml no longer refers to ghcr.io/acme/app"
    )


def test_doubt_keeps_the_pull_request_open() -> None:
    gone = FindResult((OTHER,), (), files=("deploy/app.yaml", "deploy/other.yaml"))
    cases = {
        "could not be read this pass (bad YAML)": facts(
            found=gone, unread={"deploy/app.yaml": "bad YAML"}
        ),
        "cannot take its edits this pass (changed)": facts(unsafe={"deploy/app.yaml": "changed"}),
        "could not be decided this pass": facts(undecided=[("deploy/app.yaml", APP_NAME)]),
        "no image reference was found in the repository": facts(found=FindResult((), ())),
        "ghcr.io/acme/app was not found this pass, nor a file": facts(found=gone, changed=()),
    }
    for reason, known in cases.items():
        kept = verdict(pr(), known)
        assert not kept.obsolete
        assert reason in kept.reason, (reason, kept.reason)
    assert not verdict(pr(proposals=()), facts()).obsolete
    assert not verdict(pr(proposals=("not a reference!",)), facts()).obsolete


def test_a_skip_elsewhere_in_the_file_does_not_hide_a_reference_that_was_found() -> None:
    found = verdict(pr(), facts(unread={"deploy/app.yaml": "templated value"}))
    assert found.obsolete


def test_without_its_branch_the_image_itself_is_the_evidence() -> None:
    assert verdict(pr(head=""), facts()).obsolete
    assert not verdict(pr(head=""), facts(undecided=[("deploy/app.yaml", APP_NAME)])).obsolete


def test_planned_closed_and_foreign_pull_requests_are_not_judged() -> None:
    request = pr()
    closed = PullRequest(
        2, "u", "image-bot/x", "main", "s", PullRequestState.CLOSED, fingerprint="f"
    )
    foreign = PullRequest(3, "u", "image-bot/y", "main", "s", PullRequestState.OPEN)
    assert obsolete_evidence([request, closed, foreign], {request.branch}, facts()) == {}
