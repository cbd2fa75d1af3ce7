"""The status page as a real browser sees it: headless Chromium against the app under uvicorn.

Hostile text (a tag-like string with markup, an error message with a script) must render as
text: nothing runs, nothing is added to the DOM. Skips when Chromium is not installed
(`scripts/setup` installs Debian's `chromium`).
"""

from __future__ import annotations

import re
import shutil
import subprocess  # noqa: TID251 (the test drives a real browser process)
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from image_bot.model import Change, ImageName, ImageRef, Occurrence, OccurrenceKind
from image_bot.report import BranchReport, ImageFailure, RepositoryReport
from image_bot.service.metrics import Metrics
from image_bot.service.pass_results import repository_status
from image_bot.service.status import (
    ImageStatus,
    PullRequestStatus,
    RepositoryStatus,
    ServiceState,
)
from image_bot.service.web import create_app
from image_bot.service.webhooks import WebhookSecrets
from tests.fakeforge.server import serve_in_thread

pytestmark = pytest.mark.integration

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
HOSTILE_NOTE = "<script>document.body.setAttribute('data-pwned','1')</script>"
HOSTILE_ERROR = "<img src=x onerror=\"document.title='pwned'\"> registry said no"
HOSTILE_TITLE = "Update app to <b>2.0</b>"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (scripts/setup installs it with apt)")
    return found


def service_state() -> ServiceState:
    state = ServiceState()
    state.mark_config_loaded()
    state.mark_scheduler_started()
    now = datetime.now(UTC)
    state.put(
        RepositoryStatus(
            repository="acme/gitops",
            last_pass=now - timedelta(minutes=2),
            next_pass=now + timedelta(minutes=8),
            images=(
                ImageStatus("nginx:1.25.3", "1.25.3", "1.27.1", HOSTILE_NOTE),
                ImageStatus("ghcr.io/acme/app:1.9.0", "1.9.0", None, "newest allowed"),
            ),
            pull_requests=(
                PullRequestStatus(
                    title=HOSTILE_TITLE,
                    url="https://github.example/acme/gitops/pull/7",
                    branch="image-bot/app",
                    base="main",
                    number=7,
                ),
                PullRequestStatus(
                    title="Update other",
                    url="javascript:document.title='pwned'",
                    branch="image-bot/other",
                    base="main",
                    number=8,
                ),
            ),
            errors=(HOSTILE_ERROR,),
        )
    )
    state.put(RepositoryStatus(repository="acme/empty"))
    return state


@pytest.fixture(scope="module")
def status_url() -> Iterator[str]:
    """The app, served by a real uvicorn on 127.0.0.1 in a thread, for this module."""
    app = create_app(
        service_state(),
        trigger=lambda _trigger: None,
        secrets=WebhookSecrets(),
        metrics=Metrics(),
    )
    with serve_in_thread(app) as url:
        yield f"{url}/"


def run_chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "profile"
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode()


class DomSummary(HTMLParser):
    """The bits of a serialised DOM the assertions look at."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.body_attributes: dict[str, str | None] = {}
        self.links: list[str] = []
        self.title = ""
        self.text: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "body":
            self.body_attributes = dict(attrs)
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        self.text.append(data)


def test_status_page_renders_and_runs_nothing(status_url: str, tmp_path: Path) -> None:
    dom = DomSummary()
    dom.feed(run_chromium(tmp_path, "--dump-dom", status_url))
    text = "".join(dom.text)

    assert dom.title == "image-bot status"  # the onerror handler did not run
    assert "data-pwned" not in dom.body_attributes  # the script did not run
    assert "script" not in dom.tags
    assert "img" not in dom.tags
    assert "b" not in dom.tags
    # hostile strings are shown as the text they are
    assert HOSTILE_NOTE in text
    assert HOSTILE_ERROR in text
    assert f"#7 {HOSTILE_TITLE}" in text
    # what the page is for
    for expected in ("acme/gitops", "acme/empty", "nginx:1.25.3", "1.27.1", "up to date"):
        assert expected in text
    assert "2 repositories" in text
    assert dom.links == ["https://github.example/acme/gitops/pull/7"]  # no javascript: link


def test_status_page_screenshot(status_url: str, tmp_path: Path) -> None:
    shot = tmp_path / "status.png"
    run_chromium(tmp_path, "--window-size=1280,900", f"--screenshot={shot}", status_url)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 900)


def two_repositories_one_image_missing() -> ServiceState:
    """The status of a pass over two repositories where only acme/apps uses an image whose
    registry failed (issue 14 item 18), made the way the service makes it."""
    now = datetime.now(UTC)
    nginx = ImageName("docker.io", "library/nginx")
    old = ImageRef(nginx, "1.25", text="nginx:1.25")
    new = ImageRef(nginx, "1.27", text="nginx:1.27")
    occurrence = Occurrence("deploy.yaml", 0, (), OccurrenceKind.POD_SPEC, old, {})
    moved = BranchReport("image-bot/nginx", "create", changes=(Change(occurrence, old, new),))
    apps = RepositoryReport(
        "https://git.example/acme/apps.git",
        "main",
        branches=(moved,),
        image_failures=(ImageFailure("ghcr.io/acme/gone:1.0", "1.0", "image not found"),),
    )
    infra = RepositoryReport("https://git.example/acme/infra.git", "main", branches=(moved,))
    state = ServiceState()
    for name, report in (("acme/apps", apps), ("acme/infra", infra)):
        state.put(repository_status(name, report, finished=now, next_pass=None))
    return state


def sections(dom: str) -> dict[str, str]:
    """The text of each repository section of a dumped DOM, by section id."""
    found = {}
    for chunk in dom.split('<section class="repository" id="')[1:]:
        identifier, _, rest = chunk.partition('"')
        found[identifier] = re.sub(r"<[^>]+>", " ", rest.split("</section>", 1)[0])
    return found


def test_a_missing_image_shows_in_its_own_repository_only(tmp_path: Path) -> None:
    app = create_app(
        two_repositories_one_image_missing(),
        trigger=lambda _trigger: None,
        secrets=WebhookSecrets(),
        metrics=Metrics(),
    )
    with serve_in_thread(app) as url:
        dom = run_chromium(tmp_path, "--dump-dom", f"{url}/")
    by_repo = sections(dom)
    apps, infra = by_repo["repo-acme-apps"], by_repo["repo-acme-infra"]
    assert "ghcr.io/acme/gone:1.0" in apps  # in its image table and its errors
    assert "not checked" in apps
    assert "image not found" in apps
    assert "partial" in apps  # one missing image: the pass was partial, not failed
    assert "gone" not in infra  # never under another repository
    assert "nginx:1.25" in infra
    assert " ok" in infra
