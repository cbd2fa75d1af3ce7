"""The only module that composes stages: checkout, find, scan, decide, plan, rewrite, publish.

`run_pass` takes its adapters as arguments (a registry opener, a forge factory, the git
class), so the app picks concrete ones and the tests pass real ones. Failures become report
entries: one registry, repository or branch failing never stops the rest of the pass.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import posixpath
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from image_bot.decide.build import build_policy
from image_bot.decide.policies import Policy
from image_bot.edit.find import CustomTarget, FindResult, find_references
from image_bot.edit.manual import unified_diff
from image_bot.edit.rewrite import rewrite_tree
from image_bot.errors import ForgeError, GitError, ImageBotError, PushRejected, redact
from image_bot.model import (
    Change,
    Decision,
    Fact,
    ImageName,
    ImageRef,
    Occurrence,
    Part,
    RepositoryReport,
    RunReport,
    ScanFailure,
    Skipped,
    TagFacts,
    TagList,
    UpdatePlan,
)
from image_bot.plan import Grouping, NamedGroup, Strategy, make_plans
from image_bot.publish.apply import PlanContent, Publisher
from image_bot.publish.forge import Forge
from image_bot.publish.git import Git
from image_bot.publish.limits import PullRequestLimits
from image_bot.publish.reconcile import limit_creates, reconcile
from image_bot.reference import with_tag
from image_bot.scan.registry import Registry
from image_bot.scan.scanner import fetch_facts, scan
from image_bot.spec import Config, PolicySpec, RepositorySpec
from image_bot.state import NO_STATE_CAVEATS, CachingRegistry, StateStore

__all__ = [
    "FactsUnavailable",
    "ForgeFactory",
    "OpenRegistry",
    "PassOptions",
    "Progress",
    "decide",
    "run_pass",
]

log = logging.getLogger(__name__)

# Each round asks for facts the policy has not seen yet, so the loop ends on its own;
# the cap only guards against a policy that keeps asking for the same tags.
_MAX_ROUNDS = 64

OpenRegistry = Callable[[], AbstractAsyncContextManager[Registry]]
ForgeFactory = Callable[[RepositorySpec, Git], Forge]
Progress = Callable[[str], None]
Stamp = Callable[[ImageName, Mapping[str, TagFacts]], Mapping[str, TagFacts]]
DecisionKey = tuple[PolicySpec, str]


class FactsUnavailable(ImageBotError):
    """The policy needs registry facts (digests, created times, platforms) that we cannot get."""

    exit_code = 2


async def decide(
    policy: Policy,
    current: ImageRef,
    tags: TagList,
    registry: Registry | None,
    *,
    now: datetime,
    stamp: Stamp | None = None,
) -> Decision:
    """Run `policy` over `tags`, fetching the registry facts it asks for (elect, then resolve).

    With `registry=None` (an offline tag list) a policy that needs facts raises FactsUnavailable.
    `stamp` adds what the state file knows (first-seen times) to freshly fetched facts; then
    digests are fetched along with creation times, since first-seen is kept per digest.
    """
    wanted = set(policy.needs)
    if stamp is not None and Fact.CREATED in wanted:
        wanted.add(Fact.DIGEST)
    decision = policy.choose(current, tags, now=now)
    for _ in range(_MAX_ROUNDS):
        if not decision.missing:
            return decision
        if registry is None:
            needed = ", ".join(sorted(policy.needs))
            raise FactsUnavailable(
                f"the policy needs registry facts ({needed}) for {', '.join(decision.missing)};"
                " an offline tag list has none"
            )
        fetched: Mapping[str, TagFacts] = await fetch_facts(
            registry, tags.image, decision.missing, wanted
        )
        if stamp is not None:
            fetched = stamp(tags.image, fetched)
        tags = dataclasses.replace(tags, facts={**tags.facts, **fetched})
        decision = policy.choose(current, tags, now=now)
    raise ImageBotError(f"policy kept asking for facts about {tags.image}; giving up")


@dataclass(frozen=True, slots=True)
class PassOptions:
    """How a pass runs: where clones live, dry run, retries, tag cache lifetime."""

    cache_dir: Path
    dry_run: bool = False
    max_attempts: int = 3
    tag_cache_ttl: timedelta = timedelta(0)


@dataclass
class _Checkout:
    git: Git
    base_sha: str
    found: FindResult


@dataclass
class _Decided:
    decisions: dict[DecisionKey, Decision] = field(default_factory=dict)
    failures: dict[ImageName, ScanFailure] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Context:
    """What every repository of a pass shares."""

    config: Config
    decided: _Decided
    forge_for: ForgeFactory
    git: type[Git]
    options: PassOptions
    now: datetime


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
    checkouts: dict[int, _Checkout | str] = {}
    for index, repo in enumerate(config.repositories):
        say(f"fetching {redact(repo.url)}")
        checkouts[index] = _checkout_or_error(repo, git, options.cache_dir)
    occurrences = [
        occurrence
        for checkout in checkouts.values()
        if isinstance(checkout, _Checkout)
        for occurrence in checkout.found.occurrences
    ]
    say(f"scanning {len({o.ref.name for o in occurrences})} images")
    decided = asyncio.run(
        _scan_and_decide(config, open_registry, occurrences, state=state, options=options, now=now)
    )
    context = _Context(config, decided, forge_for, git, options, now)
    reports = []
    try:
        for index, repo in enumerate(config.repositories):
            say(f"updating {redact(repo.url)}")
            reports.append(_repository(context, repo, checkouts[index]))
    finally:
        for checkout in checkouts.values():
            if isinstance(checkout, _Checkout):
                checkout.git.close()
    return RunReport(
        repositories=tuple(reports),
        scan_failures=tuple(decided.failures.values()),
        errors=tuple(decided.errors),
        caveats=() if state is not None else NO_STATE_CAVEATS,
        dry_run=options.dry_run,
        images=len({o.ref.name for o in occurrences}),
    )


# --- checkout and find ---------------------------------------------------------------------


def _checkout_or_error(repo: RepositorySpec, git: type[Git], cache_dir: Path) -> _Checkout | str:
    try:
        variant = f"{repo.base}\n{repo.paths}"  # entries sharing a URL get their own worktree
        return _refresh(repo, git.open(repo.url, cache_dir, variant=variant))
    except GitError as error:
        log.warning("checkout failed", extra={"repository": redact(repo.url), "error": str(error)})
        return error.message


def _refresh(repo: RepositorySpec, git: Git) -> _Checkout:
    """Fetch, check out the base and find its references (again, after a lost race)."""
    try:
        base_sha = git.fetch(repo.base, repo.branch_prefix)
        git.checkout_detached(base_sha)
    except GitError:
        git.close()
        raise
    return _Checkout(git, base_sha, _find(git.workdir, repo))


def _under(glob: str, directory: str) -> str:
    return glob if directory == "." else glob.removeprefix(f"{directory}/")


def _find(root: Path, repo: RepositorySpec) -> FindResult:
    occurrences: list[Occurrence] = []
    skipped: list[Skipped] = []
    for directory in dict.fromkeys(posixpath.normpath(p) for p in repo.paths):
        targets = [
            CustomTarget(
                files=_under(t.files, directory),
                path=t.path,
                image=t.image,
                part=Part.TAG if t.part == "tag" else Part.WHOLE,
            )
            for t in repo.targets
        ]
        found = find_references(
            root / directory,
            **({"include": repo.include} if repo.include else {}),
            exclude=[_under(glob, directory) for glob in repo.exclude],
            extra_names=repo.extra_names,
            targets=targets,
            max_bytes=repo.max_file_bytes,
        )
        prefix = "" if directory == "." else f"{directory}/"
        occurrences.extend(dataclasses.replace(o, path=prefix + o.path) for o in found.occurrences)
        skipped.extend(dataclasses.replace(s, path=prefix + s.path) for s in found.skipped)
    return FindResult(tuple(occurrences), tuple(skipped))


# --- scan and decide -----------------------------------------------------------------------


def _policy_spec(config: Config, occurrence: Occurrence) -> PolicySpec:
    return config.policy_for(occurrence.ref.name, occurrence.policy)


async def _scan_and_decide(
    config: Config,
    open_registry: OpenRegistry,
    occurrences: Sequence[Occurrence],
    *,
    state: StateStore | None,
    options: PassOptions,
    now: datetime,
) -> _Decided:
    decided = _Decided()
    if not occurrences:
        return decided
    stamp = _stamper(state, now) if state is not None else None
    policies: dict[PolicySpec, Policy] = {}
    async with open_registry() as opened:
        registry: Registry = opened
        if state is not None and options.tag_cache_ttl > timedelta(0):
            registry = CachingRegistry(opened, state, ttl=options.tag_cache_ttl, now=now)
        scanned = await scan(registry, [o.ref.name for o in occurrences])
        for occurrence in occurrences:
            spec = _policy_spec(config, occurrence)
            key = (spec, occurrence.ref.canonical)
            result = scanned[occurrence.ref.name]
            if isinstance(result, ScanFailure):
                decided.failures[occurrence.ref.name] = result
                continue
            if key in decided.decisions:
                continue
            policy = policies.get(spec) or policies.setdefault(spec, build_policy(spec))
            try:
                decided.decisions[key] = await decide(
                    policy, occurrence.ref, result, registry, now=now, stamp=stamp
                )
            except ImageBotError as error:
                decided.errors.append(f"{occurrence.ref.canonical}: {error.message}")
    return decided


def _stamper(state: StateStore, now: datetime) -> Stamp:
    def stamp(image: ImageName, facts: Mapping[str, TagFacts]) -> Mapping[str, TagFacts]:
        digests = [f.digest for f in facts.values() if f.digest]
        seen = state.first_seen(image, digests, now=now)
        return {
            tag: dataclasses.replace(f, first_seen=seen.get(f.digest)) if f.digest else f
            for tag, f in facts.items()
        }

    return stamp


# --- plan, rewrite, publish ----------------------------------------------------------------


def _grouping(repo: RepositorySpec) -> Grouping:
    groups = tuple(NamedGroup(g.name, g.images) for g in repo.grouping.groups)
    return Grouping(Strategy(repo.grouping.strategy), groups)


def _changes(
    config: Config, found: FindResult, decided: _Decided
) -> tuple[list[Change], list[Change]]:
    """(changes to make, placeholders for references whose outcome is unknown this pass)."""
    changes, unknown = [], []
    for occurrence in found.occurrences:
        decision = decided.decisions.get(
            (_policy_spec(config, occurrence), occurrence.ref.canonical)
        )
        if decision is None:
            unknown.append(Change(occurrence, occurrence.ref, occurrence.ref))
        elif decision.changes and decision.target is not None:
            target = decision.target
            new = with_tag(occurrence.ref, target.tag, target.digest)
            changes.append(Change(occurrence, occurrence.ref, new))
    return changes, unknown


def _repository(
    context: _Context, repo: RepositorySpec, checkout: _Checkout | str
) -> RepositoryReport:
    """Publish one repository; a moved remote (push rejected) restarts it from fresh state."""
    report = RepositoryReport(repository=redact(repo.url), base=repo.base)
    attempts = context.options.max_attempts
    for attempt in range(1, attempts + 1):
        if isinstance(checkout, str):
            return dataclasses.replace(report, errors=(checkout,), attempts=attempt)
        git = checkout.git
        try:
            done = _publish(context, repo, checkout)
        except PushRejected as error:
            log.info("push rejected; retrying from fresh state", extra={"error": error.message})
            if attempt < attempts:
                try:
                    checkout = _refresh(repo, git)
                except GitError as fetch_error:
                    checkout = fetch_error.message
                continue
            done = dataclasses.replace(
                report, errors=(f"gave up after {attempt} attempts: {error.message}",)
            )
        except (GitError, ForgeError) as error:
            done = dataclasses.replace(report, errors=(error.message,))
        return dataclasses.replace(
            done, attempts=attempt, git_commands=sum(git.calls.values()), git_writes=git.writes
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _publish(context: _Context, repo: RepositorySpec, checkout: _Checkout) -> RepositoryReport:
    root = checkout.git.workdir
    changes, unknown = _changes(context.config, checkout.found, context.decided)
    _, unsafe = rewrite_tree(root, changes)  # files that cannot take their edits: left alone
    unsafe_paths = {s.path for s in unsafe}
    changes = [c for c in changes if c.occurrence.path not in unsafe_paths]
    hashes = {
        path: hashlib.sha256((root / path).read_bytes()).hexdigest()
        for path in {c.occurrence.path for c in changes}
    }
    repo_id = repo.url if repo.forge.type == "local" else repo.project_name
    grouping = Grouping(Strategy.ALL) if repo.direct_commit else _grouping(repo)

    def plans_of(planned: Sequence[Change]) -> list[UpdatePlan]:
        return make_plans(
            repo_id, repo.base, planned, grouping=grouping,
            branch_prefix=repo.branch_prefix, file_hashes=hashes,
        )  # fmt: skip

    plans = plans_of(changes)
    contents = {plan.branch: _content(root, plan.changes) for plan in plans}
    forge = context.forge_for(repo, checkout.git)
    publisher = Publisher(
        checkout.git, forge, repo, repo_id, checkout.base_sha, context.now,
        dry_run=context.options.dry_run,
    )  # fmt: skip
    if repo.direct_commit:
        branches = [publisher.direct(plan, contents[plan.branch]) for plan in plans]
    else:
        undecided = {plan.branch for plan in plans_of(unknown)}
        existing = forge.bot_pull_requests(repo_id)
        limits = PullRequestLimits(
            repo.limits.max_open_pull_requests, repo.limits.max_pull_requests_per_hour
        )
        actions = limit_creates(
            reconcile(plans, existing, undecided=undecided),
            limits.remaining(existing, context.now),
        )
        branches = [publisher.apply(action, contents) for action in actions]
    return RepositoryReport(
        repository=redact(repo.url),
        base=repo.base,
        base_sha=checkout.base_sha,
        occurrences=len(checkout.found.occurrences),
        skipped=(*checkout.found.skipped, *unsafe),
        branches=tuple(branches),
    )


def _content(root: Path, changes: Sequence[Change]) -> PlanContent:
    file_changes, _ = rewrite_tree(root, changes)
    files = {fc.path: fc.after for fc in file_changes}
    diff = "".join(
        unified_diff(fc.path, (root / fc.path).read_bytes().decode("utf-8"), fc.after)
        for fc in file_changes
    )
    return PlanContent(files, diff)
