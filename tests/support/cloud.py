"""Local stand-ins for the cloud identity endpoints the cloud-registry auth talks to.

Each implements the documented endpoint the real SDK calls, so google-auth and
azure-identity run unmodified against them (AWS runs against `moto`'s real server instead):

- `GoogleTokenEndpoint`: the OAuth2 token endpoint of a service account key file
  (`token_uri`): verifies the RS256 JWT-bearer assertion and answers an access token.
- `AppServiceIdentity`: Azure's App Service managed identity endpoint (`IDENTITY_ENDPOINT`,
  `IDENTITY_HEADER`), answering an Azure AD access token for the resource asked.
- `AcrTokenServer`: a `TokenServer` that also speaks ACR's flows: `POST /oauth2/exchange`
  (an Azure AD token for a refresh token) and `POST /token` with `grant_type=refresh_token`.

Each counts what it issued, so tests can prove that tokens are cached.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.registry import TokenServer

__all__ = ["AcrTokenServer", "AppServiceIdentity", "GoogleTokenEndpoint", "unsigned_jwt"]

Answer = tuple[int, dict[str, object]]
GOOGLE_AUDIENCE = "https://oauth2.googleapis.com/token"


def unsigned_jwt(claims: dict[str, object]) -> str:
    """A JWT-shaped token (header.payload.signature) whose claims clients may read."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class _JsonServer:
    """A threaded HTTP server on 127.0.0.1 whose `answer(method, path, query, form, headers)`
    gives (status, JSON body)."""

    def __init__(self, answer: Callable[[str, str, dict[str, str], dict[str, str]], Answer]):
        answer_fn = answer

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def _handle(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                params = dict(urllib.parse.parse_qsl(url.query)) | dict(
                    urllib.parse.parse_qsl(body)
                )
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer_body = answer_fn(self.command, url.path, params, headers)
                data = json.dumps(answer_body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle  # noqa: N815 (http.server names handlers so)

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass
class GoogleTokenEndpoint:
    """Google's OAuth2 token endpoint for one service account (key made here)."""

    directory: Path
    access_token: str = "ya29.local-access-token-0123456789"
    issued: int = 0
    email: str = "image-bot@project.iam.gserviceaccount.com"

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._server = _JsonServer(self._answer)
        self.token_uri = f"{self._server.url}/token"
        self.key_file = self.directory / "service-account.json"
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.key_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "project",
                    "private_key_id": "key-1",
                    "private_key": pem,
                    "client_email": self.email,
                    "client_id": "1234567890",
                    "token_uri": self.token_uri,
                }
            )
        )

    def _answer(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> Answer:
        if (method, path) != ("POST", "/token"):
            return 404, {"error": "not_found"}
        if params.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                params.get("assertion", ""),
                self._key.public_key(),
                algorithms=["RS256"],
                audience=GOOGLE_AUDIENCE,  # what Google's docs ask for, whatever token_uri says
            )
        except jwt.PyJWTError as error:
            return 400, {"error": "invalid_grant", "error_description": str(error)}
        if claims.get("iss") != self.email or "cloud-platform" not in claims.get("scope", ""):
            return 400, {"error": "invalid_scope"}
        self.issued += 1
        return 200, {"access_token": self.access_token, "expires_in": 3600, "token_type": "Bearer"}

    def close(self) -> None:
        self._server.close()


@dataclass
class AppServiceIdentity:
    """Azure App Service's managed identity endpoint for one identity."""

    secret: str = "identity-header-secret"
    tenant: str = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    issued: int = 0
    tokens: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = _JsonServer(self._answer)
        self.endpoint = f"{self._server.url}/msi/token"

    def _answer(
        self, method: str, path: str, params: dict[str, str], headers: dict[str, str]
    ) -> Answer:
        if (method, path) != ("GET", "/msi/token"):
            return 404, {"error": "not_found"}
        if headers.get("x-identity-header") != self.secret:
            return 401, {"statusCode": 401, "message": "bad identity header"}
        if params.get("resource") != "https://management.azure.com":
            return 400, {"statusCode": 400, "message": "unknown resource"}
        self.issued += 1
        expires = int(time.time()) + 3600
        token = unsigned_jwt({"tid": self.tenant, "aud": params["resource"], "exp": expires,
                              "n": self.issued})  # fmt: skip
        self.tokens.append(token)
        return 200, {"access_token": token, "expires_on": str(expires),
                     "resource": params["resource"], "token_type": "Bearer"}  # fmt: skip

    def close(self) -> None:
        self._server.close()


@dataclass
class AcrTokenServer(TokenServer):
    """A TokenServer that also exchanges Azure AD tokens for ACR refresh tokens and takes
    `POST /token` with `grant_type=refresh_token`, as ACR's token service does."""

    identity: AppServiceIdentity | None = None
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> user
    exchanges: list[dict[str, str]] = field(default_factory=list)

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self
        base = super()._handler()

        class Handler(base):  # type: ignore[valid-type,misc]
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                path = urllib.parse.urlsplit(self.path).path
                status, body = server._post(path, form)
                self._send(status, body)

        return Handler

    def _post(self, path: str, form: dict[str, str]) -> Answer:
        if path == "/oauth2/exchange":
            self.exchanges.append(form)
            known = self.identity.tokens if self.identity is not None else []
            if form.get("grant_type") != "access_token" or form.get("access_token") not in known:
                return 401, {"errors": [{"code": "UNAUTHORIZED"}]}
            refresh = unsigned_jwt({"exp": int(time.time()) + 3 * 3600, "n": len(self.exchanges)})
            self.refresh_tokens[refresh] = "00000000-0000-0000-0000-000000000000"
            return 200, {"refresh_token": refresh}
        if path == "/token" and form.get("grant_type") == "refresh_token":
            with self._lock:
                self.requests += 1
            user = self.refresh_tokens.get(form.get("refresh_token", ""))
            if user is None:
                return 401, {"errors": [{"code": "UNAUTHORIZED"}]}
            return 200, self.issue(user, form.get("scope", "").split(" "))
        return 404, {"errors": [{"code": "NOT_FOUND"}]}
