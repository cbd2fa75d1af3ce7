"""find_references: which files are read, which are skipped and why, and the result's order."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from image_bot.edit.find import CustomTarget, FindResult, find_references, may_hold_reference
from image_bot.model import Part

POD = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx:{tag}\n"


def write(root: Path, path: str, text: str | bytes) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text)


def test_include_exclude_extra_names_and_ignored_folders(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", POD.format(tag="1"))
    write(tmp_path, "b/c.yml", POD.format(tag="2"))
    write(tmp_path, "b/vendor/d.yaml", POD.format(tag="3"))
    write(tmp_path, "e.json", POD.format(tag="4"))
    write(tmp_path, "pod.manifest", POD.format(tag="5"))
    write(tmp_path, ".git/x.yaml", POD.format(tag="6"))
    write(tmp_path, "Kustomization", "images:\n  - name: redis\n    newTag: '7'\n")

    found = find_references(tmp_path, exclude=["**/vendor/**"], extra_names=["pod.manifest"])
    assert [(o.path, o.ref.tag) for o in found.occurrences] == [
        ("Kustomization", "7"),
        ("a.yaml", "1"),
        ("b/c.yml", "2"),
        ("pod.manifest", "5"),
    ]
    only_b = find_references(tmp_path, include=["b/**/*.y*ml"])
    assert [o.path for o in only_b.occurrences] == ["Kustomization", "b/c.yml", "b/vendor/d.yaml"]


def test_files_left_alone_are_reported_with_file_and_reason(tmp_path: Path) -> None:
    write(tmp_path, "big.yaml", POD.format(tag="1") + "# image padding\n" * 100)
    write(tmp_path, "latin1.yaml", "image: caf\xe9\n".encode("latin-1"))
    write(tmp_path, "broken.yaml", "image: [nginx\n")
    write(tmp_path, "chart/templates/dep.yaml", "image: {{ .Values.image }}\n{{- end }}\n")
    write(tmp_path, "unrelated-broken.yaml", "a: [b\n")  # no image: never parsed

    found = find_references(tmp_path, max_bytes=1000)
    reasons = {s.path: s.reason for s in found.skipped}
    assert found.occurrences == ()
    assert reasons["big.yaml"].startswith("larger than 1000 bytes")
    assert reasons["latin1.yaml"] == "not UTF-8 text"
    assert reasons["broken.yaml"].startswith("not valid YAML")
    assert reasons["chart/templates/dep.yaml"].startswith("Helm template")
    assert "unrelated-broken.yaml" not in reasons
    # the unclosed `[` opens on line 1; the parser only gives up at the end (line 2)
    assert [s.line for s in found.skipped if s.path == "broken.yaml"] == [1]
    assert "never closed" in reasons["broken.yaml"]


def test_the_pre_filter_looks_for_image_words_and_target_keys() -> None:
    assert may_hold_reference(b"spec:\n  image: x\n", "a.yaml")
    assert may_hold_reference(b"spec:\n  sidecarImage: x\n", "a.yaml")
    assert not may_hold_reference(b"kind: Service\n", "a.yaml")
    target = CustomTarget("db/*.yaml", "spec.version", "postgres", Part.TAG)
    assert may_hold_reference(b"spec:\n  version: 16\n", "db/a.yaml", [target])
    assert not may_hold_reference(b"spec:\n  version: 16\n", "other/a.yaml", [target])


def test_a_split_mapping_is_found_without_the_word_image_anywhere(tmp_path: Path) -> None:
    write(tmp_path, "values.yaml", 'app: {repository: ghcr.io/acme/z, tag: "1.0.0"}\n')
    write(tmp_path, "release.yaml", "spec:\n  values: |\n    redis: {repository: r/x, tag: '7'}\n")
    found = find_references(tmp_path)
    assert [(o.path, str(o.ref)) for o in found.occurrences] == [
        ("release.yaml", "r/x:7"),
        ("values.yaml", "ghcr.io/acme/z:1.0.0"),
    ]


def test_worker_processes_give_the_same_result(tmp_path: Path) -> None:
    for i in range(240):
        write(tmp_path, f"apps/{i:03}.yaml", POD.format(tag=f"1.{i}"))
        write(tmp_path, f"config/{i:03}.yaml", "kind: ConfigMap\ndata: {}\n")
    write(tmp_path, "apps/broken.yaml", "image: [\n")
    alone = find_references(tmp_path)
    together = find_references(tmp_path, workers=2)
    assert together == alone
    assert len(alone.occurrences) == 240
    assert [s.path for s in alone.skipped] == ["apps/broken.yaml"]


def test_a_fifo_named_like_a_manifest_is_skipped_not_opened_for_a_blocking_read(
    tmp_path: Path,
) -> None:
    write(tmp_path, "a.yaml", POD.format(tag="1"))
    os.mkfifo(tmp_path / "pipe.yaml")  # a plain open() for reading waits for a writer forever
    results: list[FindResult] = []
    worker = threading.Thread(target=lambda: results.append(find_references(tmp_path)))
    worker.start()
    worker.join(timeout=30)
    if worker.is_alive():  # release the blocked reader, so the failure is not a hung suite
        os.close(os.open(tmp_path / "pipe.yaml", os.O_WRONLY | os.O_NONBLOCK))
        worker.join()
        pytest.fail("find_references blocked on a FIFO")
    (found,) = results
    assert [o.path for o in found.occurrences] == ["a.yaml"]
    assert [(s.path, s.reason) for s in found.skipped] == [("pipe.yaml", "not a regular file")]
