"""What the service knows about each repository (ServiceState) and the HTML status page.

The scheduler thread writes whole `RepositoryStatus` values; the web layer reads snapshots.
The page is plain HTML with inline CSS (it reloads itself every minute with a meta refresh):
no script, every value escaped, links only to http(s) URLs, so a hostile tag, title or error
message renders as text.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Protocol

from image_bot.model import StageVersion, Waiting

__all__ = [
    "ImageStatus",
    "PassLog",
    "PullRequestStatus",
    "RepositoryStatus",
    "ServiceState",
    "render_status_page",
]


@dataclass(frozen=True, slots=True)
class ImageStatus:
    """One image reference of a repository: where it is and where the bot would move it."""

    reference: str  # as written in the manifests, e.g. `nginx:1.25`
    current: str  # its tag (or digest)
    proposed: str | None = None  # the tag the policy chose; None: up to date or undecided
    note: str = ""  # why (the decision's reason, a scan failure...)
    failed: bool = False  # the pass could not check this image (the note says why)


@dataclass(frozen=True, slots=True)
class PullRequestStatus:
    """An open bot pull request, as the status page links it."""

    title: str
    url: str
    branch: str
    base: str
    number: int | None = None


@dataclass(frozen=True, slots=True)
class RepositoryStatus:
    """The last known state of one managed repository."""

    repository: str
    last_pass: datetime | None = None
    next_pass: datetime | None = None
    images: tuple[ImageStatus, ...] = ()
    pull_requests: tuple[PullRequestStatus, ...] = ()
    errors: tuple[str, ...] = ()  # already redacted messages of the last pass
    stages: tuple[str, ...] = ()  # with stages: their names in order
    environments: tuple[StageVersion, ...] = ()  # what each stage runs (`image-bot envs`)
    waiting: tuple[Waiting, ...] = ()  # promotions a gate holds back
    outcome: str | None = None  # of its last pass: ok | partial | failed (None: not yet)
    uses: tuple[str, ...] | None = None  # the images its last pass found; None: not known


class PassLog(Protocol):
    """Where replicas keep each repository's last pass for one another
    (`service.shared_status.SharedStatuses`)."""

    def record(self, status: RepositoryStatus) -> None:
        """Keep `status` unless a later pass of its repository is kept already."""
        ...

    def latest(self, repositories: Iterable[str] | None = None) -> Mapping[str, RepositoryStatus]:
        """The last pass of `repositories` (None: of every repository) kept by any replica."""
        ...


class ServiceState:
    """Shared, thread-safe state of the running service: readiness and repository statuses.

    With a `shared` PassLog (replicas on one state database), each pass status put here is
    kept there too, and the statuses read back show, per repository this replica knows, the
    newest pass whichever replica ran it (with this replica's next pass).
    """

    def __init__(self, shared: PassLog | None = None) -> None:
        self._shared = shared
        self._lock = threading.Lock()
        self._config_loaded = False
        self._scheduler_started = False
        self._repositories: dict[str, RepositoryStatus] = {}
        self.started_at = datetime.now(UTC)

    def mark_config_loaded(self) -> None:
        """The configuration was read and validated."""
        with self._lock:
            self._config_loaded = True

    def mark_scheduler_started(self) -> None:
        """The scheduler is running (its first start; stays true through reloads)."""
        with self._lock:
            self._scheduler_started = True

    @property
    def ready(self) -> bool:
        """Ready to serve: config loaded and scheduler started (what `/readyz` reports)."""
        with self._lock:
            return self._config_loaded and self._scheduler_started

    def put(self, status: RepositoryStatus) -> None:
        """Record the new status of a repository (replacing the old one)."""
        with self._lock:
            self._repositories[status.repository] = status
        if self._shared is not None:
            self._shared.record(status)

    def put_if_absent(self, status: RepositoryStatus) -> None:
        """Record `status` unless the repository already has one (atomically)."""
        with self._lock:
            self._repositories.setdefault(status.repository, status)

    def remove(self, repository: str) -> None:
        """Forget a repository (it left the config or the App installation)."""
        with self._lock:
            self._repositories.pop(repository, None)

    def get(self, repository: str) -> RepositoryStatus | None:
        """The status of one repository, if known."""
        with self._lock:
            status = self._repositories.get(repository)
        if status is None or self._shared is None:
            return status
        return _newest(status, self._shared.latest([repository]).get(repository))

    def repositories(self) -> tuple[RepositoryStatus, ...]:
        """A snapshot of every repository's status, sorted by name."""
        with self._lock:
            known = tuple(self._repositories[name] for name in sorted(self._repositories))
        if self._shared is None:
            return known
        shared = self._shared.latest(status.repository for status in known)
        return tuple(_newest(status, shared.get(status.repository)) for status in known)


def _newest(own: RepositoryStatus, shared: RepositoryStatus | None) -> RepositoryStatus:
    """`shared` (with this replica's next pass) when its pass is newer than `own`'s."""
    if shared is None or shared.last_pass is None:
        return own
    if own.last_pass is not None and own.last_pass >= shared.last_pass:
        return own
    return dataclasses.replace(shared, next_pass=own.next_pass)


# --- rendering ----------------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;
color:#1b1f24;background:#fff}
header p{color:#57606a;margin-top:0}
section{border:1px solid #d0d7de;border-radius:6px;padding:0 1rem 1rem;margin:1rem 0}
h2{font-size:1.2rem;word-break:break-all}
h3{font-size:1rem;margin-bottom:.3rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem;margin:0}
dt{color:#57606a}dd{margin:0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top;
word-break:break-word}
code{font-size:.92em}
.proposed{color:#1a7f37;font-weight:600}
.failed,.outcome-failed{color:#cf222e}.outcome-partial{color:#9a6700}.outcome-ok{color:#1a7f37}
.errors li{color:#cf222e;white-space:pre-wrap;word-break:break-word}
.muted{color:#57606a}
.behind{color:#9a6700}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}
section{border-color:#30363d}th,td{border-color:#21262d}a{color:#58a6ff}
.proposed{color:#3fb950}.errors li,.failed,.outcome-failed{color:#ff7b72}
.outcome-partial{color:#d29922}.outcome-ok{color:#3fb950}}
"""
_SLUG = re.compile(r"[^a-z0-9]+")


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return '<span class="muted">not yet</span>'
    delta = (moment - now).total_seconds()
    relative = f"in {_duration(delta)}" if delta > 0 else f"{_duration(-delta)} ago"
    shown = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f'<time datetime="{_text(moment.isoformat())}">{_text(shown)}</time> ({relative})'


def _link(url: str, label: str) -> str:
    if url.startswith(("https://", "http://")):
        return f'<a href="{_text(url)}">{_text(label)}</a>'
    return _text(label)


def _proposed_cell(image: ImageStatus) -> str:
    if image.failed:
        return '<td class="failed">not checked</td>'
    if image.proposed:
        return f'<td class="proposed"><code>{_text(image.proposed)}</code></td>'
    return '<td class="muted">up to date</td>'


def _images(images: Sequence[ImageStatus], *, passed: bool, outcome: str | None) -> str:
    if not images:
        if outcome == "failed":
            text = "Not checked: the last pass failed for this repository (see the errors)."
        elif passed:
            text = "No changes proposed: up to date."
        else:
            text = "Waiting for the first pass."
        return f'<p class="muted">{text}</p>'
    rows = "".join(
        ('<tr class="failed">' if image.failed else "<tr>")
        + f"<td><code>{_text(image.reference)}</code></td>"
        f"<td><code>{_text(image.current)}</code></td>"
        f"{_proposed_cell(image)}<td>{_text(image.note)}</td></tr>"
        for image in images
    )
    return (
        '<table><thead><tr><th scope="col">Image</th><th scope="col">Current</th>'
        '<th scope="col">Proposed</th><th scope="col">Note</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _pull_requests(pulls: Sequence[PullRequestStatus]) -> str:
    if not pulls:
        return '<p class="muted">None open.</p>'
    items = "".join(
        f"<li>{_link(pr.url, f'#{pr.number} {pr.title}' if pr.number else pr.title)} "
        f'<span class="muted">({_text(pr.branch)} &rarr; {_text(pr.base)})</span></li>'
        for pr in pulls
    )
    return f'<ul class="pulls">{items}</ul>'


def _version(cell: StageVersion) -> str:
    digest = cell.digest[: len("sha256:") + 12] if cell.digest else None
    if cell.tag and digest:
        return f"{cell.tag}@{digest}"
    return cell.tag or digest or "latest"


def _cell(cell: StageVersion | None, now: datetime) -> str:
    if cell is None:
        return '<td class="muted">-</td>'
    since = f'<span class="muted"> since {_when(cell.since, now)}</span>'
    behind = ""
    if cell.behind_versions:
        plural = "s" if cell.behind_versions > 1 else ""
        behind = f' <span class="behind">{cell.behind_versions} version{plural} behind</span>'
    return f"<td><code>{_text(_version(cell))}</code>{behind}{since}</td>"


def _environments(status: RepositoryStatus, now: datetime) -> str:
    """The stage x image matrix, and the promotions waiting (only with stages)."""
    if not status.stages:
        return ""
    images = sorted({cell.image for cell in status.environments})
    cells = {(cell.stage, cell.image): cell for cell in status.environments}
    head = "".join(f'<th scope="col">{_text(stage)}</th>' for stage in status.stages)
    rows = "".join(
        f"<tr><td><code>{_text(image)}</code></td>"
        + "".join(_cell(cells.get((stage, image)), now) for stage in status.stages)
        + "</tr>"
        for image in images
    )
    table = (
        f'<table class="envs"><thead><tr><th scope="col">Image</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        if images
        else '<p class="muted">No image runs in any stage.</p>'
    )
    waits = "".join(
        f"<li><strong>{_text(wait.stage)}</strong>: <code>{_text(wait.image)}</code>"
        f" {_text(wait.version)}: {_text(wait.reason)}"
        + (f" (opens {_when(wait.opens_at, now)})" if wait.opens_at else "")
        + "</li>"
        for wait in status.waiting
    )
    waiting = f'<ul class="waiting">{waits}</ul>' if waits else '<p class="muted">None.</p>'
    return f"<h3>Environments</h3>{table}<h3>Waiting promotions</h3>{waiting}"


def _errors(errors: Sequence[str]) -> str:
    if not errors:
        return '<p class="muted">None.</p>'
    return '<ul class="errors">' + "".join(f"<li>{_text(e)}</li>" for e in errors) + "</ul>"


def _outcome(status: RepositoryStatus) -> str:
    if status.outcome is None:
        return ""
    outcome = _text(status.outcome)
    return f' · <span class="outcome outcome-{outcome}">{outcome}</span>'


def _repository(status: RepositoryStatus, now: datetime) -> str:
    slug = _SLUG.sub("-", status.repository.lower()).strip("-")
    return (
        f'<section class="repository" id="repo-{_text(slug)}">'
        f"<h2>{_text(status.repository)}</h2>"
        f"<dl><dt>Last pass</dt><dd>{_when(status.last_pass, now)}{_outcome(status)}</dd>"
        f"<dt>Next pass</dt><dd>{_when(status.next_pass, now)}</dd></dl>"
        f"{_environments(status, now)}"
        "<h3>Images</h3>"
        f"{_images(status.images, passed=status.last_pass is not None, outcome=status.outcome)}"
        f"<h3>Open pull requests</h3>{_pull_requests(status.pull_requests)}"
        f"<h3>Last errors</h3>{_errors(status.errors)}"
        "</section>"
    )


def render_status_page(
    repositories: Sequence[RepositoryStatus], *, now: datetime, ready: bool
) -> str:
    """The whole status page as one HTML document."""
    body = "".join(_repository(status, now) for status in repositories) or (
        '<p class="muted">No repositories yet: the first pass has not finished.</p>'
    )
    summary = (
        f"{len(repositories)} repositor{'y' if len(repositories) == 1 else 'ies'} · "
        f"{'ready' if ready else 'starting'} · generated "
        f"{_text(now.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S UTC'))}"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta http-equiv="refresh" content="60">'
        f"<title>image-bot status</title><style>{_STYLE}</style></head>"
        f'<body><header><h1>image-bot</h1><p id="summary">{summary}</p></header>'
        f"<main>{body}</main></body></html>"
    )
