"""Argo CD Image Updater -> image-bot config: the `argocd-image-updater.argoproj.io/*`
annotations of Argo CD Applications.

Each image of an Application's `image-list` gets a named policy `<application>/<alias>` and
an `images` rule, and the Application's git source becomes a repository with `update:
configured`, so only the listed images are updated, as with Argo CD Image Updater. Argo CD
Image Updater changes the live Application or commits straight to its branch; image-bot edits
the manifests in git through pull requests. What does not map becomes a Note.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from image_bot.errors import InvalidReference
from image_bot.migrate.objects import KubeObject, field, mapping, text
from image_bot.migrate.result import Migration, forge_for_url
from image_bot.reference import parse_name

__all__ = ["PREFIX", "from_argocd"]

PREFIX = "argocd-image-updater.argoproj.io/"
_KNOWN_IMAGE_KEYS = frozenset(
    {
        "update-strategy", "allow-tags", "ignore-tags", "platforms", "pull-secret",
        "force-update", "helm.image-name", "helm.image-tag", "helm.image-spec",
        "kustomize.image-name",
    }
)  # fmt: skip
_KNOWN_APP_KEYS = frozenset(
    {
        "image-list", "write-back-method", "write-back-target", "git-branch", "git-repository",
        "update-strategy", "allow-tags", "ignore-tags", "platforms", "pull-secret",
        "force-update",
    }
)  # fmt: skip


Option = Callable[[str], str | None]  # an image's annotation (its own, else the app's)


@dataclass(frozen=True, slots=True)
class _Image:
    alias: str | None
    name: str  # as written, without the constraint
    constraint: str | None


def _image_list(value: str) -> list[_Image]:
    """`[alias=]image[:constraint]`, comma-separated (the constraint is after the last `:`
    that follows the last `/`, so `host:5000/img:1.x` keeps its port)."""
    images = []
    for item in value.split(","):
        spec = item.strip()
        if not spec:
            continue
        alias, equals, rest = spec.partition("=")
        if not equals:
            alias, rest = "", spec
        slash = rest.rfind("/")
        colon = rest.rfind(":")
        name, constraint = (rest[:colon], rest[colon + 1 :]) if colon > slash else (rest, "")
        images.append(_Image(alias.strip() or None, name.strip(), constraint.strip() or None))
    return images


class _ArgoImport:
    def __init__(self) -> None:
        self.out = Migration("Argo CD Image Updater")
        self.rules: dict[str, str] = {}  # image name -> the Application whose rule it is
        self.repository_index: dict[tuple[str, str], int] = {}

    def application(self, app: KubeObject) -> None:
        annotations = {
            key.removeprefix(PREFIX): str(value).strip()
            for key, value in mapping(field(app.data, "metadata", "annotations")).items()
            if key.startswith(PREFIX) and value is not None
        }
        listed = annotations.get("image-list")
        if not listed:
            return
        images = _image_list(listed)
        aliases = {image.alias.replace("/", "_") for image in images if image.alias}
        for key in sorted(annotations):
            alias, dot, option = key.partition(".")
            if key in _KNOWN_APP_KEYS:
                continue
            if dot and option in _KNOWN_IMAGE_KEYS and alias not in aliases:
                self.out.note(app.ref, f"{PREFIX}{key}: no image has the alias {alias!r}")
            elif not (dot and option in _KNOWN_IMAGE_KEYS):
                self.out.note(app.ref, f"{PREFIX}{key} is not imported")
        source = self._source(app, annotations)
        repository = self._repository(app, annotations, source) if source else None
        for image in images:
            self._image(app, image, annotations, source, repository)

    # --- one image ---------------------------------------------------------------------------

    def _option(self, annotations: Mapping[str, str], image: _Image, key: str) -> str | None:
        if image.alias:
            own = annotations.get(f"{image.alias.replace('/', '_')}.{key}")
            if own is not None:
                return own
        return annotations.get(key)

    def _image(
        self,
        app: KubeObject,
        image: _Image,
        annotations: Mapping[str, str],
        source: Mapping[str, object] | None,
        repository: dict[str, object] | None,
    ) -> None:
        try:
            host = parse_name(image.name).registry
        except InvalidReference as error:
            self.out.note(app.ref, f"image-list entry {image.name!r}: {error.why}")
            return
        name = f"{app.name}/{image.alias or image.name}"

        def option(key: str) -> str | None:
            return self._option(annotations, image, key)

        if image.name in self.rules:
            self.out.note(
                app.ref,
                f"{image.name} already follows {self.rules[image.name]}'s settings: image rules"
                " are global in image-bot (one per image), so this entry's are not imported",
            )
        else:
            self.rules[image.name] = app.ref
            self.out.policies[name] = self._policy(app, image, option)
            self.out.images.append({"name": image.name, "policy": name})
            entry = image.alias or image.name
            self.out.comment(("policies", name), f"from {app.ref}: image-list entry {entry}")
        secret = option("pull-secret")
        if secret:
            self._pull_secret(app, host, secret)
        if option("force-update") in ("true", "True"):
            self.out.note(
                app.ref,
                f"{image.alias or image.name}.force-update: image-bot updates references it"
                " finds in git; an image the manifests do not name is not added",
            )
        if source is not None and repository is not None:
            self._manifest_targets(app, image, option, annotations, source, repository)

    def _policy(self, app: KubeObject, image: _Image, option: Option) -> dict[str, object]:
        strategy = (option("update-strategy") or "semver").lower()
        made: dict[str, object] = {}
        shown = image.alias or image.name
        if strategy in ("latest", "newest-build"):
            made["newest-build"] = True
        elif strategy in ("name", "alphabetical"):
            made["alphabetical"] = "asc"
        elif strategy == "digest":
            made["digest"] = "follow"
            if image.constraint:
                self.out.note(
                    app.ref,
                    f"{shown}: update-strategy digest follows the tag written in the manifests"
                    f" (Argo CD followed {image.constraint!r})",
                )
        else:
            if strategy != "semver":
                self.out.note(
                    app.ref,
                    f"{shown}: update-strategy {strategy!r} is unknown;"
                    " semver is used (as Argo CD does)",
                )
            made["semver"] = image.constraint or "*"
        if image.constraint and strategy not in ("semver", "digest"):
            self.out.note(
                app.ref,
                f"{shown}: the constraint {image.constraint!r} has no effect with"
                f" {strategy} (as in Argo CD)",
            )
        allowed = option("allow-tags")
        if allowed and allowed != "any":
            if allowed.startswith("regexp:") and "digest" not in made:
                made["filter"] = {"pattern": allowed.removeprefix("regexp:")}
            else:
                self.out.note(app.ref, f"{shown}: allow-tags {allowed!r} is not imported")
        ignored = [tag.strip() for tag in (option("ignore-tags") or "").split(",") if tag.strip()]
        if ignored:
            made["ignore"] = ignored
        platforms = [p.strip() for p in (option("platforms") or "").split(",") if p.strip()]
        if platforms:
            made["platforms"] = platforms
            if "newest-build" not in made and "digest" not in made:
                self.out.note(
                    app.ref,
                    f"{shown}: platforms are checked for every strategy in image-bot (Argo CD"
                    " checked them for newest-build and digest only)",
                )
        return made

    def _pull_secret(self, app: KubeObject, host: str, secret: str) -> None:
        kind, _, reference = secret.partition(":")
        if kind in ("secret", "pullsecret"):
            name = reference.split("#", 1)[0]
            how = (
                f"credentials of Secret {name}"
                + (
                    f" (field {reference.split('#', 1)[1]}: user:password)"
                    if "#" in reference
                    else " (a docker config)"
                )
                + ": set {username} and {password} from it"
            )
            self.out.credentials(host, name, app.ref, how)
        elif kind == "env":
            self.out.credentials(
                host,
                reference,
                app.ref,
                f"${reference} held user:password: split it into {{username}} and {{password}}",
            )
        else:
            self.out.note(
                app.ref,
                f"pull-secret {kind}:...: image-bot runs no scripts for credentials; use a"
                f" docker credential helper in docker_config for {host}",
            )

    # --- where the manifests are ---------------------------------------------------------------

    def _source(
        self, app: KubeObject, annotations: Mapping[str, str]
    ) -> Mapping[str, object] | None:
        spec = app.spec
        source = mapping(spec.get("source"))
        sources = spec.get("sources")
        if not source and isinstance(sources, list):
            with_path = [mapping(item) for item in sources if mapping(item).get("path")]
            source = with_path[0] if with_path else {}
            if len(sources) > 1:
                self.out.note(
                    app.ref, "spec.sources: only the first source with a path is imported"
                )
        repository = annotations.get("git-repository") or text(source, "repoURL")
        if not repository:
            self.out.note(app.ref, "no spec.source: add its repository to `repositories` by hand")
            return None
        if text(source, "chart") and not annotations.get("git-repository"):
            self.out.note(
                app.ref,
                "spec.source is a Helm chart repository: image-bot edits git; add the git"
                " repository holding the values by hand",
            )
            return None
        return {**source, "repoURL": repository}

    def _repository(
        self, app: KubeObject, annotations: Mapping[str, str], source: Mapping[str, object]
    ) -> dict[str, object]:
        """The repository entry of the Application's source (shared by Applications with the
        same repository and base branch)."""
        url = str(source["repoURL"])
        revision = text(source, "targetRevision") or "HEAD"
        base_branch, _, write_branch = (annotations.get("git-branch") or "").partition(":")
        base = base_branch or revision
        if base == "HEAD":
            base = "main"
            self.out.note(app.ref, "targetRevision HEAD: the base branch is assumed to be main")
        if write_branch:
            self.out.note(
                app.ref, "git-branch: image-bot names its branches itself (branch_prefix + image)"
            )
        app_path = posixpath.normpath(text(source, "path") or ".")
        paths = [self._target_dir(app, annotations, app_path)]
        method = annotations.get("write-back-method") or "argocd"
        if method == "argocd":
            self.out.note(
                app.ref,
                "write-back-method argocd changed the live Application; image-bot changes the"
                " manifests in git, through pull requests",
            )
        elif method.startswith("git"):
            self.out.note(
                app.ref,
                "write-back-method git committed to the branch; image-bot opens pull requests"
                " (direct_commit: true pushes to the branch)"
                + (
                    "; its git credentials are the forge token or the URL's"
                    if ":" in method
                    else ""
                ),
            )
        key = (url, base)
        if key in self.repository_index:
            entry = self.out.repositories[self.repository_index[key]]
            listed = entry["paths"]
            if isinstance(listed, list):
                listed.extend(path for path in paths if path not in listed)
            self.out.comment(("repositories", self.repository_index[key]), f"and from {app.ref}")
            return entry
        forge, why = forge_for_url(url)
        if why:
            self.out.note(app.ref, why)
        self.repository_index[key] = len(self.out.repositories)
        self.out.comment(("repositories", len(self.out.repositories)), f"from {app.ref}")
        entry = {"url": url, "forge": forge, "base": base, "paths": paths, "update": "configured"}
        self.out.repositories.append(entry)
        return entry

    def _target_dir(self, app: KubeObject, annotations: Mapping[str, str], app_path: str) -> str:
        target = annotations.get("write-back-target") or ""
        kind, _, where = target.partition(":")
        if kind == "kustomization" and where:
            return _in_repository(app_path, where)
        if kind == "helmvalues" and where:
            return posixpath.dirname(_in_repository(app_path, where)) or "."
        if target and kind not in ("kustomization", "helmvalues"):
            self.out.note(app.ref, f"write-back-target {target!r} is not imported")
        return app_path

    def _manifest_targets(  # noqa: PLR0917  (one call site; the names say what each is)
        self,
        app: KubeObject,
        image: _Image,
        option: Option,
        annotations: Mapping[str, str],
        source: Mapping[str, object],
        repository: dict[str, object],
    ) -> None:
        """Helm parameters written to a values file (`write-back-target: helmvalues:FILE`)
        become `targets`; the rest is noted."""
        shown = image.alias or image.name
        tag, whole, name = (
            option("helm.image-tag"),
            option("helm.image-spec"),
            option("helm.image-name"),
        )
        kustomize_name = option("kustomize.image-name")
        if kustomize_name:
            self.out.note(
                app.ref,
                f"{shown}.kustomize.image-name: image-bot updates the kustomization images: entry"
                f" for {kustomize_name} when it exists (newName {image.name}); it does not add one",
            )
        if name and not whole:
            self.out.note(
                app.ref, f"{shown}.helm.image-name: image names are not changed, only tags"
            )
        if not (tag or whole):
            return
        kind, _, where = (annotations.get("write-back-target") or "").partition(":")
        if kind != "helmvalues" or not where:
            self.out.note(
                app.ref,
                f"{shown}: Argo CD set the Helm parameter {whole or tag} outside the values files;"
                " image-bot finds image tags in values files by their shape, or add a target",
            )
            return
        files = _in_repository(posixpath.normpath(text(source, "path") or "."), where)
        targets = repository.setdefault("targets", [])
        if isinstance(targets, list):
            targets.append(
                {
                    "files": files,
                    "path": whole or tag,
                    "image": image.name,
                    "part": "whole" if whole else "tag",
                }
            )


def _in_repository(app_path: str, where: str) -> str:
    """An annotation path: absolute from the repository root, else relative to the app."""
    joined = where.lstrip("/") if where.startswith("/") else posixpath.join(app_path, where)
    return posixpath.normpath(joined)


def from_argocd(objects: Sequence[KubeObject]) -> Migration:
    """The image-bot config equivalent to the Image Updater annotations of the Applications."""
    importer = _ArgoImport()
    for obj in objects:
        if obj.kind == "Application" and obj.group == "argoproj.io":
            importer.application(obj)
    return importer.out
