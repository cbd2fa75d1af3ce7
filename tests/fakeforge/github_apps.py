"""GitHub App endpoints of the fake forge: the App authenticates with an RS256 JWT that is
really verified (signature with the App's public key, `iss`, `iat`/`exp` and GitHub's
ten-minute cap), then trades it for installation tokens limited to the installation's
repositories and expiring after an hour, as on GitHub."""

from __future__ import annotations

import functools
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakeforge.exchange import ApiError, ApiRequest, ApiResponse, Handler
from tests.fakeforge.github_api import DOCS, not_found
from tests.fakeforge.github_render import GitHubRenderer
from tests.fakeforge.pulls import find_repo
from tests.fakeforge.state import App, ForgeState, User

__all__ = ["JWT_OPERATIONS", "GitHubApps", "new_private_key", "verify_app_jwt"]

JWT_OPERATIONS = frozenset(
    {
        "apps/list-installations",
        "apps/create-installation-access-token",
        "apps/get-repo-installation",
    }
)
TOKEN_LIFETIME = 3600
MAX_JWT_LIFETIME = 600 + 60  # GitHub: exp at most 10 minutes after iat (+ clock drift)


@functools.cache
def new_private_key() -> bytes:
    """An RSA private key (PEM) for a test App; generated once per process (it is slow)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def verify_app_jwt(forge: ForgeState, token: str) -> User | None:
    """The App (as a principal) a JWT proves to be, or None when it proves nothing."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        app = forge.apps.get(int(claims["iss"]))
        if app is None:
            return None
        claims = jwt.decode(
            token,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"]},
            leeway=60,
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None
    if int(claims["exp"]) - int(claims["iat"]) > MAX_JWT_LIFETIME:
        return None
    return User(id=app.id, login=app.slug, token="")


class GitHubApps:
    """App and installation operations keyed by operationId."""

    def __init__(self, render: GitHubRenderer) -> None:
        self.r = render
        self.handlers: dict[str, Handler] = {
            "apps/list-installations": self.list_installations,
            "apps/create-installation-access-token": self.create_token,
            "apps/get-repo-installation": self.repo_installation,
            "apps/list-repos-accessible-to-installation": self.installation_repos,
        }

    @staticmethod
    def _app(forge: ForgeState, req: ApiRequest) -> App:
        return forge.apps[req.user.id]

    def _installation(self, app: App, installation_id: int) -> dict[str, Any]:
        account, _ = app.installations[installation_id]
        out: dict[str, Any] = self.r.contract.example("installation")
        api = self.r.api
        out.update(
            id=installation_id,
            account=self.r.user(account),
            repository_selection="selected",
            access_tokens_url=f"{api}/app/installations/{installation_id}/access_tokens",
            repositories_url=f"{api}/installation/repositories",
            html_url=f"{self.r.web}/organizations/{account}/settings/installations/{installation_id}",
            app_id=app.id,
            app_slug=app.slug,
            target_id=self.r.user(account)["id"],
            target_type="Organization",
            permissions={"contents": "write", "pull_requests": "write", "metadata": "read"},
            events=["push", "pull_request"],
        )
        return out

    def list_installations(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /app/installations (JWT)."""
        app = self._app(forge, req)
        return ApiResponse(200, [self._installation(app, i) for i in sorted(app.installations)])

    def repo_installation(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /repos/{owner}/{repo}/installation (JWT)."""
        app = self._app(forge, req)
        wanted = f"{req.path_params['owner']}/{req.path_params['repo']}".lower()
        for installation_id, (_, repos) in sorted(app.installations.items()):
            if wanted in {r.lower() for r in repos}:
                return ApiResponse(200, self._installation(app, installation_id))
        raise not_found()

    def create_token(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """POST /app/installations/{installation_id}/access_tokens (JWT): a `ghs_` token for
        the installation's repositories (optionally narrowed by `repositories`)."""
        app = self._app(forge, req)
        installation_id = int(req.path_params["installation_id"])
        if installation_id not in app.installations:
            raise not_found()
        _, repos = app.installations[installation_id]
        narrowed = (req.body or {}).get("repositories")
        if narrowed:
            repos = [r for r in repos if r.rsplit("/", 1)[-1] in narrowed]
            if len(repos) != len(narrowed):
                body = {
                    "message": "There is at least one repository that does not exist or is "
                    "not accessible to the parent installation.",
                    "documentation_url": DOCS,
                }
                raise ApiError(422, body)
        expires = time.time() + TOKEN_LIFETIME
        token = User(
            id=app.id,
            login=f"{app.slug}[bot]",
            token=f"ghs_{secrets.token_hex(18)}",
            repos=frozenset(r.lower() for r in repos),
            expires=expires,
        )
        forge.add_token(token)
        out: dict[str, Any] = self.r.contract.example("installation-token")
        out.update(
            token=token.token,
            expires_at=datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            permissions={"contents": "write", "pull_requests": "write", "metadata": "read"},
            repository_selection="selected",
            repositories=[self.r.repository_simple(r) for n in repos if (r := find_repo(forge, n))],
        )
        return ApiResponse(201, out)

    def installation_repos(self, forge: ForgeState, req: ApiRequest) -> ApiResponse:
        """GET /installation/repositories (installation token)."""
        if req.user.repos is None:
            message = "This endpoint can only be accessed with an installation token"
            raise ApiError(403, {"message": message, "documentation_url": DOCS})
        names = sorted(req.user.repos)
        repos = [r for n in names if (r := find_repo(forge, n))]
        body = {
            "total_count": len(repos),
            "repository_selection": "selected",
            "repositories": [self.r.repository_simple(r) for r in repos],
        }
        return ApiResponse(200, body)
