"""A hostile registry: a raw-socket HTTP server whose answers are scripted per path prefix.

`docker-registry` only ever answers well; the faults a registry (or whoever sits in front of
it) can send are written here byte by byte: bodies that never end or are far too large,
answers that trickle, garbage status lines, redirects and token realms on other hosts,
control characters in tags, deeply nested JSON. Every request is recorded (method, path,
headers), so a test can prove that credentials never reached a host they must not reach.

    with HostileServer() as bad:
        bad.route("/v2/a/tags/list", json_answer({"tags": ["1.0", "zz\\nimage: evil"]}))
        bad.route("/v2/b/tags/list", endless())
        ... image names f"{bad.host}/a" ...

Behaviours are small functions of a `Reply` (the socket, with helpers); unknown paths get
a distribution-style 404. `127.0.0.2` is loopback too, so `HostileServer("127.0.0.2")` is
"another host" for a registry on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

__all__ = [
    "Behaviour",
    "HostileServer",
    "Recorded",
    "Reply",
    "after_basic_challenge",
    "answer",
    "endless",
    "huge",
    "json_answer",
    "raw",
    "redirect",
    "trickle",
]


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names


class Reply:
    """Writes an answer on the request's socket; a behaviour calls its methods."""

    def __init__(self, sock: socket.socket, request: Recorded) -> None:
        self.sock = sock
        self.request = request

    def send(self, data: bytes) -> bool:
        """Write `data`; False once the client has gone away."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def head(self, status: int, headers: Mapping[str, str]) -> bool:
        """The status line and headers."""
        lines = [f"HTTP/1.1 {status} X"] + [f"{name}: {value}" for name, value in headers.items()]
        return self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


Behaviour = Callable[[Reply], None]


def answer(
    status: int = 200, body: bytes = b"", headers: Mapping[str, str] | None = None
) -> Behaviour:
    """A complete, well-formed answer."""

    def behave(reply: Reply) -> None:
        sent = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
        if reply.head(status, sent) and reply.request.method != "HEAD":
            reply.send(body)

    return behave


def json_answer(
    value: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Behaviour:
    """A JSON answer (`json.dumps` escapes control characters in strings, as JSON must)."""
    return answer(status, json.dumps(value).encode(), {"Content-Type": "application/json",
                                                         **(headers or {})})  # fmt: skip


def raw(data: bytes) -> Behaviour:
    """Exactly these bytes, then the connection closes (garbage status lines, cut answers)."""

    def behave(reply: Reply) -> None:
        reply.send(data)

    return behave


def redirect(location: str, status: int = 302) -> Behaviour:
    """A redirect whose body would never end if anybody read it."""

    def behave(reply: Reply) -> None:
        if reply.head(status, {"Location": location, "Content-Length": str(1 << 40)}):
            chunk = b"x" * 65536
            while reply.send(chunk):
                pass

    return behave


def endless(prefix: bytes = b'{"tags": ["', chunk: bytes = b"a" * 65536) -> Behaviour:
    """A chunked 200 answer that never ends (until the client hangs up)."""

    def behave(reply: Reply) -> None:
        if not reply.head(
            200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        ):
            return
        piece = prefix
        while reply.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n"):
            piece = chunk

    return behave


def huge(size: int, prefix: bytes = b'{"tags": ["') -> Behaviour:
    """A 200 answer that declares `size` bytes and sends them (tags of one long name)."""

    def behave(reply: Reply) -> None:
        headers = {"Content-Type": "application/json", "Content-Length": str(size)}
        if not reply.head(200, headers) or not reply.send(prefix):
            return
        left, chunk = size - len(prefix), b"b" * 65536
        while left > 0 and reply.send(chunk[: min(left, len(chunk))]):
            left -= len(chunk)

    return behave


def trickle(body: bytes, every: float = 0.2) -> Behaviour:
    """A 200 answer sent one byte at a time, `every` seconds apart (each read is quick)."""

    def behave(reply: Reply) -> None:
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        if not reply.head(200, headers):
            return
        for index in range(len(body)):
            time.sleep(every)
            if not reply.send(body[index : index + 1]):
                return

    return behave


def after_basic_challenge(behaviour: Behaviour) -> Behaviour:
    """`401 Basic` until a request carries credentials, then `behaviour`."""

    def behave(reply: Reply) -> None:
        if "authorization" not in reply.request.headers:
            answer(401, b"", {"WWW-Authenticate": 'Basic realm="r"'})(reply)
        else:
            behaviour(reply)

    return behave


def _not_found(reply: Reply) -> None:
    json_answer({"errors": [{"code": "NAME_UNKNOWN", "message": "unknown"}]}, 404)(reply)


@dataclass
class HostileServer:
    """Scripted answers on `address`:PORT; `requests` lists what arrived, in order."""

    address: str = "127.0.0.1"
    routes: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer((self.address, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.host = f"{self.address}:{self.port}"
        self.url = f"http://{self.host}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def route(self, prefix: str, behaviour: Behaviour) -> None:
        """Answer requests whose path starts with `prefix` (the longest prefix wins)."""
        self.routes[prefix] = behaviour

    def seen(self, prefix: str = "") -> list[Recorded]:
        """The recorded requests whose path starts with `prefix`."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(30)
        request = _read_request(sock)
        if request is None:
            return
        with self._lock:
            self.requests.append(request)
        matches = [prefix for prefix in self.routes if request.path.startswith(prefix)]
        behaviour = self.routes[max(matches, key=len)] if matches else _not_found
        try:
            behaviour(Reply(sock, request))
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _read_request(sock: socket.socket) -> Recorded | None:
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except OSError:
            return None
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, path, *_ = [*head[0].split(" "), "", ""]
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Recorded(method, path, headers)
