"""Flux image automation -> image-bot config: `ImageRepository`, `ImagePolicy` and
`ImageUpdateAutomation` (image.toolkit.fluxcd.io v1beta2 and v1), with the `GitRepository`
(source.toolkit.fluxcd.io) an automation names.

Each ImagePolicy becomes the named policy `namespace:name`, the name its setter markers
(`# {"$imagepolicy": "namespace:name"}`) already use, so the manifests need no change. Each
ImageUpdateAutomation becomes a repository with `update: configured` (only marked fields
change, as with Flux). What cannot be said in image-bot's terms becomes a Note.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta

from image_bot.errors import InvalidReference
from image_bot.migrate.exclusions import exclusion_filter, regex_as_globs
from image_bot.migrate.objects import KubeObject, field, mapping, text
from image_bot.migrate.result import Migration, forge_for_url
from image_bot.model import Occurrence
from image_bot.reference import parse_name

__all__ = ["IMAGE_GROUP", "from_flux", "marker_notes"]

IMAGE_GROUP = "image.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
VERSIONS = frozenset({"v1", "v1beta2"})
_KINDS = frozenset({"ImageRepository", "ImagePolicy", "ImageUpdateAutomation"})
_DEFAULT_EXCLUSIONS = ("^.*\\.sig$",)  # Flux's default exclusionList (cosign signatures)
_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_REPOSITORY_NOTES = {
    "serviceAccountName": "the service account's pull secrets are not read: give the"
    " credentials to image-bot (registries[].username/password or docker_config)",
    "certSecretRef": "custom CA / client certificates are not supported",
    "proxySecretRef": "no per-registry proxy: set HTTPS_PROXY in image-bot's environment",
    "accessFrom": "no cross-namespace access control (policies are global in image-bot)",
    "timeout": "image-bot bounds each request itself (30 s)",
}


def _key(obj: KubeObject) -> tuple[str, str]:
    return obj.namespace or "", obj.name


def _go_duration(value: str | None) -> timedelta | None:
    """`1h0m0s`, `30m`, `5m0s` as a timedelta; None when not a Go duration."""
    if not value or _GO_DURATION.sub("", value.strip()) != "":
        return None
    seconds = sum(float(n) * _SECONDS[unit] for n, unit in _GO_DURATION.findall(value))
    return timedelta(seconds=seconds) if seconds > 0 else None


def _duration_text(value: timedelta) -> str:
    seconds = max(int(value.total_seconds()), 1)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _where(namespace: str | None, name: str | None) -> str:
    return f"{namespace}/{name}" if namespace else str(name)


def _policy_name(policy: KubeObject) -> str:
    """What markers call it: `namespace:name` (`name` when the object has no namespace,
    which image-bot also finds from any `namespace:name` marker)."""
    return f"{policy.namespace}:{policy.name}" if policy.namespace else policy.name


class _FluxImport:
    def __init__(self, objects: Sequence[KubeObject]) -> None:
        self.out = Migration("Flux")
        self.repositories: dict[tuple[str, str], KubeObject] = {}
        self.sources: dict[tuple[str, str], KubeObject] = {}
        self.policies: list[KubeObject] = []
        self.automations: list[KubeObject] = []
        for obj in objects:
            self._sort(obj)

    def _sort(self, obj: KubeObject) -> None:
        if obj.group == SOURCE_GROUP and obj.kind == "GitRepository":
            self.sources[_key(obj)] = obj
            return
        if obj.group != IMAGE_GROUP or obj.kind not in _KINDS:
            return
        if obj.version not in VERSIONS:
            self.out.note(obj.ref, f"{obj.api_version} is not read (only v1beta2 and v1)")
            return
        if obj.kind == "ImageRepository":
            if _key(obj) in self.repositories:
                self.out.note(obj.ref, f"defined twice ({obj.path}); the first one is used")
                return
            self.repositories[_key(obj)] = obj
        elif obj.kind == "ImagePolicy":
            self.policies.append(obj)
        else:
            self.automations.append(obj)

    # --- ImageRepository -> registries ------------------------------------------------------

    def registry_of(self, repository: KubeObject) -> str | None:
        """The registry host of the repository's image, with its settings and credentials."""
        image = text(repository.spec, "image")
        try:
            host = parse_name(image or "").registry
        except InvalidReference as error:
            self.out.note(repository.ref, f"spec.image {image!r} is not an image name: {error.why}")
            return None
        spec = repository.spec
        if text(spec, "insecure") == "true":
            self.out.registry(host, repository.ref)["insecure"] = True
        secret = text(spec, "secretRef", "name")
        if secret:
            qualified = f"{repository.namespace}/{secret}" if repository.namespace else secret
            self.out.credentials(
                host,
                secret,
                repository.ref,
                f"credentials of Secret {qualified} (a docker config): set {{username}} and"
                " {password} from it, or drop both and mount it as docker_config",
            )
        provider = text(spec, "provider")
        if provider and provider != "generic":
            self.out.note(
                repository.ref,
                f"provider {provider}: image-bot gets no cloud credentials itself; configure a"
                " docker credential helper in docker_config (or username/password) for " + host,
            )
        for key, why in _REPOSITORY_NOTES.items():
            if key in spec:
                self.out.note(repository.ref, f"{key}: {why}")
        if text(spec, "suspend") == "true":
            self.out.note(repository.ref, "suspended in Flux; image-bot reads it anyway")
        return host

    # --- ImagePolicy -> policies ------------------------------------------------------------

    def policy(self, policy: KubeObject) -> None:
        name = _policy_name(policy)
        if name in self.out.policies:
            self.out.note(policy.ref, f"defined twice ({policy.path}); the first one is used")
            return
        spec = policy.spec
        made: dict[str, object] = {}
        self._ordering(policy, made)
        pattern, extract = text(spec, "filterTags", "pattern"), text(spec, "filterTags", "extract")
        if pattern:
            made["filter"] = {"pattern": pattern, **({"extract": extract} if extract else {})}
        repository = self._repository_of(policy)
        exclusions: Sequence[str] = _DEFAULT_EXCLUSIONS
        if repository is not None:
            image = text(repository.spec, "image")
            self.out.comment(("policies", name), f"from {policy.ref}: image {image}")
            self.registry_of(repository)
            listed = field(repository.spec, "exclusionList")
            if isinstance(listed, list):
                exclusions = [str(item) for item in listed]
        else:
            self.out.comment(("policies", name), f"from {policy.ref}")
        if list(exclusions) != list(_DEFAULT_EXCLUSIONS):
            self._exclude(policy, made, exclusions)
        elif "semver" not in made and "filter" not in made:  # else `x.sig` cannot win anyway
            made["ignore"] = ["*.sig"]
        self._digest(policy, made)
        self.out.policies[name] = made

    def _ordering(self, policy: KubeObject, made: dict[str, object]) -> None:
        chosen = mapping(policy.spec.get("policy"))
        if "semver" in chosen:
            made["semver"] = text(chosen, "semver", "range") or "*"
        elif "alphabetical" in chosen:
            made["alphabetical"] = (text(chosen, "alphabetical", "order") or "asc").lower()
        elif "numerical" in chosen:
            made["numerical"] = (text(chosen, "numerical", "order") or "asc").lower()
        else:
            self.out.note(policy.ref, "no spec.policy: image-bot's default (semver *) is used")
        unknown = sorted(set(chosen) - {"semver", "alphabetical", "numerical"})
        if unknown:
            self.out.note(
                policy.ref, f"spec.policy.{unknown[0]} is not a Flux policy image-bot knows"
            )

    def _repository_of(self, policy: KubeObject) -> KubeObject | None:
        ref = mapping(policy.spec.get("imageRepositoryRef"))
        name, namespace = text(ref, "name"), text(ref, "namespace") or policy.namespace or ""
        repository = self.repositories.get((namespace, name or ""))
        if repository is None:
            self.out.note(
                policy.ref,
                f"its ImageRepository {_where(namespace, name)} is not among the files read:"
                " its registry settings and exclusionList are not imported",
            )
        return repository

    def _exclude(
        self, policy: KubeObject, made: dict[str, object], exclusions: Sequence[str]
    ) -> None:
        """`exclusionList` regexes as `ignore` globs where a glob says the same, the rest
        folded into the filter pattern."""
        globs: list[str] = []
        regexes: list[str] = []
        for exclusion in exclusions:
            as_globs = regex_as_globs(exclusion)
            if as_globs is None:
                regexes.append(exclusion)
            else:
                globs.extend(as_globs)
        if globs:
            made["ignore"] = globs
        if not regexes:
            return
        wanted = mapping(made.get("filter"))
        pattern, extract = text(wanted, "pattern"), text(wanted, "extract")
        combined = exclusion_filter(regexes, pattern, extract)
        if combined is None:
            self.out.note(policy.ref, f"exclusionList {regexes} cannot be expressed: not imported")
            return
        made["filter"] = {"pattern": combined, **({"extract": extract} if extract else {})}
        self.out.comment(
            ("policies", _policy_name(policy)),
            "the filter pattern also refuses tags matching the ImageRepository's exclusionList"
            " regexes that no glob can say: " + ", ".join(regexes),
        )

    def _digest(self, policy: KubeObject, made: dict[str, object]) -> None:
        reflect = text(policy.spec, "digestReflectionPolicy") or "Never"
        if reflect == "Never":
            return
        made["digest"] = "pin"
        name = _policy_name(policy)
        self.out.comment(
            ("policies", name), f"digestReflectionPolicy {reflect}: tags are written tag@digest"
        )
        if reflect == "IfNotPresent":
            self.out.note(
                policy.ref,
                "digestReflectionPolicy IfNotPresent: image-bot re-pins a pinned reference"
                " when its tag is pushed again (as Flux's Always does)",
            )
        if "interval" in policy.spec:
            self.out.note(policy.ref, "interval: digests are resolved on every pass instead")

    # --- ImageUpdateAutomation -> repositories ----------------------------------------------

    def automation(self, automation: KubeObject) -> timedelta | None:
        spec = automation.spec
        if text(spec, "suspend") == "true":
            self.out.note(automation.ref, "suspended in Flux: not imported")
            return None
        source = self._source_of(automation)
        index = len(self.out.repositories)
        url = text(source.spec, "url") if source is not None else None
        if url is None:
            url = "${" + f"{re.sub(r'[^A-Za-z0-9]+', '_', automation.name).upper()}_GIT_URL" + "}"
            self.out.comment(("repositories", index), "set this variable to the clone URL")
        base = text(spec, "git", "checkout", "ref", "branch")
        if base is None and source is not None:
            base = text(source.spec, "ref", "branch")
            for kind in ("tag", "semver", "name", "commit"):
                if text(source.spec, "ref", kind):
                    self.out.note(
                        source.ref, f"ref.{kind}: image-bot works on a branch; main is assumed"
                    )
        repository: dict[str, object] = {"url": url}
        forge, why = forge_for_url(url)
        repository["forge"] = forge
        if why:
            self.out.note(automation.ref, why)
        repository["base"] = base or "main"
        path = posixpath.normpath(text(spec, "update", "path") or ".").removeprefix("./")
        repository["paths"] = [path or "."]
        repository["update"] = "configured"
        self._commit(automation, repository)
        self._push(automation, base or "main")
        self._other_automation_fields(automation, source)
        self.out.repositories.append(repository)
        self.out.comment(("repositories", index), f"from {automation.ref}")
        return _go_duration(text(spec, "interval"))

    def _source_of(self, automation: KubeObject) -> KubeObject | None:
        ref = mapping(automation.spec.get("sourceRef"))
        kind = text(ref, "kind") or "GitRepository"
        name, namespace = (
            text(ref, "name") or "",
            text(ref, "namespace") or automation.namespace or "",
        )
        if kind != "GitRepository":
            self.out.note(automation.ref, f"sourceRef kind {kind}: only GitRepository is imported")
            return None
        source = self.sources.get((namespace, name))
        if source is None:
            self.out.note(
                automation.ref, f"GitRepository {namespace}/{name} is not among the files read"
            )
            return None
        if text(source.spec, "secretRef", "name"):
            self.out.note(
                source.ref,
                "secretRef: give image-bot the git credentials (forge token, or the URL's"
                " user and ${PASSWORD}; ssh keys in its environment)",
            )
        return source

    def _commit(self, automation: KubeObject, repository: dict[str, object]) -> None:
        commit = mapping(field(automation.spec, "git", "commit"))
        author = {
            key: value
            for key, value in (
                ("author_name", text(commit, "author", "name")),
                ("author_email", text(commit, "author", "email")),
            )
            if value
        }
        if author:
            repository["commit"] = author
        if "messageTemplate" in commit:
            self.out.note(
                automation.ref,
                "git.commit.messageTemplate is a Go template: not imported (image-bot's"
                " commit.message takes {summary} {changes} {count} ...)",
            )
        if "signingKey" in commit:
            self.out.note(
                automation.ref,
                "git.commit.signingKey: image-bot signs only as a GitHub App (commit.signed)",
            )

    def _push(self, automation: KubeObject, base: str) -> None:
        push = mapping(field(automation.spec, "git", "push"))
        branch = text(push, "branch")
        if branch and branch != base:
            self.out.note(
                automation.ref,
                f"Flux pushed to branch {branch} (for a pull request made elsewhere);"
                f" image-bot opens its own pull requests against {base}, one branch per change",
            )
        else:
            self.out.note(
                automation.ref,
                f"Flux pushed straight to {base}; image-bot opens pull requests instead"
                " (set direct_commit: true to keep pushing to the branch)",
            )
        for key in ("refspec", "options"):
            if key in push:
                self.out.note(automation.ref, f"git.push.{key} is not imported")

    def _other_automation_fields(self, automation: KubeObject, source: KubeObject | None) -> None:
        spec = automation.spec
        strategy = text(spec, "update", "strategy")
        if strategy not in (None, "Setters"):
            self.out.note(automation.ref, f"update.strategy {strategy} is not imported")
        selector = mapping(spec.get("policySelector"))
        if any(selector.get(key) for key in ("matchLabels", "matchExpressions")):
            self.out.note(
                automation.ref,
                "policySelector: image-bot applies whichever policy a marker names",
            )
        if source is not None and text(source.spec, "provider") not in (None, "generic"):
            self.out.note(source.ref, "provider: give image-bot git credentials itself")

    # --- the whole ---------------------------------------------------------------------------

    def run(self) -> Migration:
        for policy in self.policies:
            self.policy(policy)
        used = {self._ref_key(policy) for policy in self.policies}
        for key, repository in self.repositories.items():
            if key not in used:
                self.out.note(
                    repository.ref,
                    "no ImagePolicy uses it: only its registry settings are imported",
                )
                self.registry_of(repository)
        intervals = [interval for a in self.automations if (interval := self.automation(a))]
        if not self.automations:
            self.out.note("(input)", "no ImageUpdateAutomation: add `repositories` by hand")
        namespaces = {a.namespace for a in self.automations}
        for policy in self.policies:
            if self.automations and policy.namespace not in namespaces:
                self.out.note(
                    policy.ref,
                    "no ImageUpdateAutomation in its namespace used it; in image-bot any"
                    " marker naming it does",
                )
        if intervals:
            self.out.service = {"schedule": {"interval": _duration_text(min(intervals))}}
            if len(set(intervals)) > 1:
                self.out.note(
                    "(input)", "automations ran at different intervals: the shortest is used"
                )
        return self.out

    @staticmethod
    def _ref_key(policy: KubeObject) -> tuple[str, str]:
        ref = mapping(policy.spec.get("imageRepositoryRef"))
        return text(ref, "namespace") or policy.namespace or "", text(ref, "name") or ""


def from_flux(objects: Sequence[KubeObject]) -> Migration:
    """The image-bot config equivalent to the Flux image automation objects given."""
    return _FluxImport(objects).run()


def marker_notes(occurrences: Iterable[Occurrence], migration: Migration) -> list[str]:
    """Setter markers in the manifests whose policy the import did not produce (they would
    fall back to image-bot's other rules), one line each: `path:line: why`."""
    known = set(migration.policies)
    problems = []
    for occurrence in occurrences:
        marker = occurrence.policy  # resolved as config.named_policy does: `ns:name`, `name`
        if marker is None or marker in known or marker.rpartition(":")[2] in known:
            continue
        problems.append(
            f"{occurrence.path}:{occurrence.line}: the marker names policy {marker!r}, which"
            " no imported ImagePolicy defines"
        )
    return problems
