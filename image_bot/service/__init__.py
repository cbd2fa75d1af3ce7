"""The long-running service: scheduler, web app, registry webhooks, status page, metrics."""
