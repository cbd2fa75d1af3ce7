"""The TLS context of the registry clients: its trust store is read at the first handshake.

Reading the CA bundle (certifi's, or `SSL_CERT_FILE` / `SSL_CERT_DIR` as httpx reads them)
costs ~0.02-0.04 s of CPU, and httpx reads it whenever a client is made. A pass whose
registries all speak plain http (a local or in-cluster registry marked `insecure`) never
needs it; every TLS connection still verifies against it, because it is loaded before the
first TLS object is made from the context.
"""

from __future__ import annotations

import os
import ssl
import threading
from typing import Any, Self

__all__ = ["DeferredTrustContext"]


class DeferredTrustContext(ssl.SSLContext):
    """A client `SSLContext` with the defaults of `ssl.create_default_context` (hostname
    checked, certificate required) that loads its CA certificates when it first wraps a
    socket or a BIO; `loaded` says whether it has."""

    def __new__(cls) -> Self:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.loaded = False
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog:  # as ssl.create_default_context does
            self.keylog_filename = keylog

    def load_trust(self) -> None:
        """Read the CA certificates now (once): `SSL_CERT_FILE`, else `SSL_CERT_DIR`, else
        certifi's bundle, the order httpx uses."""
        with self._lock:
            if self.loaded:
                return
            if os.environ.get("SSL_CERT_FILE"):
                self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
            else:
                import certifi  # noqa: PLC0415  (only when a TLS connection is made)

                self.load_verify_locations(cafile=certifi.where())
            self.loaded = True

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_trust()
        return super().wrap_bio(*args, **kwargs)

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_trust()
        return super().wrap_socket(*args, **kwargs)
