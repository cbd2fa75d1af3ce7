"""`written_ref`: the one value a pull request names and a commit writes, per file shape.

Each case finds the reference with the real finders, asks what a pinned update becomes, and
rewrites the file with that value: the text must hold exactly what `written_ref` says.
"""

from __future__ import annotations

import pytest

from image_bot.edit.find import CustomTarget, find_in_text
from image_bot.edit.rewrite import rewrite_text
from image_bot.edit.written import written_ref
from image_bot.model import Change, Part

OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64


def pin(text: str, path: str, tag: str = "1.6.0", **kw: object) -> tuple[str, str | None, str]:
    """(tag, digest) of the written reference and the file after the rewrite."""
    found = find_in_text(text, path, **kw)  # type: ignore[arg-type]
    assert len(found.occurrences) == 1, found
    occurrence = found.occurrences[0]
    new = written_ref(occurrence, tag, NEW)
    after = rewrite_text(path, text, [Change(occurrence, occurrence.ref, new)]).after
    return new.tag or "", new.digest, after


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        (
            "deploy.yaml",
            "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: web:1.5.0\n",
            f"  - image: web:1.6.0@{NEW}\n",
        ),
        (
            "compose.yaml",
            "services:\n  web:\n    image: 'web:1.5.0'\n",
            f"    image: 'web:1.6.0@{NEW}'\n",
        ),
        (  # split Helm values without a digest key: `tag@digest` in the tag
            "values.yaml",
            "image:\n  repository: acme/web\n  tag: 1.5.0\n",
            f"  tag: 1.6.0@{NEW}\n",
        ),
        (  # ... and with one, the digest goes there
            "values.yaml",
            'image:\n  repository: acme/web\n  tag: 1.5.0\n  digest: ""\n',
            f'  tag: 1.6.0\n  digest: "{NEW}"\n',  # its quotes are kept
        ),
        (
            "values.yaml",
            f"image:\n  repository: acme/web\n  tag: 1.5.0@{OLD}\n",
            f"  tag: 1.6.0@{NEW}\n",
        ),
        (  # kustomize `newTag` alone: kustomize renders `web:1.6.0@sha256:...` from it
            "kustomization.yaml",
            "images:\n- name: web\n  newTag: 1.5.0\n",
            f"  newTag: 1.6.0@{NEW}\n",
        ),
    ],
)
def test_a_pinned_update_writes_tag_and_digest(path: str, text: str, expected: str) -> None:
    tag, digest, after = pin(text, path)
    assert (tag, digest) == ("1.6.0", NEW)
    assert after.endswith(expected)


def test_a_digest_alone_stays_a_digest_alone() -> None:
    text = f"images:\n- name: web\n  digest: {OLD}\n"
    tag, digest, after = pin(text, "kustomization.yaml")
    assert (tag, digest) == ("", NEW)  # the pull request names what the file holds
    assert after == f"images:\n- name: web\n  digest: {NEW}\n"


def test_a_tag_only_target_holds_no_digest() -> None:
    target = CustomTarget("db.yaml", "spec.version", "postgres", Part.TAG)
    tag, digest, after = pin("spec:\n  version: '16.2'\n", "db.yaml", "16.4", targets=[target])
    assert (tag, digest) == ("16.4", None)
    assert after == "spec:\n  version: '16.4'\n"
