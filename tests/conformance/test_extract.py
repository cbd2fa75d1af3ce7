"""Renovate's extraction fixtures: the same image references are found, in the same order.

Renovate's managers map onto our finders: `kubernetes` -> pod specs + image fields,
`helm-values` -> Helm values, `kustomize` -> kustomize `images:`. Only docker deps count
(`kubernetes-api` and `github-tags` deps are Renovate's own). Names compare normalized.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from image_bot.edit.find import find_in_text
from image_bot.edit.finders import Finder
from image_bot.edit.finders.helm import HelmValuesFinder, ImageFieldFinder
from image_bot.edit.finders.kubernetes import KubernetesFinder
from image_bot.edit.finders.kustomize import KustomizeFinder
from image_bot.model import Occurrence
from image_bot.reference import parse_name

pytestmark = pytest.mark.conformance

MANAGERS: dict[str, tuple[Finder, ...]] = {
    "kubernetes": (KubernetesFinder(), ImageFieldFinder()),
    "helm-values": (HelmValuesFinder(),),
    "kustomize": (KustomizeFinder(),),
}
EXTRACT = Path(__file__).resolve().parents[3] / "shared" / "peer-cases" / "extract"
CASES = sorted(
    f"{manager}/{path.name.removesuffix('.expected.json')}"
    for manager in MANAGERS
    for path in (EXTRACT / manager).glob("*.expected.json")
)

# Where we differ on purpose (docs/file-kinds.md, "Differences from Renovate").
INTENDED = {
    # Templated `image:` values of a template are reported as skipped; Renovate drops them.
    "kubernetes/complex-helm-template": "templated-values-reported",
    # `newTag: 2.5` is read from the source text as the string "2.5" (Renovate skips it).
    "kustomize/image-versions": "float-tag-read-as-text",
}


def _docker(deps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in deps if d.get("datasource", "docker") == "docker"]


def _matches(dep: dict[str, Any], occurrence: Occurrence) -> bool:
    ref = occurrence.ref
    if "depName" in dep and parse_name(dep["depName"]) != ref.name:
        return False
    if "currentValue" in dep and dep["currentValue"] != ref.tag:
        return False
    return dep.get("currentDigest") == ref.digest or "currentDigest" not in dep


@pytest.mark.parametrize("case", CASES)
def test_extract_case(case: str, shared_dir: Path) -> None:
    manager, name = case.split("/")
    folder = shared_dir / "peer-cases" / "extract" / manager
    spec = json.loads((folder / f"{name}.expected.json").read_text())
    text = (folder / f"{name}.yaml").read_bytes().decode("utf-8")
    found = find_in_text(text, spec["package_file"], finders=MANAGERS[manager])
    expected = spec["expected"]
    intended = INTENDED.get(case)

    if intended == "skipped-template":
        assert found.occurrences == ()
        assert next(s.reason for s in found.skipped).startswith("Helm template")
        return
    if expected is None:
        assert found.occurrences == ()
        return
    if intended == "float-tag-read-as-text":
        fixed = [
            {k: v for k, v in d.items() if k != "skipReason"} | {"currentValue": "2.5"}
            if d.get("skipReason") and d.get("currentValue") == 2.5
            else d
            for d in expected["deps"]
        ]
        assert fixed != expected["deps"], "the float tag case is still in the fixture"
        expected = {"deps": fixed}
    if spec["match"] == "contains":
        for dep in _docker(expected["deps_contain"]):
            assert any(_matches(dep, occ) for occ in found.occurrences), dep
        return
    deps = _docker(expected["deps"])
    wanted = [d for d in deps if "skipReason" not in d]
    assert len(found.occurrences) == len(wanted), [o.ref.text for o in found.occurrences]
    for dep, occurrence in zip(wanted, found.occurrences, strict=True):
        assert _matches(dep, occurrence), (dep, occurrence.ref)
    if intended == "templated-values-reported":
        assert found.skipped, "the templated images are reported"
        assert all("templated value" in s.reason for s in found.skipped), found.skipped
        return
    assert len(found.skipped) == len(deps) - len(wanted), found.skipped


def test_there_are_extract_cases() -> None:
    assert len(CASES) >= 30 or not EXTRACT.is_dir()
