"""The ImageBotError tree, exit codes and secret redaction.

```
ImageBotError                      message redacted in __init__; exit_code = 1
├── ConfigError                    file, line, field; exit_code = 2 (bad policies land here too)
├── InvalidReference               the text and why; exit_code = 2
├── ManifestError                  path, line: unparseable or ambiguous; reported, never fatal
├── RegistryError                  registry host, image
│   ├── RegistryAuthError
│   ├── ImageNotFound
│   └── RegistryUnavailable        after retries; carries retry_after
├── GitError                       command (args redacted), stderr tail
│   └── PushRejected               non-fast-forward or lease failed
├── ForgeError                     forge, repository
│   ├── ForgeAuthError
│   ├── RateLimited                retry_after
│   └── PullRequestConflict
└── WebhookPayloadError            an authenticated delivery of the wrong shape (HTTP 400)
```

Every message passes through `redact` when the exception is built, so a secret that
reached an error message (a URL with credentials, an Authorization header, a token
registered with `register_secret`) never reaches logs, reports or PR bodies.
"""

from __future__ import annotations

import re
from typing import ClassVar

__all__ = [
    "ConfigError",
    "ForgeAuthError",
    "ForgeError",
    "GitError",
    "ImageBotError",
    "ImageNotFound",
    "InvalidReference",
    "ManifestError",
    "PullRequestConflict",
    "PushRejected",
    "RateLimited",
    "RegistryAuthError",
    "RegistryError",
    "RegistryUnavailable",
    "WebhookPayloadError",
    "redact",
    "register_secret",
]

_REDACTED = "***"
_known_secrets: set[str] = set()

_USERINFO = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:(?P<secret>[^/\s@]+)@")
# tokens with a well-known prefix (GitHub, GitLab), wherever they appear
_PREFIXED_TOKEN = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{8,}|github_pat_[A-Za-z0-9_]{8,}|glpat-[A-Za-z0-9_-]{8,})"
)
# scheme://user:password@host -> scheme://***@host
_URL_CREDENTIALS = re.compile(r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+(?::[^/\s@]*)?@")
# Authorization: Bearer xyz / Basic xyz, and a bare "Bearer xyz"
_SCHEME_CREDENTIAL = re.compile(
    r"(?i)\b(?P<pre>bearer|basic|token)\s+(?P<value>[A-Za-z0-9._~+/=-]{6,})"
)
# key=value, key: value, "key": "value" for obviously secret keys
_KEY_VALUE = re.compile(
    r"(?i)(?P<key>[\"']?(?:password|passwd|secret|token|access_token|private_token"
    r"|api_key|apikey)[\"']?)(?P<sep>\s*[:=]\s*)(?P<quote>[\"']?)(?P<value>[^\"'\s&,}]+)"
)
_SECRET_MARKS = frozenset("0123456789+/=_~")


def _looks_secret(value: str) -> bool:
    """Whether an unquoted word after `key:` or `Bearer` is a credential, not prose.

    Credentials (tokens, base64, passwords) carry digits, symbols or inner capitals;
    words do not: `token: No such file` keeps its `No`, `basic authentication` its word.
    """
    if len(value) < 6:
        return False
    return any(c in _SECRET_MARKS for c in value) or any(c.isupper() for c in value[1:])


def _mask_scheme_credential(match: re.Match[str]) -> str:
    if not _looks_secret(match["value"]):
        return match[0]
    return f"{match['pre']} {_REDACTED}"


def _mask_key_value(match: re.Match[str]) -> str:
    # `key=value` (query strings, env) and quoted values are values; after `key: ` an
    # unquoted word is masked only when it looks like a credential
    assigned = match["sep"].strip() == "="
    if not (assigned or match["quote"] or _looks_secret(match["value"])):
        return match[0]
    return f"{match['key']}{match['sep']}{match['quote']}{_REDACTED}"


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` removes it wherever it shows up."""
    if value and len(value) >= 4:
        _known_secrets.add(value)


def redact(text: str) -> str:
    """Return `text` with registered secrets and credential-looking substrings masked.

    Known secrets (registered, or seen as the password of a URL) are masked wherever they
    appear. Patterns mask only a value that follows its key or scheme (`password=`,
    `"token": "..."`, `Bearer ...`, `user:pass@`), or a token with a well-known prefix
    (`ghp_`, `glpat-`); ordinary words after such keys are left alone.
    """
    for match in _USERINFO.finditer(text):
        register_secret(match.group("secret"))
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _REDACTED)
    text = _PREFIXED_TOKEN.sub(_REDACTED, text)
    text = _URL_CREDENTIALS.sub(rf"\g<pre>{_REDACTED}@", text)
    text = _SCHEME_CREDENTIAL.sub(_mask_scheme_credential, text)
    return _KEY_VALUE.sub(_mask_key_value, text)


class ImageBotError(Exception):
    """Root of every error image-bot raises on purpose."""

    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        self.message = redact(message)
        super().__init__(self.message)


class ConfigError(ImageBotError):
    """The configuration (file or command line) is invalid; names file, line and field."""

    exit_code: ClassVar[int] = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        where = ":".join(str(p) for p in (file, line) if p is not None)
        prefix = f"{where}: " if where else ""
        field_part = f"{field}: " if field else ""
        super().__init__(f"{prefix}{field_part}{message}")
        # Redact the message alone: after a field such as `forge.token` or `password`, the
        # `key: value` rule would otherwise mask the message's first word ("environment ...").
        self.message = f"{prefix}{field_part}{redact(message)}"
        self.args = (self.message,)


class InvalidReference(ImageBotError):
    """Text that is not a valid image reference (or tag); never sent to a registry."""

    exit_code: ClassVar[int] = 2

    def __init__(self, text: str, why: str) -> None:
        self.text = text
        self.why = why
        super().__init__(f"invalid image reference {text!r}: {why}")


class ManifestError(ImageBotError):
    """A manifest that cannot be parsed or edited safely; reported as skipped."""

    def __init__(self, path: str, reason: str, *, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class RegistryError(ImageBotError):
    """A registry request failed; says which registry and image, and why."""

    def __init__(self, registry: str, message: str, *, image: str | None = None) -> None:
        self.registry = registry
        self.image = image
        subject = f"{registry} ({image})" if image else registry
        super().__init__(f"registry {subject}: {message}")


class RegistryAuthError(RegistryError):
    """The registry refused our credentials (or we have none and it wants some)."""


class ImageNotFound(RegistryError):
    """The repository, tag or manifest does not exist."""


class RegistryUnavailable(RegistryError):
    """The registry kept failing (5xx, 429, connection errors) after all retries."""

    def __init__(
        self,
        registry: str,
        message: str,
        *,
        image: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(registry, message, image=image)


class GitError(ImageBotError):
    """A git command failed."""

    def __init__(self, command: str, stderr: str) -> None:
        self.command = redact(command)
        self.stderr = redact(stderr[-2000:])
        super().__init__(f"git {self.command} failed: {self.stderr.strip()}")


class PushRejected(GitError):
    """A push was refused (non-fast-forward or stale lease): start over from fresh state."""


class ForgeError(ImageBotError):
    """A forge (GitHub, GitLab) API call failed."""

    def __init__(self, forge: str, repository: str, message: str) -> None:
        self.forge = forge
        self.repository = repository
        super().__init__(f"{forge} {repository}: {message}")


class ForgeAuthError(ForgeError):
    """The forge refused our credentials."""


class RateLimited(ForgeError):
    """The forge asked us to slow down."""

    def __init__(
        self, forge: str, repository: str, message: str, *, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(forge, repository, message)


class PullRequestConflict(ForgeError):
    """The pull request cannot be created or updated as asked (it exists, it conflicts)."""


class WebhookPayloadError(ImageBotError):
    """An authenticated delivery whose body is not the shape its sender documents."""

    def __init__(self, source: str, why: str) -> None:
        self.source = source
        self.why = why
        super().__init__(f"{source} webhook: {why}")
