"""RunReport as Markdown (`--report markdown`): a CI job summary.

GitHub renders it in `$GITHUB_STEP_SUMMARY` (the repository's action.yml writes it there);
GitLab and other CIs can publish the file as an artifact or a merge-request note. Everything
in it came from registries, repositories and forges, so every piece of text is escaped:
table cells cannot break out of their row, code spans and diff fences cannot be closed
early, and no raw HTML gets through (the step summary renders HTML).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import UTC

from image_bot.model import Change, Waiting
from image_bot.report import BranchReport, RepositoryReport, RunReport

__all__ = ["DIFF_LINES", "report_markdown"]

DIFF_LINES = 200
"""Diff lines shown per branch; GitHub caps a step summary at 1 MiB."""

_QUIET = ("keep", "hold", "defer", "close")
# what can start emphasis, code, a link, a table cell or an HTML tag anywhere in a line (our
# text never starts a line, so `#`, `+` and `-` cannot open a heading or a list)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def _text(value: str) -> str:
    """Plain text that stays plain: Markdown and HTML characters escaped, one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def _code(value: str, *, cell: bool = True) -> str:
    """An inline code span that no backtick in `value` can close (CommonMark's rule); in a
    table `cell` a pipe is escaped too, since a row ends at any bare pipe, even in code."""
    value = " ".join(value.split())
    if cell:
        value = value.replace("|", "\\|")
    runs = [len(run) for run in re.findall(r"`+", value)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _fenced(body: str, info: str) -> list[str]:
    runs = [len(run) for run in re.findall(r"^\s*(`{3,})", body, flags=re.MULTILINE)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return [f"{fence}{info}", *body.splitlines(), fence]


def _count(number: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number} {noun if number == 1 else plural}"


def _ref(change: Change, new: bool) -> str:
    ref = change.new if new else change.old
    return ref.tag or ref.digest or ""


def _change(change: Change) -> str:
    where = f"{change.occurrence.path}:{change.occurrence.line}"
    old, new = _ref(change, new=False), _ref(change, new=True)
    return f"{_code(str(change.old.name))} {_code(old)} → {_code(new)} ({_code(where)})"


def _pull_request(branch: BranchReport) -> str:
    if branch.action in _QUIET:
        return _text(branch.reason)
    title = _text(branch.title)
    url = branch.url if branch.url.startswith(("https://", "http://")) else ""
    url = url.replace(">", "%3E").replace("|", "%7C")
    return f"[{title}](<{url}>)" if url else title


def _branch_row(branch: BranchReport, *, dry_run: bool) -> str:
    action = branch.action
    if dry_run and action not in _QUIET:
        action = f"would {action}"
    if branch.error:
        action = f"**failed** ({action})"
    changes = "<br>".join(_change(change) for change in branch.changes) or "-"
    cells = [action, _code(branch.branch), _pull_request(branch), changes]
    return "| " + " | ".join(cells) + " |"


def _diff(branch: BranchReport) -> list[str]:
    lines = branch.diff.splitlines()
    shown = "\n".join(lines[:DIFF_LINES])
    more = len(lines) - DIFF_LINES
    summary = f"<summary>diff of <code>{html.escape(branch.branch)}</code></summary>"
    out = ["<details>", summary, ""]
    out += _fenced(shown, "diff")
    if more > 0:
        out.append(f"{more} more lines: run `image-bot run --once --dry-run` to see them all.")
    return [*out, "", "</details>", ""]


def _waiting(wait: Waiting) -> str:
    opens = ""
    if wait.opens_at is not None:
        opens = wait.opens_at.astimezone(UTC).strftime(" (opens %Y-%m-%d %H:%M UTC)")
    version = f" {_code(wait.version, cell=False)}" if wait.version else ""
    image = _code(str(wait.image), cell=False)
    return f"- {_text(wait.stage)}: {_text(wait.reason)}{opens} ({image}{version})"


def _repository(repo: RepositoryReport, *, dry_run: bool) -> list[str]:
    base = f"{repo.base} @ {repo.base_sha[:12]}" if repo.base_sha else repo.base
    if repo.held_note is not None:
        return [f"### {_text(repo.repository)}", "", f"Skipped: {_text(repo.held_note)}.", ""]
    managed = f" (+{repo.managed} set by kustomizations)" if repo.managed else ""
    out = [
        f"### {_text(repo.repository)}",
        "",
        f"Base {_code(base, cell=False)}: {_count(repo.occurrences, 'image reference')}{managed}, "
        f"{len(repo.skipped)} skipped.",
        "",
    ]
    if repo.branches:
        out += ["| action | branch | pull request | changes |", "|---|---|---|---|"]
        out += [_branch_row(branch, dry_run=dry_run) for branch in repo.branches]
        out.append("")
    elif not repo.errors and not repo.waiting:
        out += ["Nothing to update.", ""]
    if repo.waiting:
        out += ["Promotions waiting:", "", *(_waiting(wait) for wait in repo.waiting), ""]
    errors = [*repo.errors, *(f"{b.branch}: {b.error}" for b in repo.branches if b.error)]
    out += [f"- **error**: {_text(error)}" for error in errors]
    if errors:
        out.append("")
    if repo.skipped:
        out += ["<details>", f"<summary>{len(repo.skipped)} skipped</summary>", ""]
        for skipped in repo.skipped:
            where = f"{skipped.path}:{skipped.line}" if skipped.line else skipped.path
            out.append(f"- {_code(where, cell=False)}: {_text(skipped.reason)}")
        out += ["", "</details>", ""]
    for branch in repo.branches:
        if branch.diff and branch.action in ("create", "update", "direct"):
            out += _diff(branch)
    return out


def report_markdown(report: RunReport) -> str:
    """The pass as a Markdown summary: a headline, per repository a table of branches with
    their pull requests and changes, skipped files and diffs folded, then the failures."""
    actions = Counter(b.action for repo in report.repositories for b in repo.branches)
    done = ", ".join(f"{count} {action}" for action, count in sorted(actions.items()))
    status = "✅ ok" if report.exit_code == 0 else "❌ failed"
    dry = " (dry run: nothing written)" if report.dry_run else ""
    out = [
        f"## image-bot: {status}",
        "",
        f"{_count(report.images, 'image')}, {_count(len(report.repositories), 'repository')}, "
        f"branches: {done or 'none'}{dry}.",
        "",
    ]
    for repo in report.repositories:
        out += _repository(repo, dry_run=report.dry_run)
    failures = [
        f"scan of {_code(str(failure.image), cell=False)}: {_text(failure.error.message)}"
        for failure in report.scan_failures
    ]
    failures += [_text(error) for error in report.errors]
    if failures:
        out += ["### Failures", "", *(f"- {failure}" for failure in failures), ""]
    if report.caveats:
        out += ["### Notes", "", *(f"- {_text(caveat)}" for caveat in report.caveats), ""]
    return "\n".join(out).rstrip() + "\n"
