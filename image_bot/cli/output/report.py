"""RunReport as text (for people and cron mail) and as JSON (`--json`, for machines)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC

from image_bot.cli.output.envelope import versioned_json
from image_bot.cli.output.history import envs_images, rfc3339
from image_bot.model import Change, ChangeDetails, ReleaseNotes, Waiting
from image_bot.report import BranchReport, RepositoryReport, RunReport

__all__ = ["report_dict", "report_json", "report_text"]


def _change(change: Change) -> dict[str, object]:
    return {
        "image": str(change.old.name),
        "old": change.old.canonical,
        "new": change.new.canonical,
        "path": change.occurrence.path,
        "line": change.occurrence.line,
        "column": change.occurrence.column,
        "kind": str(change.occurrence.kind),
    }


def _notes(notes: ReleaseNotes | None) -> dict[str, object] | None:
    if notes is None:
        return None
    return {
        "missing": notes.missing,
        "more": notes.more,
        "releases": [
            {
                "tag": r.tag,
                "name": r.name,
                "url": r.url,
                "published": r.published.isoformat() if r.published else None,
                "body": r.body,
            }
            for r in notes.releases
        ],
    }


def _details(item: ChangeDetails) -> dict[str, object]:
    return {
        "image": item.image,
        "old": item.old,
        "new": item.new,
        "update_type": item.update_type.value,
        "policy": item.policy,
        "digest": item.digest,
        "platforms": list(item.platforms),
        "created": item.created.isoformat() if item.created else None,
        "first_seen": item.first_seen.isoformat() if item.first_seen else None,
        "source": item.source,
        "old_revision": item.old_revision,
        "new_revision": item.new_revision,
        "compare": item.compare,
        "release_notes": _notes(item.notes),
    }


def _branch(branch: BranchReport) -> dict[str, object]:
    return {
        "branch": branch.branch,
        "action": branch.action,
        "group": branch.group,
        "reason": branch.reason,
        "title": branch.title,
        "body": branch.body,
        "head_sha": branch.head_sha,
        "url": branch.url,
        "error": branch.error,
        "changes": [_change(change) for change in branch.changes],
        "details": [_details(item) for item in branch.details],
        "labels": list(branch.labels),
        "diff": branch.diff,
    }


def _waiting(wait: Waiting) -> dict[str, object]:
    return {
        "stage": wait.stage,
        "image": str(wait.image),
        "version": wait.version,
        "reason": wait.reason,
        "opens_at": rfc3339(wait.opens_at),
    }


def _repository(repo: RepositoryReport) -> dict[str, object]:
    return {
        "repository": repo.repository,
        "base": repo.base,
        "base_sha": repo.base_sha,
        "occurrences": repo.occurrences,
        "managed": repo.managed,
        "skipped": [
            {"path": skipped.path, "line": skipped.line, "reason": skipped.reason}
            for skipped in repo.skipped
        ],
        "branches": [_branch(branch) for branch in repo.branches],
        "errors": list(repo.errors),
        "held_by": repo.held_by,
        "attempts": repo.attempts,
        "git_commands": repo.git_commands,
        "git_writes": repo.git_writes,
        "git_calls": dict(repo.git_calls),
        "stages": list(repo.stages),
        "waiting": [_waiting(wait) for wait in repo.waiting],
        "environments": envs_images(repo.stages, repo.environments),
        "outcome": str(repo.outcome),
        "image_failures": [
            {"reference": f.reference, "current": f.current, "error": f.error}
            for f in repo.image_failures
        ],
    }


def report_dict(report: RunReport) -> dict[str, object]:
    """The report as plain JSON-able data."""
    return {
        "exit_code": report.exit_code,
        "outcome": str(report.outcome),
        "dry_run": report.dry_run,
        "images": report.images,
        "caveats": list(report.caveats),
        "warnings": list(report.warnings),
        "errors": list(report.errors),
        "scan_failures": [
            {"image": str(failure.image), "error": failure.error.message}
            for failure in report.scan_failures
        ],
        "repositories": [_repository(repo) for repo in report.repositories],
    }


def report_json(report: RunReport) -> str:
    """The report as indented JSON (`"kind": "run-report"`, with the schema version)."""
    return versioned_json("run-report", report_dict(report))


def _where(skipped_line: int | None) -> str:
    return f":{skipped_line}" if skipped_line is not None else ""


def _branch_text(branch: BranchReport, *, dry_run: bool) -> list[str]:
    quiet = ("keep", "hold", "defer")
    verb = f"would {branch.action}" if dry_run and branch.action not in quiet else None
    head = f"  {verb or branch.action} {branch.branch}"
    if branch.action in ("keep", "hold", "close", "defer"):
        lines = [f"{head}: {branch.reason}"]
    else:
        lines = [f"{head}: {branch.title}"]
        lines += [
            f"    {c.old.name}: {c.old.tag or c.old.digest} -> {c.new.tag or c.new.digest}"
            f"  ({c.occurrence.path}:{c.occurrence.line})"
            for c in branch.changes
        ]
    if branch.error:
        lines.append(f"    error: {branch.error}")
    if branch.action in ("create", "update", "direct") and not branch.error:
        lines += ["", "    --- pull request ---", f"    title: {branch.title}"]
        lines += [f"    {line}".rstrip() for line in branch.body.splitlines()]
        lines += ["    --- diff ---", *(f"    {line}" for line in branch.diff.splitlines()), ""]
    return lines


def report_text(report: RunReport) -> str:
    """A readable account: per repository what was found, skipped, pushed; then the failures."""
    out: list[str] = []
    actions: Counter[str] = Counter()
    for repo in report.repositories:
        base = f"{repo.base} @ {repo.base_sha[:12]}" if repo.base_sha else repo.base
        out.append(f"{repo.repository} ({base})")
        if repo.held_note is not None:
            out.append(f"  skipped: {repo.held_note}")
            continue
        managed = f" ({repo.managed} more set by kustomizations)" if repo.managed else ""
        out.append(f"  {repo.occurrences} image references{managed}, {len(repo.skipped)} skipped")
        out += [f"  skipped {s.path}{_where(s.line)}: {s.reason}" for s in repo.skipped]
        for branch in repo.branches:
            actions[branch.action] += 1
            out += _branch_text(branch, dry_run=report.dry_run)
        for wait in repo.waiting:
            when = wait.opens_at.astimezone(UTC) if wait.opens_at else None
            opens = when.strftime(" (opens %Y-%m-%d %H:%M UTC)") if when else ""
            out.append(f"  {wait.stage}: {wait.reason}{opens}  [{wait.image} {wait.version}]")
        if not repo.branches and not repo.errors and not repo.waiting:
            out.append("  nothing to update")
        out += [f"  error: {error}" for error in repo.errors]
    out += [f"scan failed: {f.image}: {f.error.message}" for f in report.scan_failures]
    out += [f"error: {error}" for error in report.errors]
    out += [f"warning: {warning}" for warning in report.warnings]
    out += [f"note: {caveat}" for caveat in report.caveats]
    done = ", ".join(f"{count} {action}" for action, count in sorted(actions.items()))
    status = str(report.outcome)
    dry = " (dry run: nothing written)" if report.dry_run else ""
    held = sum(repo.held_by is not None for repo in report.repositories)
    left = f", {held} skipped (held by another process)" if held else ""
    out.append(f"{status}: {report.images} images, branches: {done or 'none'}{left}{dry}")
    return "\n".join(out)
