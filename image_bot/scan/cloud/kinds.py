"""The cloud registry kinds and how their hosts are recognised."""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["CloudAuth", "detect", "ecr_region"]


class CloudAuth(StrEnum):
    """How a registry's credentials are obtained: a cloud's own token flow, or `none`."""

    ECR = "ecr"  # AWS Elastic Container Registry: botocore get_authorization_token
    GCR = "gcr"  # Google Artifact Registry / Container Registry: application default creds
    ACR = "acr"  # Azure Container Registry: azure-identity + the ACR token exchange
    NONE = "none"  # never: username/password or the docker config only


_ECR = re.compile(r"\d{12}\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
_PATTERNS = (
    (CloudAuth.ECR, _ECR),
    (CloudAuth.GCR, re.compile(r"[a-z0-9-]+-docker\.pkg\.dev|(?:[a-z]+\.)?gcr\.io")),
    (CloudAuth.ACR, re.compile(r"[a-z0-9]+\.azurecr\.(?:io|cn|us)")),
)


def _hostname(host: str) -> str:
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def detect(host: str) -> CloudAuth | None:
    """The cloud whose registry `host` (`host[:port]`) is, by its name; None for others."""
    name = _hostname(host.lower())
    for kind, pattern in _PATTERNS:
        if pattern.fullmatch(name):
            return kind
    return None


def ecr_region(host: str) -> str | None:
    """The AWS region in an ECR host name (`eu-west-1`), or None."""
    match = _ECR.fullmatch(_hostname(host.lower()))
    return match["region"] if match else None
