"""ACR: an Azure AD token from azure-identity, exchanged for an ACR refresh token.

`DefaultAzureCredential` finds the identity (environment, AKS workload identity, managed
identity, Azure CLI login). Its token goes to the registry's `/oauth2/exchange` (on the host
of the registry's token realm) for an ACR refresh token, which the ordinary Bearer flow then
trades for access tokens (`grant_type=refresh_token`), like `docker login` with an identity
token does. ACR refresh tokens live about three hours.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json

import azure.core.exceptions
import azure.identity
import httpx

from image_bot.errors import RegistryAuthError, register_secret
from image_bot.json_input import load_json
from image_bot.scan.auth import pick_challenge
from image_bot.scan.cloud.provider import CloudContext, Issued
from image_bot.scan.dockerconfig import Credentials
from image_bot.scan.transport import ExchangeFailed, exchange

__all__ = ["AcrProvider"]

_SCOPE = "https://management.azure.com/.default"
_USER = "00000000-0000-0000-0000-000000000000"  # what ACR's identity-token logins call the user
_MAX_ANSWER = 1 << 20


def _claims(jwt: str) -> dict[str, object]:
    """The payload of a JWT, unverified (read for `tid` and `exp` only); {} if unreadable."""
    try:
        part = jwt.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return payload if isinstance(payload, dict) else {}


def _azure_token(host: str) -> tuple[str, float]:
    try:
        with azure.identity.DefaultAzureCredential() as credential:
            token = credential.get_token(_SCOPE)
    except azure.core.exceptions.ClientAuthenticationError as error:
        reason = str(error).strip().splitlines()[0][:300] if str(error).strip() else "no identity"
        raise RegistryAuthError(host, f"acr: no Azure identity: {reason}") from None
    register_secret(token.token)
    return token.token, float(token.expires_on)


class AcrProvider:
    """Azure Container Registry credentials (`image-bot[azure]`)."""

    extra = "azure"

    async def issue(self, context: CloudContext) -> Issued:
        """Find the realm, get an Azure AD token, exchange it for an ACR refresh token."""
        host = context.endpoint.host
        realm, service = await self._realm(context)
        aad_token, aad_expires = await asyncio.to_thread(_azure_token, host)
        form = {"grant_type": "access_token", "service": service, "access_token": aad_token}
        tenant = _claims(aad_token).get("tid")
        if isinstance(tenant, str):
            form["tenant"] = tenant
        url = realm.copy_with(path="/oauth2/exchange", query=None)
        answer = await self._send(context, context.client.build_request("POST", url, data=form))
        if not answer.is_success:
            raise RegistryAuthError(host, f"acr: the exchange refused the Azure token "
                                          f"(HTTP {answer.status_code})")  # fmt: skip
        try:
            body = load_json(answer.content)
        except ValueError:
            body = None
        refresh = body.get("refresh_token") if isinstance(body, dict) else None
        if not isinstance(refresh, str) or not refresh:
            raise RegistryAuthError(host, "acr: the exchange sent no refresh_token")
        expiry = _claims(refresh).get("exp")
        expires_at = float(expiry) if isinstance(expiry, int | float) else aad_expires
        return Issued(Credentials(username=_USER, identity_token=refresh), expires_at)

    async def _realm(self, context: CloudContext) -> tuple[httpx.URL, str]:
        """The token realm and service the registry names in its `401` to `GET /v2/`."""
        host = context.endpoint.host
        probe = context.client.build_request("GET", context.endpoint.base_url.join("/v2/"))
        answer = await self._send(context, probe)
        challenge = pick_challenge(answer.headers.get_list("www-authenticate"))
        realm = challenge.realm if challenge is not None else None
        if challenge is None or challenge.scheme != "bearer" or not realm:
            raise RegistryAuthError(host, "acr: the registry asked for no Bearer token at /v2/")
        try:
            url = httpx.URL(realm)
        except httpx.InvalidURL:
            raise RegistryAuthError(host, f"acr: the realm {realm[:100]!r} is no URL") from None
        refusal = context.endpoint.refusal(url)
        if refusal is not None:
            raise RegistryAuthError(host, f"refusing to send the Azure token to {url}: {refusal}")
        return url, challenge.params.get("service", context.endpoint.base_url.host)

    async def _send(self, context: CloudContext, request: httpx.Request) -> httpx.Response:
        try:
            return await exchange(
                context.client,
                request,
                deadline=context.deadline,
                max_bytes=_MAX_ANSWER,
                follow_redirects=False,
            )
        except ExchangeFailed as failure:
            raise RegistryAuthError(context.endpoint.host, f"acr: {failure.reason}") from None
