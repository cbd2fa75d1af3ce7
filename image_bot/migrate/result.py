"""What an importer builds: the config's sections as plain data, comments for the reader,
and notes on what the source said that the config does not express (or expresses
differently). Shared helpers: registry credentials as `${ENV}` placeholders, a forge from a
git URL."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Key", "Migration", "Note", "env_name", "forge_for_url"]

Key = tuple[str, str | int]  # (section, name or index): where a comment goes
_NOT_ENV = re.compile(r"[^A-Za-z0-9]+")
_SCP_LIKE = re.compile(r"^[\w.-]+@(?P<host>[\w.-]+):")
_FORGE_TOKENS = {"github.com": ("github", "GITHUB_TOKEN"), "gitlab.com": ("gitlab", "GITLAB_TOKEN")}


@dataclass(frozen=True, slots=True)
class Note:
    """Something the source says that the generated config does not carry over as it was."""

    source: str  # `ImagePolicy flux-system/app`, `apps/deploy.yaml:12`
    text: str

    def __str__(self) -> str:
        return f"{self.source}: {self.text}"


@dataclass
class Migration:
    """The config an importer built, section by section, in the order they are written."""

    tool: str  # `Flux`, `Argo CD Image Updater`
    registries: dict[str, dict[str, object]] = field(default_factory=dict)  # by host
    policies: dict[str, dict[str, object]] = field(default_factory=dict)
    images: list[dict[str, object]] = field(default_factory=list)
    repositories: list[dict[str, object]] = field(default_factory=list)
    service: dict[str, object] = field(default_factory=dict)
    comments: dict[Key, list[str]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    def note(self, source: str, text: str) -> None:
        """Record something not carried over (listed atop the file and on stderr)."""
        note = Note(source, text)
        if note not in self.notes:
            self.notes.append(note)

    def comment(self, key: Key, text: str) -> None:
        """A comment line above the entry `key` of the generated file."""
        lines = self.comments.setdefault(key, [])
        if text not in lines:
            lines.append(text)

    def config(self) -> dict[str, object]:
        """The config mapping (sections left out when empty)."""
        sections: dict[str, object] = {
            "registries": list(self.registries.values()),
            "policies": self.policies,
            "images": self.images,
            "repositories": self.repositories,
            "service": self.service,
        }
        return {name: value for name, value in sections.items() if value}

    def registry(self, host: str, source: str) -> dict[str, object]:
        """The `registries` entry of `host` (made on first use)."""
        if host not in self.registries:
            self.registries[host] = {"host": host}
            self.comment(("registries", host), f"from {source}")
        return self.registries[host]

    def credentials(self, host: str, secret: str, source: str, how: str) -> None:
        """`username`/`password` of `host` as `${SECRET_USERNAME}`/`${SECRET_PASSWORD}`
        placeholders named after `secret`; `how` says where the values come from. A host
        already given other credentials keeps them (noted)."""
        entry = self.registry(host, source)
        prefix = env_name(secret)
        username, password = f"${{{prefix}_USERNAME}}", f"${{{prefix}_PASSWORD}}"
        if "username" in entry and entry["username"] != username:
            self.note(
                source,
                f"{host} already has credentials from another secret; {secret} is not used"
                " (image-bot has one set of credentials per registry host)",
            )
            return
        entry["username"], entry["password"] = username, password
        self.comment(("registries", host), how.format(username=username, password=password))


def env_name(text: str) -> str:
    """An environment variable name made of `text`: `my-ns/regcred` -> `MY_NS_REGCRED`."""
    name = _NOT_ENV.sub("_", text).strip("_").upper() or "SECRET"
    return f"X_{name}" if name[0].isdigit() else name


def _git_host(url: str) -> str:
    scp = _SCP_LIKE.match(url)
    if scp is not None:
        return scp.group("host").lower()
    return (urlsplit(url).hostname or "").lower()


def forge_for_url(url: str) -> tuple[object, str | None]:
    """The `forge` of a repository at `url`: github.com and gitlab.com with a token
    placeholder; anything else `local` (branches only) and a note saying so."""
    known = _FORGE_TOKENS.get(_git_host(url))
    if known is not None:
        kind, variable = known
        return {"type": kind, "token": f"${{{variable}}}"}, None
    return "local", (
        "forge: local pushes branches only; for pull requests on a self-hosted GitHub or"
        " GitLab set forge type, url and token"
    )
