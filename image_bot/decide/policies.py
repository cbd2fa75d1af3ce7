"""The Policy protocol and TagPolicy: elect the newest allowed tag, then resolve its facts.

`choose` is pure and independent of tag order. It ranks what the tag list alone allows,
then asks (via `Decision.missing`) for registry facts only about the best-ranked
candidates: their created time or platforms when `min_age`/`platforms` are set, and
digests when it must know whether two tags name one image or has to pin a digest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple, Protocol

from image_bot.decide.bulk import Key
from image_bot.decide.digests import Election, pin_digest, settle
from image_bot.decide.filters import IgnoreList, TagFilter, age_of, missing_platforms
from image_bot.decide.orderings import Ordering, Ranked
from image_bot.decide.reasons import Reasons, sorted_distinct
from image_bot.model import Decision, Fact, ImageRef, TagFacts, TagList
from image_bot.reference import with_tag

__all__ = ["DigestMode", "Election", "Policy", "TagPolicy"]
_MEMO_SIZE = 32  # rankings kept per policy (see TagPolicy._memo)


class Policy(Protocol):
    """Chooses the tag an image should move to. Pure: no I/O, independent of tag order."""

    @property
    def needs(self) -> frozenset[Fact]:
        """Registry facts (model.Fact) the policy may ask for through `Decision.missing`."""
        ...

    def choose(self, current: ImageRef, tags: TagList, *, now: datetime) -> Decision:
        """The verdict for `current`, or the facts still `missing` to reach one."""
        ...


class DigestMode(StrEnum):
    """`never` writes tags only; `pin` writes `tag@digest`; `follow` tracks one mutable tag."""

    NEVER = "never"
    PIN = "pin"
    FOLLOW = "follow"


class _Candidate(NamedTuple):
    """Compares as its order: version key, spelling, then the tag (distinct, so total)."""

    key: Key
    tiebreak: Key
    tag: str
    value: str
    position: int  # in the sorted tag list of the ranking's Reasons


@dataclass(frozen=True, slots=True)
class _Ranking:
    candidates: tuple[_Candidate, ...]  # in tag order; `first` goes first, then best first
    first: _Candidate | None  # the best candidate, or the spelling promoted before it
    unranked: tuple[str, ...]  # need facts before they can be ranked
    reasons: Reasons  # why every other tag is not a candidate

    def best_first(self) -> Iterator[_Candidate]:
        """`first`, then the others from the best down (sorted only if asked for)."""
        if self.first is None:
            return
        yield self.first
        for candidate in sorted(self.candidates, reverse=True):
            if candidate is not self.first:
                yield candidate


@dataclass(frozen=True, slots=True)
class TagPolicy:
    """A policy built from a PolicySpec by `decide.build.build_policy`."""

    ordering: Ordering
    tag_filter: TagFilter | None = None
    ignore: IgnoreList = field(default_factory=IgnoreList)
    digest: DigestMode = DigestMode.NEVER
    min_age: timedelta | None = None
    platforms: tuple[str, ...] = ()
    allow_downgrade: bool = False
    # The last rankings, reused across the fact rounds of one image (facts cannot change it
    # unless the ordering reads them). Several: a pass decides many images at once, one
    # policy often governs many of them, and their rounds interleave. A memo only: results
    # are the same without it.
    _memo: dict[tuple[str | None, tuple[str, ...]], _Ranking] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @property
    def needs(self) -> frozenset[Fact]:
        """Digests (same-image check, pin, follow) plus what the ordering and gates read."""
        wanted = {Fact.DIGEST, *self.ordering.needs}
        if self.min_age is not None:
            wanted.add(Fact.CREATED)
        if self.platforms:
            wanted.add(Fact.PLATFORMS)
        return frozenset(wanted)

    def choose(self, current: ImageRef, tags: TagList, *, now: datetime) -> Decision:
        """Elect, then build the target reference with the user's spelling of the name."""
        election = self.elect(current, tags, now=now)
        target = None
        if election.tag is not None and not election.missing:
            target = with_tag(current, election.tag, election.digest)
        return Decision(
            current,
            target,
            election.reason,
            election.rejected,
            election.missing,
            self._ready(election.rejected, tags.facts),
        )

    def _ready(
        self, rejected: tuple[tuple[str, str], ...], facts: Mapping[str, TagFacts]
    ) -> tuple[tuple[str, datetime], ...]:
        """When each tag rejected as too new passes `min_age` (the dashboard's "opens at")."""
        if self.min_age is None:
            return ()
        ready = []
        for tag, why in rejected:
            known = facts.get(tag)
            since = (known.first_seen or known.created) if known else None
            if why.startswith("too new") and since is not None:
                ready.append((tag, since + self.min_age))
        return tuple(ready)

    def elect(self, current: ImageRef, tags: TagList, *, now: datetime) -> Election:
        """The tag (and digest) to move to, with the reasons every other tag lost."""
        if self.digest is DigestMode.FOLLOW:
            return self._follow(current, tags, now)
        ranking = self._ranking(current, tags)
        rejected = ranking.reasons.copy()
        current_rank = self._current_rank(current, tags.facts)
        if ranking.unranked:  # e.g. newest build: every candidate's created time first
            need_current = current.tag in tags.tags and current.tag not in tags.facts
            missing = sorted(
                {*ranking.unranked, *([current.tag] if need_current and current.tag else [])}
            )
            return Election(
                None, None, f"needs {self.ordering.description} facts", (), tuple(missing)
            )
        winner, pending, stop = self._walk(
            current_tag=current.tag,
            current_rank=current_rank,
            ranked=ranking.best_first(),
            tags=tags,
            now=now,
            rejected=rejected,
        )
        if pending:
            return Election(None, None, "resolving the best candidates", (), pending)
        kept = {current.tag, winner}
        lost = f"ranks below {winner}" if winner else stop
        for candidate in ranking.candidates:
            if candidate.tag not in kept and rejected.reason_at(candidate.position) is None:
                rejected.set_at(candidate.position, lost)
        return settle(
            current,
            winner,
            tags,
            rejected,
            pin=self.digest is DigestMode.PIN or current.digest is not None,
            platforms=self.platforms,
            why_not=stop,
            why=f"{winner} is the newest by {self.ordering.description}",
        )

    def ranked(self, current: ImageRef, tags: TagList) -> tuple[str, ...]:
        """The candidates the tag list (and known facts) allow, best first; no fact gates."""
        return tuple(c.tag for c in self._ranking(current, tags).best_first())

    def newest_first(self, current: ImageRef, tags: TagList) -> tuple[str, ...]:
        """Every tag, newest first by the ordering (whatever range, variant, ignore list or
        gates say of it); the tags it cannot rank (not a version, filtered out, no facts
        yet) follow in name order."""
        current_value = self._value(current.tag) if current.tag is not None else None
        ranked: list[tuple[Key, Key, str]] = []
        unranked: list[str] = []
        for tag in sorted_distinct(tags.tags):
            value = self._value(tag)
            rank = self.ordering.rank(value, tags.facts.get(tag), current_value) if value else None
            if isinstance(rank, Ranked):
                ranked.append((rank.key, rank.tiebreak, tag))
            else:
                unranked.append(tag)
        ranked.sort(reverse=True)
        return (*(tag for _, _, tag in ranked), *unranked)

    # --- election ------------------------------------------------------------------------

    def _value(self, tag: str) -> str | None:
        return self.tag_filter.value(tag) if self.tag_filter is not None else tag

    def _ranking(self, current: ImageRef, tags: TagList) -> _Ranking:
        if self.ordering.needs:
            return self._rank_all(current, tags)
        key = (current.tag, tags.tags)
        ranking = self._memo.get(key)
        if ranking is None:
            ranking = self._memo[key] = self._rank_all(current, tags)
            if len(self._memo) > _MEMO_SIZE:
                del self._memo[next(iter(self._memo))]  # the oldest
        return ranking

    def _values(self, ordered: list[str], why: list[str | None]) -> tuple[list[int], list[str]]:
        """Positions and values of the tags the ignore list and filter let through."""
        if self.tag_filter is None and not self.ignore.patterns:
            return list(range(len(ordered))), ordered
        positions: list[int] = []
        values: list[str] = []
        for index, tag in enumerate(ordered):
            pattern = self.ignore.match(tag)
            value = self._value(tag)
            if pattern is not None:
                why[index] = f"ignored by {pattern!r}"
            elif not value:
                why[index] = "does not match the filter"
            else:
                positions.append(index)
                values.append(value)
        return positions, values

    def _rank_all(self, current: ImageRef, tags: TagList) -> _Ranking:
        ordered = sorted_distinct(tags.tags)
        why: list[str | None] = [None] * len(ordered)
        current_value = self._value(current.tag) if current.tag is not None else None
        positions, values = self._values(ordered, why)
        if self.ordering.needs:
            facts = [tags.facts.get(ordered[index]) for index in positions]
        else:
            facts = [None] * len(values)
        judged = self.ordering.judge(values, facts, current_value)
        if len(values) == len(ordered):  # nothing filtered out: positions are 0..n-1
            why = judged.why
        else:
            for index, reason in zip(positions, judged.why, strict=True):
                if reason is not None:
                    why[index] = reason
        unranked = [ordered[positions[n]] for n in judged.unranked]
        candidates = [
            _Candidate(key, tiebreak, ordered[positions[n]], values[n], positions[n])
            for n, key, tiebreak in judged.admitted
        ]
        first = max(candidates, default=None)
        test = self.ordering.promotion(first.value, current_value) if first else None
        if test is not None:
            first = next((c for c in sorted(candidates, reverse=True) if test(c.value)), first)
        return _Ranking(tuple(candidates), first, tuple(unranked), Reasons(ordered, why))

    def _current_rank(self, current: ImageRef, facts: Mapping[str, TagFacts]) -> Ranked | None:
        value = self._value(current.tag) if current.tag is not None else None
        if not value:
            return None
        ranked = self.ordering.rank(value, facts.get(current.tag or ""), value)
        return ranked if isinstance(ranked, Ranked) else None

    def _gate(self, facts: TagFacts, now: datetime) -> str | None:
        """Why facts disqualify a candidate (too young, platforms missing), or None."""
        if self.min_age is not None:
            age = age_of(facts, now)
            if age is None:
                return "age unknown (no created time)"
            if age < self.min_age:
                return f"too new: {_human(age)} old, min_age is {_human(self.min_age)}"
        if self.platforms:
            lacking = missing_platforms(self.platforms, facts.platforms or frozenset())
            if lacking:
                return f"lacks platforms {', '.join(lacking)}"
        return None

    def _walk(
        self,
        *,
        current_tag: str | None,
        current_rank: Ranked | None,
        ranked: Iterator[_Candidate],
        tags: TagList,
        now: datetime,
        rejected: Reasons,
    ) -> tuple[str | None, tuple[str, ...], str]:
        """Best-first: the winner, or the tags whose facts decide it, or why nothing moves."""
        gated = self.min_age is not None or bool(self.platforms)
        pending: list[str] = []
        gate_rejections = 0
        for candidate in ranked:
            if candidate.tag == current_tag:
                return None, tuple(pending), f"not newer than the current tag {current_tag}"
            if current_rank is not None and candidate.key <= current_rank.key:
                if candidate.key == current_rank.key:
                    return None, tuple(pending), f"same version as the current tag {current_tag}"
                if not self.allow_downgrade:
                    return None, tuple(pending), f"would downgrade from {current_tag}"
            if not gated:
                return candidate.tag, (), ""
            facts = tags.facts.get(candidate.tag)
            if facts is None:
                pending.append(candidate.tag)
                if len(pending) > gate_rejections:  # ask for 1, 2, 4, ... per round
                    break
                continue
            why = self._gate(facts, now)
            if why is None:
                return (None if pending else candidate.tag), tuple(pending), ""
            rejected.set_at(candidate.position, why)
            gate_rejections += 1
        return None, tuple(pending), "no tag passes the policy"

    def _follow(self, current: ImageRef, tags: TagList, now: datetime) -> Election:
        """Track the current (mutable) tag: propose its new digest when it moved."""
        tag = current.tag
        if tag is None:
            return Election(None, None, "digest: follow needs a tag to follow (e.g. `:latest`)")
        if tag not in tags.tags:
            return Election(None, None, f"digest: follow: the registry has no tag {tag}")
        if tag not in tags.facts:
            return Election(None, None, f"checking the digest of {tag}", missing=(tag,))
        facts = tags.facts[tag]
        why = self._gate(facts, now)
        if why is not None:
            return Election(None, None, f"{tag}@{facts.digest}: {why}")
        return pin_digest(current, tag, facts, self.platforms, Reasons.empty(), moved=False)


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0", "")
    return f"{seconds}s"
