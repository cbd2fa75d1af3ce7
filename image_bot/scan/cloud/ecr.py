"""ECR: `GetAuthorizationToken` through botocore's standard credential chain.

Environment keys, a profile (`aws.profile`, else `AWS_PROFILE`), IRSA's web identity
(`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`), container and instance roles all come
from botocore itself; `aws.role_arn` assumes a role first (another account's registry).
The token is `AWS:<password>` for the registry's Basic auth, valid for 12 hours.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

import botocore.exceptions
import botocore.session

from image_bot.errors import RegistryAuthError
from image_bot.scan.cloud.kinds import ecr_region
from image_bot.scan.cloud.provider import CloudContext, Issued
from image_bot.scan.dockerconfig import Credentials
from image_bot.scan.hosts import RegistrySettings

__all__ = ["EcrProvider"]


def _ecr_client(settings: RegistrySettings) -> object:
    session = botocore.session.Session(profile=settings.aws_profile)
    region = ecr_region(settings.host) or session.get_config_variable("region")
    if settings.aws_role_arn is None:
        return session.create_client("ecr", region_name=region)
    sts = session.create_client("sts", region_name=region)
    assumed = sts.assume_role(RoleArn=settings.aws_role_arn, RoleSessionName="image-bot")
    keys = assumed["Credentials"]
    return session.create_client(
        "ecr",
        region_name=region,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


def _issue(settings: RegistrySettings) -> Issued:
    try:
        client = _ecr_client(settings)
        answer = client.get_authorization_token()  # type: ignore[attr-defined]
        data = answer["authorizationData"][0]
        token, expires_at = data["authorizationToken"], data["expiresAt"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise RegistryAuthError(settings.host, f"ecr: {error}") from None
    except (KeyError, IndexError, TypeError):
        raise RegistryAuthError(settings.host, "ecr: no authorizationData in the answer") from None
    try:
        user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, TypeError):
        raise RegistryAuthError(
            settings.host, "ecr: the token is not base64 user:password"
        ) from None
    return Issued(Credentials(user, password), expires_at.timestamp())


class EcrProvider:
    """ECR registry credentials (`image-bot[aws]`)."""

    extra = "aws"

    async def issue(self, context: CloudContext) -> Issued:
        """A fresh ECR token, fetched off the event loop (botocore blocks)."""
        return await asyncio.to_thread(_issue, context.endpoint.settings)
