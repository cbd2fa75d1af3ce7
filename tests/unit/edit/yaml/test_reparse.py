"""respliced: a file bumped at its references' spans reads exactly as a fresh parse would."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_bot.edit.find import find_in_text
from image_bot.edit.rewrite import rewrite_text
from image_bot.edit.yaml.reparse import respliced
from image_bot.errors import ManifestError
from image_bot.model import Change, Occurrence
from image_bot.reference import with_tag

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "edit"
INPUTS = sorted(p for p in FIXTURES.glob("*/input/**/*") if p.suffix in (".yaml", ".yml"))
DIGEST = "sha256:" + "ab" * 32


def test_the_golden_inputs_are_there() -> None:
    # An empty parameter set would only skip the test below; a moved fixture path must fail.
    assert len(INPUTS) > 20, FIXTURES


def _same(a: tuple[Occurrence, ...], b: tuple[Occurrence, ...]) -> None:
    assert [(o.ref, o.spans, o.kind, o.yaml_path, o.policy) for o in a] == [
        (o.ref, o.spans, o.kind, o.yaml_path, o.policy) for o in b
    ]


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_a_bumped_file_resplices_to_what_a_parse_finds(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = find_in_text(text, path.name)
    for occurrence in found.occurrences:
        for tag, digest in (("9.9.9", occurrence.ref.digest), ("10.0.1-alpine", DIGEST)):
            new = with_tag(occurrence.ref, tag, digest)
            try:
                bumped = rewrite_text(path.name, text, [Change(occurrence, occurrence.ref, new)])
            except ManifestError:
                continue
            again = respliced(text, found, bumped.after)
            if again is not None:
                _same(again.occurrences, find_in_text(bumped.after, path.name).occurrences)


def test_the_fast_path_is_taken_for_a_plain_bump_and_refused_for_anything_else() -> None:
    text = "kind: Pod\nspec:\n  containers:\n    - image: ghcr.io/acme/api:1.0.0  # pinned\n"
    found = find_in_text(text, "pod.yaml")
    bumped = text.replace("1.0.0", f"1.1.0@{DIGEST}")
    again = respliced(text, found, bumped)
    assert again is not None
    _same(again.occurrences, find_in_text(bumped, "pod.yaml").occurrences)
    for other in (
        text.replace("api:1.0.0", "web:1.0.0"),  # another image: the finders decide
        text.replace("# pinned", "# moved"),  # outside the spans
        text.replace("1.0.0", "{{ .Values.tag }}"),  # not a plain value
        text.replace("ghcr.io/acme/api:1.0.0", "null"),
    ):
        assert respliced(text, found, other) is None
