"""GAR/GCR: Google application default credentials, as user `oauth2accesstoken`.

ADC is `GOOGLE_APPLICATION_CREDENTIALS` (a service account or an authorized user file), the
gcloud user login, or the metadata server (GKE workload identity, GCE). The access token is
then the password of the registry's ordinary token exchange; it lives about an hour.
"""

from __future__ import annotations

import asyncio
from datetime import UTC

import google.auth
import google.auth.exceptions
import google.auth.transport.requests

from image_bot.errors import RegistryAuthError
from image_bot.scan.cloud.provider import CloudContext, Issued
from image_bot.scan.dockerconfig import Credentials

__all__ = ["GcrProvider"]

_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
_USER = "oauth2accesstoken"
_DEFAULT_LIFETIME = 3000.0  # when the credentials say nothing of their expiry


def _issue(host: str, now: float) -> Issued:
    try:
        credentials, _project = google.auth.default(scopes=_SCOPES)
        credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
    except google.auth.exceptions.GoogleAuthError as error:
        raise RegistryAuthError(host, f"gcr: {error}") from None
    token = credentials.token
    if not isinstance(token, str) or not token:
        raise RegistryAuthError(host, "gcr: the application default credentials gave no token")
    expiry = credentials.expiry  # naive UTC, or None
    expires_at = (
        expiry.replace(tzinfo=UTC).timestamp() if expiry is not None else now + _DEFAULT_LIFETIME
    )
    return Issued(Credentials(_USER, token), expires_at)


class GcrProvider:
    """Artifact Registry and Container Registry credentials (`image-bot[gcp]`)."""

    extra = "gcp"

    async def issue(self, context: CloudContext) -> Issued:
        """A fresh access token, fetched off the event loop (google-auth blocks)."""
        return await asyncio.to_thread(_issue, context.endpoint.host, context.clock())
