"""What a pull request tells about each change: `ChangeDetails`, gathered only for the plans a
pass writes (create, update, or would in a dry run), never on a no-op pass.

Per distinct old -> new: the update type (`decide.update_type`), the policy's place in the
config, the new version's digest, platforms, created time and first-seen time, both
versions' OCI labels (source, revision, version; one registry session per repository, each
(image, tag) asked once per pass; the old version's only when the new one names its
source, since only the compare link and the release notes use them), the compare link, and
the releases in between from the source's forge, fetched once per source per pass and kept
in the state store (`release_notes.cache_ttl`). Nothing here fails a pass: what cannot be
had is left out, and the notes say why in one line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from image_bot.config import Config
from image_bot.decide.semver import PreKey
from image_bot.decide.update_type import update_type
from image_bot.decide.versions import parse_tag
from image_bot.errors import RegistryError, register_secret
from image_bot.model import Change, ChangeDetails, Fact, ImageName, ReleaseNotes, TagFacts
from image_bot.pipeline.decisions import OpenRegistry
from image_bot.publish.pr.body import details_key
from image_bot.scan.registry import Registry
from image_bot.sources.links import (
    LABEL_VERSION,
    SourceHost,
    SourceKind,
    SourceRepository,
    compare_url,
    known_hosts,
    safe_revision,
    source_repository,
)
from image_bot.sources.notes import RawRelease, trim_notes
from image_bot.sources.releases import ReleaseFetcher, ReleasesUnavailable, releases_page
from image_bot.state import CachedReleases, RememberedFacts, Settled, StateError, StateStore

__all__ = ["Describer", "source_hosts"]

log = logging.getLogger("image_bot.pipeline")

_NEW_FACTS = frozenset({Fact.DIGEST, Fact.CREATED, Fact.PLATFORMS, Fact.LABELS})
_OLD_FACTS = frozenset({Fact.LABELS})
_NO_SOURCE = "the image has no `org.opencontainers.image.source` label"
Key = tuple[tuple[int, ...], PreKey, int]
TagKey = tuple[ImageName, str]  # an image and one of its tags


def source_hosts(config: Config) -> dict[str, SourceHost]:
    """github.com, gitlab.com, every configured forge's host (no token), `release_notes.hosts`."""
    extra: dict[str, SourceHost] = {}
    for repo in config.repositories:
        forge = repo.forge
        if forge.type not in ("github", "gitlab") or not (forge.url or forge.api_url):
            continue
        kind = SourceKind(forge.type)
        web = forge.url or (forge.api_url or "").rsplit("/api/", 1)[0]
        host = web.split("://", 1)[-1].split("/", 1)[0].lower()
        api = forge.api_url or (f"{web}/api/v3" if kind is SourceKind.GITHUB else web)
        if kind is SourceKind.GITLAB and not api.rstrip("/").endswith("/api/v4"):
            api = f"{api.rstrip('/')}/api/v4"
        extra.setdefault(host, SourceHost(kind, api.rstrip("/")))
    for spec in config.release_notes.hosts:
        kind = SourceKind(spec.type)
        default = "/api/v3" if kind is SourceKind.GITHUB else "/api/v4"
        token = spec.token.get_secret_value() if spec.token is not None else None
        register_secret(token)
        api = spec.api_url or f"https://{spec.host}{default}"
        extra[spec.host.lower()] = SourceHost(kind, api.rstrip("/"), token)
    return known_hosts(extra)


def _version_key(text: str) -> Key | None:
    parsed = parse_tag(text)
    return parsed.key if parsed is not None else None


@dataclass
class Describer:
    """Gathers ChangeDetails for one pass (a `pipeline.repository.Describe`)."""

    config: Config
    open_registry: OpenRegistry
    now: datetime
    state: StateStore | None = None
    fetcher: ReleaseFetcher | None = None
    digest_ttl: timedelta = timedelta(hours=6)  # `PassOptions.digest_ttl`
    settled: Settled | None = None  # what the pass's scan settled (`Decided.settled`)
    hosts: Mapping[str, SourceHost] = field(default_factory=dict)
    _facts: dict[tuple[ImageName, str], TagFacts] = field(default_factory=dict)
    _releases: CachedReleases | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.hosts:
            self.hosts = source_hosts(self.config)
        notes = self.config.release_notes
        if self.fetcher is None and notes.enabled:
            self.fetcher = ReleaseFetcher(timeout=notes.timeout.total_seconds())
        if self.fetcher is not None:
            self._releases = CachedReleases(
                self.fetcher, self.state, ttl=notes.cache_ttl, now=self.now
            )

    def close(self) -> None:
        """Close the release fetcher's connections."""
        if self.fetcher is not None:
            self.fetcher.close()

    def __call__(
        self, changes: Sequence[Change], policy_of: Callable[[Change], str]
    ) -> dict[tuple[str, str], ChangeDetails]:
        """Details for each distinct (old, new) of `changes`; `policy_of` names the policy."""
        distinct = {details_key(change): change for change in changes}
        self._fetch_facts(distinct.values())
        return {key: self._details(change, policy_of(change)) for key, change in distinct.items()}

    # --- registry facts -------------------------------------------------------------------

    def _fetch_facts(self, changes: Collection[Change]) -> None:
        new_wanted = {
            (change.old.name, change.new.tag): _NEW_FACTS
            for change in changes
            if change.new.tag and (change.old.name, change.new.tag) not in self._facts
        }
        # The old version's labels serve the compare link and the release notes, which both
        # need the new version's source: they are asked only where the new version has one.
        pairs = {
            ((change.old.name, change.new.tag or ""), (change.old.name, change.old.tag))
            for change in changes
            if change.old.tag and change.old.tag != change.new.tag
        }
        if new_wanted or self._old_wanted(pairs, self._facts):
            self._facts.update(asyncio.run(self._ask(new_wanted, pairs)))

    def _old_wanted(
        self, pairs: Iterable[tuple[TagKey, TagKey]], known: Mapping[TagKey, TagFacts]
    ) -> dict[TagKey, frozenset[Fact]]:
        """The old versions whose labels are still unknown and whose new version names its
        source."""
        return {
            old: _OLD_FACTS
            for new, old in pairs
            if old not in known
            and new in known
            and source_repository(known[new].labels, self.hosts) is not None
        }

    async def _ask(
        self,
        new_wanted: Mapping[TagKey, frozenset[Fact]],
        pairs: Iterable[tuple[TagKey, TagKey]],
    ) -> dict[TagKey, TagFacts]:
        """The new versions' facts, then the old versions' labels where the new version names
        its source: two rounds in one registry session. With state, through
        `RememberedFacts` from where the scan left it (`settled`): a digest this pass settled
        is not asked again, and a digest's labels, created time and platforms are asked once
        ever (the old version's were often learnt when it was the new one)."""
        async with self.open_registry() as opened:
            registry: Registry = opened
            remembered: RememberedFacts | None = None
            if self.state is not None:
                remembered = RememberedFacts(
                    opened, self.state, ttl=self.digest_ttl, now=self.now, settled=self.settled
                )
                registry = remembered
            facts = await self._round(registry, new_wanted)
            old_wanted = self._old_wanted(pairs, {**self._facts, **facts})
            facts.update(await self._round(registry, old_wanted))
            if remembered is not None:
                self.settled = remembered.settled()  # the next repository's start
                try:
                    remembered.save()
                except StateError as error:
                    log.warning("state file unwritable", extra={"error": error.message})
        return facts

    @staticmethod
    async def _round(
        registry: Registry, wanted: Mapping[TagKey, frozenset[Fact]]
    ) -> dict[TagKey, TagFacts]:
        """The `wanted` facts of each (image, tag), asked side by side; a registry error
        leaves that tag's facts empty (logged)."""
        keys = list(wanted)
        found = await asyncio.gather(
            *(registry.facts(name, tag, wanted[(name, tag)]) for name, tag in keys),
            return_exceptions=True,
        )
        facts: dict[TagKey, TagFacts] = {}
        for key, result in zip(keys, found, strict=True):
            if isinstance(result, TagFacts):
                facts[key] = result
            elif isinstance(result, RegistryError):
                # The old version is often gone from the registry (cleaned up, or never
                # pushed there): that costs the compare link only, not worth a warning.
                old = wanted[key] == _OLD_FACTS
                log.log(
                    logging.INFO if old else logging.WARNING,
                    "no labels of the old version" if old else "no details for a pull request",
                    extra={"image": f"{key[0]}:{key[1]}", "error": result.message},
                )
                facts[key] = TagFacts()
            else:
                raise result
        return facts

    def _first_seen(self, name: ImageName, digest: str | None) -> datetime | None:
        if self.state is None or digest is None:
            return None
        try:
            return self.state.first_seen(name, [digest], now=self.now).get(digest)
        except StateError as error:
            log.warning("state file unreadable", extra={"error": error.message})
            return None

    # --- one change -----------------------------------------------------------------------

    def _details(self, change: Change, policy: str) -> ChangeDetails:
        name = change.old.name
        new = self._facts.get((name, change.new.tag or ""), TagFacts())
        old = self._facts.get((name, change.old.tag or ""), TagFacts())
        digest = change.new.digest or new.digest
        details = ChangeDetails(
            image=str(name),
            old=change.old.canonical,
            new=change.new.canonical,
            update_type=update_type(change.old, change.new),
            policy=policy,
            digest=digest,
            platforms=tuple(sorted(new.platforms or ())),
            created=new.created,
            first_seen=self._first_seen(name, digest),
        )
        source = source_repository(new.labels, self.hosts)
        if source is None:
            notes = ReleaseNotes(missing=_NO_SOURCE) if self.fetcher is not None else None
            return dataclasses.replace(details, notes=notes)
        old_revision, new_revision = safe_revision(old.labels), safe_revision(new.labels)
        compare = (
            compare_url(source, old_revision, new_revision)
            if old_revision and new_revision
            else None
        )
        details = dataclasses.replace(
            details,
            source=source.url,
            old_revision=old_revision,
            new_revision=new_revision,
            compare=compare,
        )
        if self.fetcher is None:
            return details
        old_version = old.labels.get(LABEL_VERSION) or change.old.tag or ""
        new_version = new.labels.get(LABEL_VERSION) or change.new.tag or ""
        return dataclasses.replace(details, notes=self._notes(source, old_version, new_version))

    def _notes(self, source: SourceRepository, old_version: str, new_version: str) -> ReleaseNotes:
        old_key, new_key = _version_key(old_version), _version_key(new_version)
        if old_key is None or new_key is None:
            return ReleaseNotes(
                missing=f"{old_version} and {new_version} are not versions to compare"
            )
        if self._releases is None:
            return ReleaseNotes(missing="release notes are switched off")
        try:
            listed = self._releases.releases(
                source, knows=lambda release: _version_key(release.tag) == new_key
            )
        except ReleasesUnavailable as error:
            return ReleaseNotes(missing=str(error))
        between: list[tuple[Key, RawRelease]] = []
        for release in listed:
            key = _version_key(release.tag)
            if key is not None and old_key < key <= new_key:
                between.append((key, release))
        between.sort(key=lambda pair: pair[0], reverse=True)
        spec = self.config.release_notes
        return trim_notes(
            [release for _, release in between],
            max_chars=spec.max_chars,
            max_releases=spec.max_releases,
            more=releases_page(source),
        )
