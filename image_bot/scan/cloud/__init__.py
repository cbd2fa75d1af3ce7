"""Native auth for cloud registries: ECR (botocore), GAR/GCR (google-auth), ACR (azure-identity).

`kinds` names the providers and recognises their hosts; `provider` fetches and caches
their short-lived registry credentials; one small module per provider holds its SDK call,
imported only when a registry of that kind asks for credentials.
"""
