"""Evidence that an open bot pull request no plan wants is obsolete: never "found nothing".

A pass that finds no plan for a pull request's branch may have failed to see its reference
(a `paths` typo, a file that no longer parses, a link now refused), so that alone closes
nothing. Each file the pull request's commit changes must show why it is not needed:

- the file is gone from the base, or the configuration (`paths`, `include`, `exclude`) no
  longer covers it: the reference or its rule was removed;
- the file was read and its reference to the pull request's image is there and needs no
  change from it (it is at or past the proposal, or another branch proposes it now);
- the file was read whole and no longer refers to the image at all.

A file that could not be read whole, or whose image could not be decided, keeps the pull
request open, as does a pass that found no reference in the whole repository. Without the
branch (deleted by someone) the image alone is the evidence: found, and decided everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from image_bot.edit.find import FindResult
from image_bot.errors import InvalidReference
from image_bot.model import ImageName, Occurrence, PullRequest, PullRequestState
from image_bot.publish.reconcile import Evidence
from image_bot.reference import parse_reference

__all__ = ["PassFacts", "obsolete_evidence"]

_NEEDED = "no change is needed any more: "


@dataclass(frozen=True)
class PassFacts:
    """What one pass knows about the repository at the base's head.

    `unread`: files (partly) skipped by finding, with the first reason; `unsafe`: files that
    cannot take their edits this pass; `undecided`: (path, image) whose reference has no
    decision (its scan failed); `exists` says whether a path exists at the base;
    `changed_files` lists the files a bot commit changes.
    """

    found: FindResult
    base: str
    unread: Mapping[str, str]
    unsafe: Mapping[str, str]
    undecided: Collection[tuple[str, ImageName]]
    exists: Callable[[str], bool]
    changed_files: Callable[[str], Sequence[str]]


def obsolete_evidence(
    prs: Iterable[PullRequest], planned: Collection[str], facts: PassFacts
) -> dict[str, Evidence]:
    """For each open bot pull request whose branch is not in `planned`: is it obsolete?"""
    return {
        pr.branch: _evidence(pr, facts)
        for pr in prs
        if pr.state is PullRequestState.OPEN
        and pr.fingerprint is not None
        and pr.branch not in planned
    }


def _evidence(pr: PullRequest, facts: PassFacts) -> Evidence:
    if not facts.found.occurrences and not facts.found.managed:
        return Evidence(
            obsolete=False,
            reason="no image reference was found in the repository this pass; a pull request"
            " is never closed on that alone",
        )
    images = _images(pr.proposals)
    if not images:
        return Evidence(obsolete=False, reason="its marker names no image; left open")
    files = facts.changed_files(pr.head_sha) if pr.head_sha else ()
    if not files:
        return _by_image(images, facts)
    notes = []
    for path in files:
        note = _file_note(path, images, facts)
        if isinstance(note, Evidence):
            return note
        notes.append(note)
    return Evidence(obsolete=True, reason=_NEEDED + "; ".join(notes))


def _file_note(path: str, images: frozenset[ImageName], facts: PassFacts) -> str | Evidence:
    """Why `path` no longer needs the pull request's change, or the Evidence to keep it."""
    if path in facts.unsafe:
        return _kept(f"{path} cannot take its edits this pass ({facts.unsafe[path]})")
    if not facts.exists(path):
        return f"{path} is gone from {facts.base}"
    if path not in facts.found.files:
        return f"the configuration no longer covers {path}"
    held = {o.ref.name for o in _references(facts.found) if o.path == path} & images
    if any((path, name) in facts.undecided for name in held):
        return _kept(f"the images in {path} could not be decided this pass")
    if held:
        return f"{_names(held)} in {path} needs no change from it"
    if path in facts.unread:
        return _kept(f"{path} could not be read this pass ({facts.unread[path]})")
    return f"{path} no longer refers to {_names(images)}"


def _by_image(images: frozenset[ImageName], facts: PassFacts) -> Evidence:
    """No branch to read the changed files from: every image found, and decided."""
    found = [o for o in _references(facts.found) if o.ref.name in images]
    missing = images - {o.ref.name for o in found}
    if missing:
        return _kept(f"{_names(missing)} was not found this pass, nor a file of its branch")
    if any((o.path, o.ref.name) in facts.undecided for o in found):
        return _kept(f"{_names(images)} could not be decided this pass")
    return Evidence(obsolete=True, reason=f"{_NEEDED}{_names(images)} needs no change from it")


def _references(found: FindResult) -> list[Occurrence]:
    return [*found.occurrences, *(m.occurrence for m in found.managed)]


def _images(proposals: Iterable[str]) -> frozenset[ImageName]:
    names = set()
    for proposal in proposals:
        try:
            names.add(parse_reference(proposal).name)
        except InvalidReference:
            continue  # not a reference we wrote: it proves nothing either way
    return frozenset(names)


def _names(images: Iterable[ImageName]) -> str:
    return ", ".join(sorted(str(name) for name in images))


def _kept(reason: str) -> Evidence:
    return Evidence(obsolete=False, reason=f"{reason}; left open")
