"""The only package that composes stages: checkout, find, scan, decide, plan, rewrite, publish.

`run_pass` takes its adapters as arguments (a registry opener, a forge factory, the git
class), so the app picks concrete ones and the tests pass real ones. Failures become report
entries: one registry, repository or branch failing never stops the rest of the pass.

Repositories are checked out, and later published, `options.concurrency` at a time per forge
host (`lanes.HostLanes`); the scan between is one for all of them (each image listed once).
With state and `options.lease_holder`, each repository's lease is held from its checkout to
the end of its publishing (`state.leases`), and a repository another process holds is left
to it (reported as skipped, `RepositoryReport.held_by`: not a failure).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from image_bot.config import Config, RepositorySpec
from image_bot.errors import ForgeError, redact
from image_bot.model import Occurrence
from image_bot.pipeline.checkout import Checkout, LeftTo, checkout_or_error
from image_bot.pipeline.decisions import (
    Decided,
    FactsUnavailable,
    OpenRegistry,
    decide,
    scan_and_decide,
)
from image_bot.pipeline.details import Describer
from image_bot.pipeline.inbox import Inbox, InboxSettings, read_inbox
from image_bot.pipeline.lanes import ForgeBudget, HostLanes, forge_host, one_at_a_time
from image_bot.pipeline.remembered import remembered_settings
from image_bot.pipeline.repository import Context, ForgeFactory, PassOptions, publish_repository
from image_bot.pipeline.sources import registry_governed
from image_bot.publish.forge_kind import RepositoryForge
from image_bot.publish.git import Git
from image_bot.report import ImageFailure, RepositoryReport, RunReport
from image_bot.state import StateStore
from image_bot.state.leases import LeaseKeeper

__all__ = [
    "FactsUnavailable",
    "ForgeFactory",
    "OpenRegistry",
    "PassOptions",
    "Progress",
    "decide",
    "image_failures",
    "lease_name",
    "lost_precision",
    "run_pass",
]

Progress = Callable[[str], None]
T = TypeVar("T")


def run_pass(
    config: Config,
    *,
    open_registry: OpenRegistry,
    forge_for: ForgeFactory,
    options: PassOptions,
    git: type[Git] = Git,
    state: StateStore | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """One pass over every configured repository; the report says what happened."""
    now = now or datetime.now(UTC)
    say = progress or (lambda _: None)
    budget = ForgeBudget(options.rate_limit_reserve)
    lanes = HostLanes(options.concurrency)
    repositories = config.repositories
    hosts = [forge_host(forge_for(repo)) for repo in repositories]
    checkouts: dict[int, Checkout | LeftTo | str] = {}
    with _leases(state, options) as keeper:

        def check_out(index: int, repo: RepositorySpec) -> None:
            holder = keeper.take(lease_name(repo)) if keeper is not None else None
            if holder is not None:
                checkouts[index] = LeftTo(holder)
                return
            say(f"fetching {redact(repo.url)}")
            credentials = forge_for(repo).git_credentials()
            checkouts[index] = checkout_or_error(
                repo, git, options.cache_dir, credentials=credentials, images=config.images
            )

        def watched(repo: RepositorySpec) -> RepositoryForge:
            return budget.watching(forge_for(repo))

        try:
            lanes.map(repositories, hosts, check_out)
            inboxes = _inboxes(config, checkouts, watched, options, lanes=lanes, hosts=hosts)
            memories = {
                id(occurrence): inboxes[index].memory
                for index, checkout in checkouts.items()
                if isinstance(checkout, Checkout) and index in inboxes
                for occurrence in checkout.found.occurrences
            }
            occurrences = [
                occurrence
                for index, checkout in checkouts.items()
                if isinstance(checkout, Checkout)
                for occurrence in registry_governed(repositories[index], checkout)
            ]
            say(f"scanning {len({o.ref.name for o in occurrences})} images")
            decided = _run(
                scan_and_decide(
                    config,
                    open_registry,
                    occurrences,
                    state=state,
                    tag_cache_ttl=options.tag_cache_ttl,
                    now=now,
                    digest_ttl=options.digest_ttl,
                    settings_of=lambda o: remembered_settings(config, o, memories.get(id(o))),
                    listings_since=options.listings_since,
                )
            )
            describer = Describer(
                config, open_registry, now, state,
                digest_ttl=options.digest_ttl, settled=decided.settled,
            )  # fmt: skip
            # repositories side by side describe their changes one at a time: the describer
            # carries what the pass learnt from one repository to the next
            context = Context(config, decided, watched, git, options, now, one_at_a_time(describer))

            def publish(index: int, repo: RepositorySpec) -> RepositoryReport:
                checkout = checkouts[index]
                refusal = budget.refusal(hosts[index]) if isinstance(checkout, Checkout) else None
                say(f"updating {redact(repo.url)}")
                if refusal is not None:
                    report = RepositoryReport(redact(repo.url), repo.base, errors=(refusal,))
                else:
                    report = publish_repository(context, repo, checkout, inboxes.get(index))
                if isinstance(checkout, Checkout):
                    governed = registry_governed(repo, checkout)  # promoted stages scan nothing
                    failures = image_failures(governed, decided)
                    report = dataclasses.replace(report, image_failures=failures)
                    checkout.git.close()
                if keeper is not None:
                    keeper.give_back(lease_name(repo))
                return report

            try:
                reports = lanes.map(repositories, hosts, publish)
            finally:
                describer.close()
        finally:  # clones stay locked while a pass uses them, and not a moment longer
            for checkout in checkouts.values():
                if isinstance(checkout, Checkout):
                    checkout.git.close()
    return RunReport(
        repositories=tuple(reports),
        scan_failures=tuple(decided.failures.values()),
        errors=tuple(decided.errors),
        caveats=() if state is not None else lost_precision(config, options),
        dry_run=options.dry_run,
        images=len({o.ref.name for o in occurrences}),
    )


def _run(work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(work)` without a repr of its result. When the runner puts the SIGINT
    handler back, `signal` formats the old one (which holds the main task) into a ValueError
    it drops, so the main task's result is repr'ed in full, twice: a pass's decisions over
    1,000 images took 0.3 s of CPU to repr. Here the main task's result is None."""
    results: list[T] = []

    async def main() -> None:
        results.append(await work)

    asyncio.run(main())
    return results[0]


def lease_name(repo: RepositorySpec) -> str:
    """The lease (and shard) key of a configured repository: its URL without credentials and
    its base branch (two entries for one repository and base share it)."""
    return f"repository:{redact(repo.url)}#{repo.base}"


@contextmanager
def _leases(state: StateStore | None, options: PassOptions) -> Iterator[LeaseKeeper | None]:
    if state is None or options.lease_holder is None:
        yield None
        return
    with LeaseKeeper(state, options.lease_holder, seconds=options.lease.total_seconds()) as kept:
        yield kept


def _inboxes(
    config: Config,
    checkouts: dict[int, Checkout | LeftTo | str],
    forge_for: ForgeFactory,
    options: PassOptions,
    *,
    lanes: HostLanes,
    hosts: Sequence[str],
) -> dict[int, Inbox]:
    """Each forge repository's inbox: its forge opened, its pull requests listed, its
    dashboard and new commands read and acted on, before anything is decided (an ignore, a
    hold or a pin counts in this very pass). A forge that fails here fails its repository,
    as a failing listing always did. Repositories side by side, as their checkouts."""
    inboxes: dict[int, Inbox] = {}

    def read(index: int, repo: RepositorySpec) -> None:
        checkout = checkouts.get(index)
        if not isinstance(checkout, Checkout) or repo.direct_commit:
            return
        bound = forge_for(repo)
        settings = InboxSettings(
            commands=repo.commands,
            dashboard_label=repo.dashboard.label if repo.dashboard.enabled else None,
            act=not options.dry_run,
        )
        try:
            inboxes[index] = read_inbox(bound.open(checkout.git), bound.repository_id, settings)
        except ForgeError as error:
            checkout.git.close()
            checkouts[index] = error.message

    lanes.map(config.repositories, hosts, read)
    return inboxes


def image_failures(occurrences: Sequence[Occurrence], decided: Decided) -> tuple[ImageFailure, ...]:
    """The references among `occurrences` that could not be decided, once per spelling."""
    failed: dict[str, ImageFailure] = {}
    for occurrence in occurrences:
        ref = occurrence.ref
        error = decided.failure_of(ref)
        if error is not None:
            written = ref.text or ref.canonical
            failed.setdefault(written, ImageFailure(written, ref.tag or ref.digest or "", error))
    return tuple(failed.values())


def lost_precision(config: Config, options: PassOptions) -> tuple[str, ...]:
    """What a pass without a state file does less well, naming the policies it affects."""
    aged = ["default_policy"] if config.default_policy.min_age else []
    aged += [f"policies.{name}" for name, spec in config.policies.items() if spec.min_age]
    aged += [
        f"images[{entry.name}]"
        for entry in config.images
        if not isinstance(entry.policy, str) and entry.policy.min_age
    ]
    caveats = []
    if aged:
        caveats.append(
            f"min_age ({', '.join(aged)}): without state an image's age comes from the"
            " registry's `created` field, which builders may set to anything; with --state-dir"
            " it counts from when image-bot first saw the digest"
        )
    if options.tag_cache_ttl > timedelta(0):
        caveats.append("--tag-cache-ttl: no state to keep a tag cache in; every tag is listed")
    return tuple(caveats)
