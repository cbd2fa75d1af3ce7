"""The pass fixture: 50 manifest files, 112 references, 20 images with varied tag schemes.

One *unit* is 20 images on a local docker-registry (semver, `v` prefixes, floating majors and
minors, variants, Bitnami revisions, calver, build numbers, nightly builds, pre-releases,
timestamps, git shas, a 1,000-tag image, a multi-arch image, pins and a followed `latest`)
and a manifests repository of 50 files that reference them 112 times (Deployments,
StatefulSets, CronJobs, kustomizations, Helm values, HelmReleases, compose files, Flux
setter markers, multi-document files). `--scale N` makes N units: N x 20 images, N x 112
references, N x 50 files, so a pass's cost can be read against its size.

`build(root, scale, registry)` seeds the registry (storage layout written directly, kept
under `root` and reused by later runs) and writes a bare git remote, an image-bot config and
a Renovate config for the registry's host (`benchmarks/pass_run.py` runs passes over it).
"""

from __future__ import annotations

import json
import shutil
import subprocess  # noqa: TID251  (sets up a bare remote, as a user would)
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.registry import RunningRegistry

__all__ = ["IMAGES", "UNIT_FILES", "Fixture", "build"]

_HOST = "REGISTRY_HOST"  # replaced by the running registry's host:port in the configs
_VERSION = "3"  # bump when the fixture changes; stale fixture directories are rebuilt
_NEWEST_DISTINCT = 8  # the newest tags of an image get their own digests, older ones share


@dataclass(frozen=True)
class ImageSpec:
    """One image of a unit: its tags (oldest first), what references use, and its policy."""

    name: str
    tags: Callable[[], list[str]]
    current: tuple[str, ...]  # tags the references are written at, cycled through
    policy: dict[str, object] | None = None  # inline image-bot policy (None: default_policy)
    platforms: tuple[str, ...] = ("linux/amd64",)
    renovate: dict[str, object] | None = None  # packageRule fields for Renovate's equivalent


def _semver(majors: range, minors: int, patches: int, prefix: str = "") -> list[str]:
    return [
        f"{prefix}{major}.{minor}.{patch}"
        for major in majors
        for minor in range(minors)
        for patch in range(patches)
    ]


def _floating() -> list[str]:  # nginx-like: 1.25, 1.25.3, 1.25.3-alpine, ...
    tags = []
    for minor in range(21, 28):
        tags += [f"1.{minor}", f"1.{minor}-alpine"]
        for patch in range(5):
            tags += [f"1.{minor}.{patch}", f"1.{minor}.{patch}-alpine"]
    return tags


def _majors() -> list[str]:  # postgres-like: 14, 14.10, 15, 15.5 ...
    return [t for major in range(12, 18) for t in (str(major), *(f"{major}.{m}" for m in range(9)))]


def _bitnami() -> list[str]:
    return [
        f"7.{minor}.{patch}-debian-12-r{revision}"
        for minor in range(3)
        for patch in range(6)
        for revision in range(4)
    ]


def _calver() -> list[str]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [(start + timedelta(days=9 * n)).strftime("%Y.%m.%d") for n in range(60)]


def _builds() -> list[str]:
    return [f"build-{n}" for n in range(100, 400, 3)]


def _nightly() -> list[str]:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    return [
        f"main-{(start + timedelta(days=n)).strftime('%Y%m%d')}-{(n * 2654435761) % 16**7:07x}"
        for n in range(90)
    ]


def _prereleases() -> list[str]:
    tags = [f"1.{minor}.0" for minor in range(8)]
    for minor in range(3):
        tags += [f"2.{minor}.0-rc.{n}" for n in range(1, 4)] + [f"2.{minor}.0"]
    return [*tags, "2.3.0-beta.1", "2.3.0-rc.1"]


def _debug_range() -> list[str]:
    return [t for v in _semver(range(1, 3), 8, 4) for t in (v, f"{v}-debug")]


def _jdk() -> list[str]:
    return [
        f"{major}.0.{patch}-{kind}"
        for major in (11, 17, 21)
        for patch in range(1, 10)
        for kind in ("jdk", "jre", "jdk-alpine")
    ]


def _python() -> list[str]:
    tags = []
    for minor in range(10, 14):
        for patch in range(8):
            tags += [f"3.{minor}.{patch}", f"3.{minor}.{patch}-slim"]
    return [*tags, "3.14.0rc2", "3.14.0rc2-slim"]


def _timestamps() -> list[str]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [(start + timedelta(hours=7 * n)).strftime("%Y%m%dT%H%MZ") for n in range(120)]


def _big() -> list[str]:
    return _semver(range(3), 20, 17)  # 1,020 tags


def _partial() -> list[str]:
    return [f"{major}.{minor}" for major in range(1, 4) for minor in range(15)]


def _shas() -> list[str]:
    return [
        *_semver(range(1, 2), 6, 3),
        *(f"{(n * 40503) % 16**7:07x}" for n in range(40)),
        "latest",
    ]


def _channels() -> list[str]:
    return ["stable", "edge", "latest", *_semver(range(4, 5), 4, 3)]


IMAGES: tuple[ImageSpec, ...] = (
    ImageSpec("web", lambda: [*_semver(range(1, 3), 12, 4), "3.0.0-rc.1"], ("1.2.0", "1.10.3")),
    ImageSpec("api", lambda: _semver(range(1, 3), 6, 3, prefix="v"), ("v1.4.0", "v2.1.1")),
    ImageSpec("proxy", _floating, ("1.25.3-alpine", "1.25", "1.26.1")),
    ImageSpec("db", _majors, ("15", "16.1", "14.3")),
    ImageSpec("cache", _bitnami, ("7.1.2-debian-12-r1", "7.2.0-debian-12-r0")),
    ImageSpec("calendar", _calver, ("2024.01.10", "2024.06.08")),
    ImageSpec(
        "builder",
        _builds,
        ("build-250", "build-301"),
        {"filter": {"pattern": r"^build-(?P<n>\d+)$", "extract": "$n"}, "numerical": "asc"},
        renovate={"versioning": "regex:^build-(?<major>\\d+)$"},
    ),
    ImageSpec(
        "nightly",
        _nightly,
        ("main-20240510-" + f"{(9 * 2654435761) % 16**7:07x}",),
        {
            "filter": {"pattern": r"^main-(?P<ts>\d{8})-[0-9a-f]+$", "extract": "$ts"},
            "numerical": "asc",
        },
        renovate={"versioning": "regex:^main-(?<major>\\d{8})-[0-9a-f]+$"},
    ),
    ImageSpec(
        "edge",
        _prereleases,
        ("2.0.0-rc.1", "1.5.0"),
        {"semver": "^2.0.0-0", "prerelease": True},
        renovate={"allowedVersions": ">=2.0.0-0 <3", "ignoreUnstable": False},
    ),
    ImageSpec(
        "pinned",
        lambda: _semver(range(1, 2), 8, 3),
        ("1.4.0",),
        {"semver": "~1.4", "digest": "pin"},
        renovate={"allowedVersions": "~1.4", "pinDigests": True},
    ),
    ImageSpec("follow", _channels, ("latest",), {"digest": "follow"}),
    ImageSpec(
        "ranged",
        _debug_range,
        ("1.3.1", "1.5.0"),
        {"semver": ">=1.4 <2", "ignore": ["*-debug"]},
        renovate={"allowedVersions": ">=1.4 <2"},
    ),
    ImageSpec("jdk", _jdk, ("17.0.3-jdk", "21.0.2-jre", "11.0.9-jdk-alpine")),
    ImageSpec("python", _python, ("3.11.2-slim", "3.12.0")),
    ImageSpec(
        "stamps",
        _timestamps,
        ("20240105T1100Z",),
        {"alphabetical": "asc"},
        renovate={"versioning": "regex:^(?<major>\\d{8})T(?<minor>\\d{4})Z$"},
    ),
    ImageSpec("big", _big, ("1.3.4", "2.10.0", "0.19.16")),
    ImageSpec("partial", _partial, ("1.4", "2.14")),
    ImageSpec(
        "multiarch",
        lambda: _semver(range(1, 2), 5, 3),
        ("1.1.0",),
        {"platforms": ["linux/amd64", "linux/arm64"]},
        platforms=("linux/amd64", "linux/arm64"),
    ),
    ImageSpec("shas", _shas, ("1.2.1", "1.0.0")),
    ImageSpec("channels", _channels, ("4.1.0", "stable")),
)

# --- the manifests of one unit: 50 files, 112 references ----------------------------------

_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app.kubernetes.io/name: {name}, app.kubernetes.io/part-of: platform}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app.kubernetes.io/name: {name}}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: {name}}}
    spec:
      initContainers:
        - name: migrate
          image: {ref0}
          args: ["--wait"]
      containers:
        - name: app
          image: {ref1} # the service
          ports: [{{containerPort: 8080, name: http}}]
          env:
            - {{name: LOG_LEVEL, value: info}}
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
        - name: sidecar
          image: "{ref2}"
"""
_STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: {name}}}
spec:
  serviceName: {name}
  template:
    spec:
      containers:
        - name: main
          image: {ref0}
        - name: exporter
          image: '{ref1}'
  volumeClaimTemplates:
    - metadata: {{name: data}}
      spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}
"""
_CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: job
              image: {ref0}
"""
_KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [namespace.yaml]
images:
  - name: first
    newName: {name0}
    newTag: "{tag0}"
  - name: second
    newName: {name1}
    newTag: {tag1}
"""
_VALUES = """\
# Values for {name}: two components, split image mappings as charts write them.
replicaCount: 1
server:
  image:
    registry: {registry}
    repository: {repository0}
    tag: "{tag0}"
    pullPolicy: IfNotPresent
worker:
  image:
    repository: {registry}/{repository1}
    tag: {tag1}
  resources: {{}}
"""
_HELMRELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: {name}, namespace: apps}}
spec:
  interval: 10m
  chart:
    spec: {{chart: {name}, sourceRef: {{kind: HelmRepository, name: charts}}}}
  values:
    image: {ref0}
"""
_COMPOSE = """\
services:
  one:
    image: {ref0}
    restart: unless-stopped
  two:
    image: "{ref1}"
    depends_on: [one]
  three:
    image: {ref2}
"""
_MARKERS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  template:
    spec:
      containers:
        - name: a
          image: {ref0} # {{"$imagepolicy": "flux-system:{policy0}"}}
        - name: b
          image: {ref1} # {{"$imagepolicy": "flux-system:{policy1}"}}
"""
_MULTIDOC = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}}}
spec:
  template:
    spec:
      containers: [{{name: agent, image: {ref0}}}]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}-once}}
spec:
  template:
    spec:
      containers:
        - name: once
          image: {ref1}
"""

# (template, file name pattern, references, files): 112 references in 50 files
UNIT_FILES: tuple[tuple[str, str, int, int], ...] = (
    (_DEPLOYMENT, "apps/{n}/deployment.yaml", 3, 14),
    (_STATEFULSET, "data/{n}/statefulset.yaml", 2, 4),
    (_CRONJOB, "jobs/{n}.yaml", 1, 3),
    (_KUSTOMIZATION, "overlays/{n}/kustomization.yaml", 2, 6),
    (_VALUES, "charts/{n}/values.yaml", 2, 8),
    (_HELMRELEASE, "releases/{n}.yaml", 1, 4),
    (_COMPOSE, "compose/{n}/compose.yaml", 3, 5),
    (_MARKERS, "flux/{n}.yaml", 2, 4),
    (_MULTIDOC, "agents/{n}.yaml", 2, 2),
)


def _slots(unit: int) -> Iterator[tuple[str, str, str]]:
    """(image name without host, current tag, policy name) for each reference, in order."""
    uses = [0] * len(IMAGES)
    step = 0
    while True:
        index = (step * 7) % len(IMAGES)  # 7 is prime to 20: every image, spread out
        step += 1
        spec = IMAGES[index]
        tag = spec.current[uses[index] % len(spec.current)]
        uses[index] += 1
        yield f"u{unit:03d}/{spec.name}", tag, f"u{unit:03d}-{spec.name}"


def _unit_files(unit: int, host: str) -> dict[str, str]:
    files: dict[str, str] = {}
    slots = _slots(unit)
    for template, pattern, refs, count in UNIT_FILES:
        for n in range(count):
            fields: dict[str, str] = {"name": f"app-{unit}-{n}", "registry": host}
            for r in range(refs):
                repository, tag, policy = next(slots)
                fields[f"ref{r}"] = f"{host}/{repository}:{tag}"
                fields[f"name{r}"] = f"{host}/{repository}"
                fields[f"repository{r}"] = repository
                fields[f"tag{r}"] = tag
                fields[f"policy{r}"] = policy
            files[f"u{unit:03d}/" + pattern.format(n=n)] = template.format(**fields)
    return files


# --- seeding, the remote and the configs ----------------------------------------------------


def _seed_unit(registry: RunningRegistry, unit: int) -> dict[str, str]:
    """Push a unit's images; returns the older digest each pinned/followed reference is at.

    A pinned or followed tag is pushed twice (an older build, then the current one), so its
    references, written at the older digest, have a newer image to move to.
    """
    built = datetime(2024, 1, 1, tzinfo=UTC)
    pins: dict[str, str] = {}
    for spec in IMAGES:
        repository = f"u{unit:03d}/{spec.name}"
        tags = spec.tags()
        shared = [t for t in tags[:-_NEWEST_DISTINCT] if t not in spec.current]
        registry.push_tags(repository, shared)
        for tag in (t for t in tags if t not in shared):
            if spec.policy is not None and spec.policy.get("digest") and tag in spec.current:
                older = built - timedelta(days=30)
                pins[f"{repository}:{tag}"] = registry.push_image(
                    repository, tag, platforms=spec.platforms, created=older
                )
            registry.push_image(repository, tag, platforms=spec.platforms, created=built)
    return pins


def _pin(files: dict[str, str], pins: dict[str, str], host: str) -> dict[str, str]:
    """Write pinned/followed references as `tag@digest`, at an older digest."""
    out = {}
    for path, text in files.items():
        pinned = text
        for ref, digest in pins.items():
            for end in (" ", "\n", "'", '"'):
                pinned = pinned.replace(f"{host}/{ref}{end}", f"{host}/{ref}@{digest}{end}")
        out[path] = pinned
    return out


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _remote(root: Path, files: dict[str, str]) -> Path:
    work, remote = root / "work", root / "remote.git"
    _git(root, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    _git(root, "init", "-q", "--initial-branch=main", str(work))
    _git(work, "config", "user.email", "bench@example.com")
    _git(work, "config", "user.name", "bench")
    for path, text in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "manifests")
    _git(work, "push", "-q", str(remote), "HEAD:refs/heads/main")
    return remote


def _config(scale: int) -> str:
    images, policies = [], []
    for unit in range(scale):
        for spec in IMAGES:  # every image has a named policy: setter markers name them
            name = f"u{unit:03d}-{spec.name}"
            policies.append(f"  {name}: {json.dumps(spec.policy or {})}\n")
            if spec.policy is not None:
                images.append(f"  - {{name: '{_HOST}/u{unit:03d}/{spec.name}', policy: {name}}}\n")
    return (
        f"registries: [{{host: '{_HOST}', insecure: true}}]\n"
        f"policies:\n{''.join(policies)}"
        f"images:\n{''.join(images)}"
        "repositories:\n"
        "  - url: REMOTE\n"
        "    forge: local\n"
        "    limits: {max_open_pull_requests: 10}\n"
    )


def _renovate_config(scale: int) -> dict[str, object]:
    rules: list[dict[str, object]] = []
    for unit in range(scale):
        for spec in IMAGES:
            if spec.renovate:
                rules.append(
                    {"matchPackageNames": [f"{_HOST}/u{unit:03d}/{spec.name}"], **spec.renovate}
                )
    return {
        "enabledManagers": ["kubernetes", "kustomize", "helm-values", "docker-compose"],
        "kubernetes": {"managerFilePatterns": ["/\\.yaml$/"]},
        "helm-values": {"managerFilePatterns": ["/values\\.yaml$/"]},
        "hostRules": [{"matchHost": _HOST, "hostType": "docker", "insecureRegistry": True}],
        "packageRules": rules,
        "prConcurrentLimit": 10,
    }


@dataclass(frozen=True)
class Fixture:
    """A built fixture: the remote, and config texts with the registry host left open."""

    root: Path
    scale: int
    remote: Path
    work: Path  # a checkout of the remote's main (Renovate's --platform=local runs in it)

    def config_text(self, host: str) -> str:
        """The image-bot config for a registry at `host`."""
        text = (self.root / "image-bot.template.yaml").read_text()
        return text.replace(_HOST, host).replace("REMOTE", f"'{self.remote}'")

    def renovate_config(self, host: str) -> str:
        """Renovate's config (JSON) for a registry at `host`."""
        return (self.root / "renovate.template.json").read_text().replace(_HOST, host)

    def references(self) -> int:
        return self.scale * sum(refs * count for _, _, refs, count in UNIT_FILES)

    def files(self) -> int:
        return self.scale * sum(count for _, _, _, count in UNIT_FILES)

    def images(self) -> int:
        return self.scale * len(IMAGES)


def build(root: Path, scale: int, registry: RunningRegistry) -> Fixture:
    """Seed `registry` (storage under `root/registry`, kept between runs) and write the
    manifests remote and configs for `registry.host` (rewritten when the host changes)."""
    seeded = f"{_VERSION} {scale}"
    pins_file = root / "pins.json"
    if not (root / "seeded").exists() or (root / "seeded").read_text() != seeded:
        pins: dict[str, str] = {}
        for unit in range(scale):
            pins.update(_seed_unit(registry, unit))
        pins_file.write_text(json.dumps(pins))
        (root / "seeded").write_text(seeded)
        (root / "written").unlink(missing_ok=True)
    fixture = Fixture(root, scale, root / "remote.git", root / "work")
    written = f"{seeded} {registry.host}"
    if (root / "written").exists() and (root / "written").read_text() == written:
        return fixture
    pins = json.loads(pins_file.read_text())
    files: dict[str, str] = {}
    for unit in range(scale):
        files.update(_pin(_unit_files(unit, registry.host), pins, registry.host))
    for stale in (fixture.remote, fixture.work):
        if stale.exists():
            shutil.rmtree(stale)
    _remote(root, files)
    (root / "image-bot.template.yaml").write_text(_config(scale))
    (root / "renovate.template.json").write_text(json.dumps(_renovate_config(scale), indent=1))
    (root / "written").write_text(written)
    return fixture
