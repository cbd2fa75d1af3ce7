"""An organisation on the fake forge: many repositories seeded in one `git fast-import`.

Creating repositories through the fake forge's control API costs a few git processes each;
`seed_org` writes every repository's first commit into one template repository with one
fast-import, then gives each repository a bare repository of its own that borrows the
template's objects (`objects/info/alternates`) and has its `main` at its commit. Git over
HTTP, the APIs and pushes work on them as on any fake-forge repository.

    names = seed_org(fake_forge, {f"org/r{n:04d}": {"deploy/app.yaml": "..."} for n in ...})
    config.write_text(org_config(fake_forge, registry_host, names))
"""

from __future__ import annotations

import re
import shutil
import subprocess  # noqa: TID251 (sets up the fake forge's bare repositories)
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.fakeforge.barerepo import BareRepo, git_env
from tests.fakeforge.control import FakeForge
from tests.fakeforge.state import Repository, now_iso

__all__ = ["MANIFEST", "deployment", "org_config", "pull_listings", "seed_org"]

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - {{name: app, image: "{image}:{tag}"}}
"""


_LISTING = re.compile(r"repos/(org/[^/]+)/pulls$")


def pull_listings(fake: FakeForge) -> Counter[str]:
    """GitHub pull-request listings per `org/...` repository so far: one per pass of it."""
    counts: Counter[str] = Counter()
    for call in fake.calls("github"):
        listing = _LISTING.search(call.path)
        if call.method == "GET" and listing:
            counts[listing.group(1)] += 1
    return counts


def deployment(image: str, tag: str) -> str:
    """A tiny Deployment running `image:tag`."""
    return MANIFEST.format(image=image, tag=tag)


def _fast_import_stream(repos: Mapping[str, Mapping[str, str]]) -> bytes:
    lines: list[bytes] = []
    for index, files in enumerate(repos.values()):
        lines.append(f"commit refs/heads/seed/{index}\nmark :{index + 1}\n".encode())
        lines.append(b"committer Fake Forge <forge@fakeforge.invalid> 1767225600 +0000\n")
        lines.append(b"data 15\nInitial commit\n\n")
        for path, text in sorted(files.items()):
            data = text.encode()
            lines.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        lines.append(b"\n")
    return b"".join(lines)


def seed_org(fake: FakeForge, repos: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Create every repository of `repos` (name -> files on `main`) on the fake forge."""
    env = git_env()
    template = fake.state.root / f"org-template-{len(fake.state.repos)}-{fake.state.next_id()}"
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(template)], env=env, check=True
    )
    marks = Path(tempfile.mkstemp(prefix="marks-")[1])
    try:
        subprocess.run(
            ["git", "-C", str(template), "fast-import", "--quiet", f"--export-marks={marks}"],
            input=_fast_import_stream(repos),
            env=env,
            check=True,
        )
        shas = {
            int(mark.lstrip(":")) - 1: sha
            for mark, sha in (line.split() for line in marks.read_text().splitlines())
        }
    finally:
        marks.unlink()
    skeleton = template.parent / f"{template.name}-skeleton"
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(skeleton)], env=env, check=True
    )
    config = skeleton / "config"
    config.write_text(
        config.read_text()
        + "[http]\n\treceivepack = true\n[uploadpack]\n\tallowAnySHA1InWant = true\n"
    )
    for hook in (skeleton / "hooks").glob("*.sample"):
        hook.unlink()
    names = []
    with fake.state.lock:
        for index, name in enumerate(repos):
            path = fake.state.repo_dir(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(skeleton, path)
            (path / "objects" / "info" / "alternates").write_text(f"{template / 'objects'}\n")
            (path / "refs" / "heads" / "main").write_text(f"{shas[index]}\n")
            repo = Repository(fake.state.next_id(), name, BareRepo(path), "main", now_iso())
            fake.state.repos[name] = repo
            names.append(name)
    shutil.rmtree(skeleton)
    return names


def org_config(
    fake: FakeForge,
    registry_host: str,
    names: Sequence[str],
    *,
    extra: str = "",
    repository_extra: str = "",
    write_interval: float | None = None,
) -> str:
    """An image-bot config for `names` on the fake forge's GitHub and an insecure registry
    (GitHub's write turns at `write_interval` seconds, else the default second)."""
    lines = [f"registries: [{{host: '{registry_host}', insecure: true}}]", extra, "repositories:"]
    pace = "" if write_interval is None else f", write_interval: {write_interval}"
    forge = f"{{type: github, api_url: '{fake.github_api_url}', token: '{fake.bot_token}'{pace}}}"
    for name in names:
        lines += [
            f"  - url: '{fake.git_url(name)}'",
            f"    project: {name}",
            f"    forge: {forge}",
        ]
        if repository_extra:
            lines.append(repository_extra)
    return "\n".join(line for line in lines if line) + "\n"
