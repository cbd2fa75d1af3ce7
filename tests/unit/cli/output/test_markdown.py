"""`run --once --report markdown`: the CI job summary, against a golden file, and rendered by a
real CommonMark + GFM-tables parser to prove hostile text (titles, paths, diffs, errors that
came from registries and repositories) cannot break the table, close the diff fence early or
inject HTML into $GITHUB_STEP_SUMMARY.

Regenerate the golden file after an intended change with IMAGE_BOT_REGOLD=1.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

from markdown_it import MarkdownIt

from image_bot.cli.output.markdown import DIFF_LINES, report_markdown
from image_bot.errors import RegistryError
from image_bot.model import (
    Change,
    ImageName,
    ImageRef,
    Occurrence,
    OccurrenceKind,
    Part,
    ScanFailure,
    Skipped,
    Span,
    Waiting,
)
from image_bot.report import BranchReport, RepositoryReport, RunReport

GOLDEN = Path(__file__).resolve().parents[3] / "fixtures" / "report" / "run-report.md"
WEB = ImageName("ghcr.io", "acme/web")
API = ImageName("ghcr.io", "acme/api")
DIFF = """\
--- a/apps/web/deployment.yaml
+++ b/apps/web/deployment.yaml
@@ -17 +17 @@
-          image: ghcr.io/acme/web:1.25.3
+          image: ghcr.io/acme/web:1.27.0
"""


def change(name: ImageName, old: str, new: str, path: str, line: int) -> Change:
    span = Span(start=0, end=1, line=line, column=18)
    occurrence = Occurrence(
        path=path,
        document=0,
        yaml_path=("spec", "template", "spec", "containers", 0, "image"),
        kind=OccurrenceKind.POD_SPEC,
        ref=ImageRef(name, old),
        spans={Part.WHOLE: span},
    )
    return Change(occurrence, ImageRef(name, old), ImageRef(name, new))


def sample(**branch: str) -> RunReport:
    web = BranchReport(
        branch="image-bot/ghcr.io-acme-web",
        action="create",
        title=branch.get("title", "Update ghcr.io/acme/web to 1.27.0"),
        body="Updates ghcr.io/acme/web from 1.25.3 to 1.27.0.",
        changes=(change(WEB, "1.25.3", "1.27.0", "apps/web/deployment.yaml", 17),),
        diff=branch.get("diff", DIFF),
        url="https://github.com/acme/gitops/pull/42",
        head_sha="0123456789abcdef",
    )
    api = BranchReport(
        branch="image-bot/ghcr.io-acme-api",
        action="keep",
        reason="up to date (pull request #41)",
        changes=(change(API, "1.4.0", "1.5.0", "apps/api/kustomization.yaml", 9),),
    )
    repo = RepositoryReport(
        repository="https://github.com/acme/gitops.git",
        base="main",
        base_sha="9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        occurrences=7,
        managed=1,
        skipped=(Skipped("apps/broken.yaml", "not valid YAML: mapping values are not allowed", 3),),
        branches=(web, api),
    )
    failure = ScanFailure(
        ImageName("docker.io", "library/redis"),
        RegistryError("registry-1.docker.io", "429 Too Many Requests", image="library/redis"),
    )
    return RunReport(
        repositories=(repo,),
        scan_failures=(failure,),
        caveats=("min_age (default_policy) fell back to the registry's created field",),
        images=4,
    )


def test_matches_the_golden_summary() -> None:
    text = report_markdown(sample())
    if os.environ.get("IMAGE_BOT_REGOLD"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def render(text: str) -> tuple[str, list]:  # type: ignore[type-arg]
    parser = MarkdownIt("commonmark").enable("table")
    return parser.render(text), parser.parse(text)


def test_every_table_row_keeps_four_cells_and_nothing_becomes_html() -> None:
    hostile = sample(
        title="Update web | <script>alert(1)</script> `x` [y](javascript:z)",
        diff=DIFF + "+```\n+</details><img src=x onerror=alert(1)>\n",
    )
    html, tokens = render(report_markdown(hostile))
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 3  # header + two branches
    cells = [t for t in tokens if t.type in ("td_open", "th_open")]
    assert len(cells) == 3 * 4
    assert "<script>" not in html
    assert "<img" not in html
    assert 'href="javascript' not in html
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1
    assert fences[0].content.endswith("+</details><img src=x onerror=alert(1)>\n")


def test_a_long_diff_is_cut_with_a_way_to_see_it_all() -> None:
    long = "".join(f"+line {n}\n" for n in range(DIFF_LINES + 50))
    _, tokens = render(report_markdown(sample(diff=long)))
    (fence,) = [t for t in tokens if t.type == "fence"]
    assert len(fence.content.splitlines()) == DIFF_LINES
    assert "50 more lines" in report_markdown(sample(diff=long))


def test_a_dry_run_says_what_it_would_do_and_that_nothing_was_written() -> None:
    text = report_markdown(RunReport(repositories=sample().repositories, dry_run=True))
    assert "| would create |" in text
    assert "(dry run: nothing written)" in text
    assert text.startswith("## image-bot: ✅ ok")


def test_waiting_promotions_are_listed_with_when_they_open_and_stay_plain_text() -> None:
    opens = datetime(2026, 12, 8, 10, 20, tzinfo=UTC)
    waits = (
        Waiting(
            "staging", API, "1.5.0@sha256:9b8e7d6c5b4a", "waiting for soak, 23h50m left", opens
        ),
        Waiting("prod", API, "1.4.0", "held: <b>freeze</b> | `x`"),
    )
    (repo,) = sample().repositories
    quiet = dataclasses.replace(repo, branches=(), skipped=(), waiting=waits)
    text = report_markdown(RunReport(repositories=(quiet,)))
    html, _ = render(text)
    assert "Nothing to update." not in text
    assert (
        "- staging: waiting for soak, 23h50m left (opens 2026-12-08 10:20 UTC)"
        " (`ghcr.io/acme/api` `1.5.0@sha256:9b8e7d6c5b4a`)"
    ) in text
    assert "<b>" not in html
    assert "held: &lt;b&gt;freeze&lt;/b&gt; | `x`" in html


def test_a_repository_held_by_another_process_is_a_skip_not_a_failure() -> None:
    held = RepositoryReport("https://git.example.com/acme/deploy.git", "main", held_by="job/7")
    report = RunReport(repositories=(held,), images=0)
    summary = report_markdown(report)
    assert summary.startswith("## image-bot: ✅ ok")
    assert "Skipped: held by another process (job/7 is passing it now)." in summary
    assert "**error**" not in summary
