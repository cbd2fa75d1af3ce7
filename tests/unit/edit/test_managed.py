"""Container images a kustomization's `images:` entry sets are managed, not references."""

from __future__ import annotations

import json
from pathlib import Path

from image_bot.cli.output.refs import refs_json, refs_text
from image_bot.edit.find import find_in_text, find_references

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - name: api
          image: api
"""
OVERLAY = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../base]
images:
  - name: other
    newTag: "2"
  - name: api
    newName: ghcr.io/acme/api
    newTag: "1.4.0"
"""


def write(root: Path, path: str, text: str) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def test_a_placeholder_in_a_base_is_managed_by_the_overlay_entry(tmp_path: Path) -> None:
    write(tmp_path, "base/deployment.yaml", DEPLOYMENT)
    write(tmp_path, "overlays/prod/kustomization.yaml", OVERLAY)

    found = find_references(tmp_path)

    assert [(o.path, str(o.ref.name), o.ref.tag) for o in found.occurrences] == [
        ("overlays/prod/kustomization.yaml", "docker.io/library/other", "2"),
        ("overlays/prod/kustomization.yaml", "ghcr.io/acme/api", "1.4.0"),
    ]
    [managed] = found.managed
    assert (managed.occurrence.path, managed.occurrence.line) == ("base/deployment.yaml", 9)
    assert managed.reason == "set by overlays/prod/kustomization.yaml:7 images[1]"
    assert found.skipped == ()


def test_the_name_matches_as_written_with_any_tag_or_digest(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    images = ["api:dev", f"api@{digest}", "docker.io/library/api:1", "apiserver:1", "acme/api"]
    containers = "".join(f"        - image: {image}\n" for image in images)
    head = DEPLOYMENT.partition("          image: api")[0].rsplit("\n", 2)[0]
    write(tmp_path, "pod.yaml", head + "\n" + containers)
    write(
        tmp_path,
        "kustomization.yaml",
        "resources: [pod.yaml]\nimages:\n  - name: api\n    newTag: '2'\n",
    )

    found = find_references(tmp_path)

    assert [m.occurrence.ref.text for m in found.managed] == ["api:dev", f"api@{digest}"]
    kept = [o.ref.text for o in found.occurrences if o.path == "pod.yaml"]
    assert kept == ["docker.io/library/api:1", "apiserver:1", "acme/api"]


def test_an_entry_that_only_selects_manages_nothing(tmp_path: Path) -> None:
    write(tmp_path, "base/deployment.yaml", DEPLOYMENT)
    write(
        tmp_path,
        "kustomization.yaml",
        "resources: [base]\nimages:\n  - name: api\n    tagSuffix: -x\n",
    )

    found = find_references(tmp_path)

    assert [o.ref.text for o in found.occurrences] == ["api"]
    assert found.managed == ()
    assert [(k.path, k.resources, k.overrides) for k in found.kustomizations] == [
        ("kustomization.yaml", ("base",), ())
    ]


def test_compose_and_helm_values_are_not_rendered_by_kustomize(tmp_path: Path) -> None:
    # base/ has no kustomization here, so all of it counts as rendered by the overlay
    write(tmp_path, "overlays/prod/kustomization.yaml", OVERLAY)
    write(tmp_path, "base/compose.yaml", "services:\n  api:\n    image: api:1.0\n")
    write(tmp_path, "base/values.yaml", "image: api:1.0\n")
    write(
        tmp_path,
        "base/marked.yaml",
        DEPLOYMENT.replace("image: api", 'image: api:1 # {"$imagepolicy": "ns:api"}'),
    )

    found = find_references(tmp_path)

    kinds = {(o.path, str(o.kind)) for o in found.occurrences if o.ref.text.startswith("api")}
    assert kinds == {
        ("base/values.yaml", "helm-values"),
        ("base/compose.yaml", "compose"),
        ("base/marked.yaml", "marker"),
    }
    assert found.managed == ()


def test_flux_kustomization_spec_images_and_several_workers(tmp_path: Path) -> None:
    flux = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n"
        "  images:\n    - name: api\n      newName: ghcr.io/acme/api\n"
    )
    write(tmp_path, "clusters/prod/apps.yaml", flux)
    for i in range(250):
        write(tmp_path, f"apps/app{i:03}.yaml", DEPLOYMENT)

    found = find_references(tmp_path, workers=2)

    assert [o.path for o in found.occurrences] == ["clusters/prod/apps.yaml"]
    assert len(found.managed) == 250
    assert {m.by.where for m in found.managed} == {"clusters/prod/apps.yaml:5 spec.images[0]"}


def test_only_files_the_kustomization_renders_are_managed(tmp_path: Path) -> None:
    write(tmp_path, "overlays/prod/kustomization.yaml", OVERLAY)
    base = "resources:\n  - deployment.yaml\n  - ../shared\n  - https://github.com/x/y//z\n"
    write(tmp_path, "base/kustomization.yaml", base)
    write(tmp_path, "base/deployment.yaml", DEPLOYMENT)
    write(tmp_path, "base/unlisted.yaml", DEPLOYMENT)  # in base/, but not a resource of it
    write(tmp_path, "shared/kustomization.yaml", "components: [job.yaml]\n")
    write(tmp_path, "shared/job.yaml", DEPLOYMENT)
    write(tmp_path, "other-app/deployment.yaml", DEPLOYMENT)  # plain manifests, no kustomize

    found = find_references(tmp_path)

    assert sorted(m.occurrence.path for m in found.managed) == [
        "base/deployment.yaml",
        "shared/job.yaml",
    ]
    kept = sorted(o.path for o in found.occurrences if o.ref.text == "api")
    assert kept == ["base/unlisted.yaml", "other-app/deployment.yaml"]


def test_find_in_text_lists_kustomizations_but_sets_nothing_aside() -> None:
    result = find_in_text(DEPLOYMENT + "---\n" + OVERLAY, "all.yaml")
    assert [o.ref.text for o in result.occurrences] == ["api", "other:2", "ghcr.io/acme/api:1.4.0"]
    [kustomization] = result.kustomizations
    assert kustomization.resources == ("../../base",)
    assert [(o.name, o.line) for o in kustomization.overrides] == [("other", 15), ("api", 17)]
    assert result.managed == ()


def test_refs_output_lists_managed_references(tmp_path: Path) -> None:
    write(tmp_path, "base/deployment.yaml", DEPLOYMENT)
    write(tmp_path, "overlays/prod/kustomization.yaml", OVERLAY)
    found = find_references(tmp_path)

    text = refs_text(found)
    assert "2 references\nmanaged 1:\n" in text
    assert (
        "  base/deployment.yaml:9\tapi\tset by overlays/prod/kustomization.yaml:7 images[1]" in text
    )
    data = json.loads(refs_json(found))
    assert set(data) == {"kind", "schema_version", "refs", "skipped", "managed"}
    assert (data["kind"], data["schema_version"]) == ("refs", 1)
    assert len(data["refs"]) == 2
    assert data["managed"] == [
        {
            "file": "base/deployment.yaml",
            "line": 9,
            "column": 18,
            "yaml_path": "spec.template.spec.containers[0].image",
            "text": "api",
            "managed_by": "overlays/prod/kustomization.yaml:7 images[1]",
            "reason": "set by overlays/prod/kustomization.yaml:7 images[1]",
        }
    ]
