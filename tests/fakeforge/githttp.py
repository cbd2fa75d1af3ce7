"""Git smart HTTP for the fake forge: a small CGI bridge that runs `git http-backend` for
`/<owner>/<repo>.git/...`, after Basic auth with a forge token as the password
(`x-access-token:TOKEN` as on GitHub, `oauth2:TOKEN` as on GitLab)."""

from __future__ import annotations

import asyncio
import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response

from tests.fakeforge.barerepo import git_env
from tests.fakeforge.state import ForgeState, User

__all__ = ["basic_auth_user", "serve_git"]

REALM = 'Basic realm="fakeforge"'


def basic_auth_user(forge: ForgeState, header: str | None) -> User | None:
    """The account whose token is the password of a Basic `Authorization` header."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, _, password = decoded.partition(":")
    return forge.user_for_token(password)


def _split_cgi(output: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    ends = [i for i in (output.find(b"\r\n\r\n"), output.find(b"\n\n")) if i >= 0]
    cut = min(ends) if ends else len(output)
    sep = 4 if output[cut : cut + 4] == b"\r\n\r\n" else 2
    head, body = output[:cut].decode("latin-1"), output[cut + sep :]
    status, headers = 200, []
    for line in head.splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers.append((name.strip(), value.strip()))
    return status, headers, body


async def serve_git(request: Request, forge: ForgeState, repo_path: str, rest: str) -> Response:
    """Answer one git smart-HTTP request for `repo_path` (`owner/name.git`)."""
    user = basic_auth_user(forge, request.headers.get("authorization"))
    if user is None:
        return Response(b"Unauthorized\n", 401, {"WWW-Authenticate": REALM})
    with forge.lock:
        full_name = repo_path.removesuffix(".git")
        repo = next((r for k, r in forge.repos.items() if k.lower() == full_name.lower()), None)
        root = forge.git_root()
    if repo is None or not user.may_see(repo.full_name):
        return Response(b"Repository not found\n", 404)
    body = await request.body()
    env = {
        **git_env(user.login, f"{user.login}@users.fakeforge.invalid"),
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{repo.full_name}.git{rest}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.url.query,
        "CONTENT_TYPE": request.headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": user.login,
        "REMOTE_ADDR": "127.0.0.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if encoding := request.headers.get("content-encoding"):
        env["HTTP_CONTENT_ENCODING"] = encoding
    if protocol := request.headers.get("git-protocol"):
        env["GIT_PROTOCOL"] = protocol
    proc = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await proc.communicate(body)
    if proc.returncode != 0 and not out:
        return Response(err, 500)
    status, headers, payload = _split_cgi(out)
    response = Response(payload, status)
    for name, value in headers:
        response.headers.append(name, value)
    return response
