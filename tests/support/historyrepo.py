"""Generate a manifests repository with a long, realistic history (for `history` tests and
benchmarks/history.py): stages dev, staging, prod with `images` Deployments each; commits bump
a dev image, promote one from dev to staging or staging to prod, touch unrelated files, merge
pull requests (real two-parent merges), delete and re-add files, and (with `kustomize`) let a
kustomization set staging's first image. Written with one `git fast-import` run.
"""

from __future__ import annotations

import random
import subprocess  # noqa: TID251  (tests drive real git repositories)
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["STAGES", "HistoryRepo", "generate", "stages_config"]

STAGES = ("dev", "staging", "prod")
_START = 1_700_000_000  # 2023-11-14, committer times go up by ten minutes per commit


def _digest(image: int, version: int) -> str:
    return f"sha256:{image:08x}{version:056x}"


def _deployment(image: int, version: int, *, placeholder: bool = False) -> str:
    ref = (
        f"ghcr.io/acme/app-{image}"
        if placeholder
        else f"ghcr.io/acme/app-{image}:1.{version}.0@{_digest(image, version)}"
    )
    return (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata:\n  name: app-{image}\n  labels: {{app: app-{image}}}\n"
        "spec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n"
        f"        - name: app\n          image: {ref}\n"
        "          ports: [{containerPort: 8080}]\n"
    )


def _kustomization(image: int, version: int) -> str:
    return (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [app-{image}.yaml]\n"
        f"images:\n  - name: ghcr.io/acme/app-{image}\n    newTag: 1.{version}.0\n"
        f"    digest: {_digest(image, version)}\n"
    )


@dataclass
class HistoryRepo:
    """What was generated: the repository's path and how many commits its branch has."""

    path: Path
    commits: int
    first_parent: int = 0
    versions: dict[tuple[str, int], int] = field(default_factory=dict)


class _Stream:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.mark = 0
        self.time = _START

    def commit(
        self, branch: str, files: dict[str, str | None], message: str, *, parent: int,
        merge: int | None = None, author: str = "Dev One <dev@example.com>",
    ) -> int:  # fmt: skip
        self.mark += 1
        self.time += 600
        ident = f"{author} {self.time} +0000"
        out = [f"commit refs/heads/{branch}\nmark :{self.mark}\n"]
        out.append(f"author {ident}\ncommitter {ident}\n")
        body = message.encode()
        self.chunks.append("".join(out).encode() + f"data {len(body)}\n".encode() + body + b"\n")
        if parent:
            self.chunks.append(f"from :{parent}\n".encode())
        if merge:
            self.chunks.append(f"merge :{merge}\n".encode())
        for path, text in sorted(files.items()):
            if text is None:
                self.chunks.append(f"D {path}\n".encode())
            else:
                data = text.encode()
                self.chunks.append(
                    f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"
                )
        self.chunks.append(b"\n")
        return self.mark


def generate(
    root: Path, *, commits: int, images: int = 50, seed: int = 7, kustomize: bool = False
) -> HistoryRepo:
    """A repository at `root` whose main branch has `commits` first-parent commits."""
    rng = random.Random(seed)
    version = {(stage, i): 0 for stage in STAGES for i in range(images)}
    stream = _Stream()
    files: dict[str, str | None] = {
        f"envs/{stage}/app-{i}.yaml": _deployment(i, 0) for stage in STAGES for i in range(images)
    }
    files["README.md"] = "# deploy\n"
    if kustomize:
        files["envs/staging/app-0.yaml"] = _deployment(0, 0, placeholder=True)
        files["envs/staging/kustomization.yaml"] = _kustomization(0, 0)
    head = stream.commit("main", files, "Initial manifests", parent=0)
    pull = 0

    def staging_files(i: int, v: int) -> dict[str, str | None]:
        if kustomize and i == 0 and files.get("envs/staging/kustomization.yaml"):
            return {"envs/staging/kustomization.yaml": _kustomization(0, v)}
        return {f"envs/staging/app-{i}.yaml": _deployment(i, v)}

    for number in range(1, commits):
        roll = rng.random()
        i = rng.randrange(images)
        author = rng.choice(["Dev One <dev@example.com>", "image-bot <bot@example.com>"])
        if roll < 0.45:
            version["dev", i] += 1
            change: dict[str, str | None] = {
                f"envs/dev/app-{i}.yaml": _deployment(i, version["dev", i])
            }
            message = f"Update app-{i} to 1.{version['dev', i]}.0"
        elif roll < 0.70:
            version["staging", i] = version["dev", i]
            change = staging_files(i, version["staging", i])
            message = f"Promote app-{i} to staging"
        elif roll < 0.82:
            version["prod", i] = version["staging", i]
            change = {f"envs/prod/app-{i}.yaml": _deployment(i, version["prod", i])}
            message = f"Promote app-{i} to prod"
        elif roll < 0.90:
            change = {"README.md": f"# deploy\n\nrevision {number}\n"}
            message = "docs"
        elif roll < 0.94 and kustomize:
            path = "envs/staging/kustomization.yaml"
            present = files.get(path) is not None
            v = version["staging", 0]
            change = {
                path: None if present else _kustomization(0, v),
                "envs/staging/app-0.yaml": _deployment(0, v, placeholder=not present),
            }
            message = "kustomize app-0" if not present else "drop kustomization"
        elif roll < 0.97:
            path = f"envs/dev/app-{i}.yaml"
            present = files.get(path) is not None
            change = {path: None if present else _deployment(i, version["dev", i])}
            message = f"{'remove' if present else 'restore'} dev app-{i}"
        else:
            version["dev", i] += 1
            side = {f"envs/dev/app-{i}.yaml": _deployment(i, version["dev", i])}
            pull += 1
            branch = stream.commit(f"pr-{pull}", side, f"bump app-{i}", parent=head, author=author)
            files.update(side)
            head = stream.commit(
                "main", side, f"Merge pull request #{pull} from acme/pr-{pull}\n\nbump app-{i}",
                parent=head, merge=branch,
            )  # fmt: skip
            continue
        files.update(change)
        head = stream.commit("main", change, message, parent=head, author=author)
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(root)], check=True)
    subprocess.run(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=root, input=b"".join(stream.chunks) + b"done\n", check=True,
    )  # fmt: skip
    subprocess.run(["git", "checkout", "--quiet", "main"], cwd=root, check=True)
    return HistoryRepo(root, stream.mark, commits, dict(version))


def stages_config(path: Path, repo: Path) -> Path:
    """A config file at `path` giving `repo` the stages dev -> staging -> prod."""
    path.write_text(
        "repositories:\n"
        f"  - url: '{repo}'\n"
        "    stages:\n"
        "      - {name: dev, paths: [envs/dev]}\n"
        "      - {name: staging, paths: [envs/staging], promote_from: [dev]}\n"
        "      - {name: prod, paths: [envs/prod], promote_from: [staging]}\n",
        encoding="utf-8",
    )
    return path
