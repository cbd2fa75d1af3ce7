"""Find and plan every image reference in a generated 10,000-file manifests repo.

Prints the repo's shape, then wall and CPU time for: find (walk, bytes pre-filter, parse
of the candidates), and plan (an in-memory rewrite of every reference, with the re-parse
check), RUNS times with the load average beside each, then the ranges and peak RSS. Nothing
is written back. Run: `.venv/bin/python benchmarks/edit_scan.py [--files N] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from image_bot.edit.find import find_references
from image_bot.edit.rewrite import rewrite_tree
from image_bot.model import Change, ImageRef, Occurrence, Part

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n}
  namespace: team-{team}
  labels:
    app.kubernetes.io/name: app-{n}
    app.kubernetes.io/part-of: platform
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{n}
      annotations:
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: app-{n}
      initContainers:
        - name: migrate
          image: ghcr.io/example/migrate-{n}:{tag}
          args: ["--wait", "--timeout=60s"]
      containers:
        - name: app
          image: "registry.example.com/team-{team}/app-{n}:{tag}"
          ports:
            - containerPort: 8080
              name: http
          env:
            - name: LOG_LEVEL
              value: info
            - name: FEATURE_FLAGS
              value: "a,b,c"
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{cpu: "1", memory: 512Mi}}
          readinessProbe:
            httpGet: {{path: /ready, port: http}}
            periodSeconds: 5
        - name: proxy
          image: envoyproxy/envoy:v1.{minor}.2 # sidecar
          args: ["-c", "/etc/envoy/envoy.yaml"]
"""
VALUES_BLOCK = """\
# Settings for component {i}. Every option is documented here, as charts do.
# The defaults suit a small cluster; raise the limits for production.
component{i}:
  enabled: true
  image:
    registry: docker.io
    repository: bitnami/component-{i}
    tag: {tag}
    digest: ""
    pullPolicy: IfNotPresent
  replicaCount: 1
  resources:
    limits: {{}}
    requests: {{}}
  nodeSelector: {{}}
  tolerations: []
"""
KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
images:
  - name: app
    newName: registry.example.com/app-{n}
    newTag: "{tag}"
  - name: worker
    newTag: {tag} # {{"$imagepolicy": "flux-system:worker-{n}:tag"}}
"""
COMPOSE = """\
services:
  web:
    image: nginx:1.{minor}
    ports: ["8080:80"]
  db:
    image: postgres:16.{minor}
    environment:
      POSTGRES_PASSWORD: example
"""
CONFIGMAP_ENTRY = (
    "  key-{j}.properties: |\n    setting.{j}.enabled=true\n    setting.{j}.limit={j}\n"
)


def _configmap(n: int, size: int) -> str:
    head = (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{n}\n  namespace: ns\ndata:\n"
    )
    parts = [head]
    total, j = len(head), 0
    while total < size:
        entry = CONFIGMAP_ENTRY.format(j=j)
        parts.append(entry)
        total += len(entry)
        j += 1
    if n % 20 == 0:  # passes the pre-filter, holds no reference
        parts.append("  note: set imagePullSecrets on the service account\n")
    return "".join(parts)


def generate(root: Path, files: int, with_refs: int, seed: int = 7) -> Counter[str]:
    """Write the repo; return counts by file kind."""
    rng = random.Random(seed)
    kinds: Counter[str] = Counter()
    for n in range(files):
        folder = root / f"apps/team-{n % 40}/svc-{n // 40}"
        folder.mkdir(parents=True, exist_ok=True)
        tag = f"{rng.randrange(1, 5)}.{rng.randrange(30)}.{rng.randrange(20)}"
        minor = rng.randrange(20, 30)
        if n < with_refs:
            pick = n % 10
            if pick < 7:
                name, text, kind = "deployment.yaml", DEPLOYMENT, "deployment"
            elif pick < 8:
                name, kind = "values.yaml", "helm-values"
                text = "".join(VALUES_BLOCK.format(i=i, tag=tag) for i in range(12))
                text = text.replace("{", "{{").replace("}", "}}")
            elif pick < 9:
                name, text, kind = "kustomization.yaml", KUSTOMIZATION, "kustomization"
            else:
                name, text, kind = "compose.yaml", COMPOSE, "compose"
            content = text.format(n=n, team=n % 40, tag=tag, minor=minor)
        else:
            name, kind = f"config-{n}.yaml", "configmap (no refs)"
            content = _configmap(n, rng.randrange(4_000, 7_000))
        (folder / name).write_text(content)
        kinds[kind] += 1
    return kinds


def plan(root: Path, occurrences: tuple[Occurrence, ...], workers: int) -> tuple[int, int, int]:
    """Rewrite every reference in memory (one FileChange per file); (files, edits, refused)."""
    changes = [
        Change(occurrence, occurrence.ref, ImageRef(occurrence.ref.name, "9.9.9"))
        for occurrence in occurrences
        if Part.TAG in occurrence.spans or Part.WHOLE in occurrence.spans
    ]
    rewritten, refused = rewrite_tree(root, changes, workers=workers)
    return len(rewritten), sum(len(fc.edits) for fc in rewritten), len(refused)


def _cpu_s() -> float:
    """CPU seconds of this process and its finished workers (wall time suffers from load)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _once(root: Path, workers: int) -> tuple[float, float, float, str]:
    """One find + plan over `root`: (find s, plan s, CPU s in all processes, summary)."""
    cpu_start = _cpu_s()
    start = time.perf_counter()
    found = find_references(root, workers=workers)
    find_s = time.perf_counter() - start
    start = time.perf_counter()
    files, edits, refused = plan(root, found.occurrences, workers)
    plan_s = time.perf_counter() - start
    summary = (
        f"{len(found.occurrences)} references, {len(found.skipped)} skipped;"
        f" {edits} edits in {files} files, {refused} refused"
    )
    return find_s, plan_s, _cpu_s() - cpu_start, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--with-refs", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2, help="processes (1: all in this one)")
    parser.add_argument("--runs", type=int, default=3, help="find + plan this many times")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="image-bot-bench-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        kinds = generate(root, args.files, args.with_refs)
        size = sum(p.stat().st_size for p in root.rglob("*.yaml"))
        print(
            f"generated {args.files} files, {size / 1e6:.1f} MB in "
            f"{time.perf_counter() - start:.1f} s: {dict(kinds)}; workers: {args.workers}"
        )
        rss_before = _rss_mb()
        totals, cpus, loads = [], [], []
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            find_s, plan_s, cpu, summary = _once(root, args.workers)
            totals.append(find_s + plan_s)
            cpus.append(cpu)
            print(
                f"find {find_s:5.2f} s + plan {plan_s:5.2f} s = {find_s + plan_s:5.2f} s wall,"
                f" {cpu:5.2f} s CPU in all processes, load {loads[-1]:.2f}: {summary}"
            )
        print(
            f"total over {args.runs} runs: wall {min(totals):.2f}-{max(totals):.2f} s,"
            f" CPU {min(cpus):.2f}-{max(cpus):.2f} s, load {min(loads):.2f}-{max(loads):.2f}"
            " (target < 4 s wall on 2 quiet cores)"
        )
        print(
            f"peak RSS: {_rss_mb():.0f} MB this process, {_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB"
            f" largest worker (before find: {rss_before:.0f} MB; target < 300 MB)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
