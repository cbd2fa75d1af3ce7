"""Importers: another tool's configuration -> an image-bot config (`image-bot import`).

`objects.read_objects` reads Kubernetes manifests; `flux.from_flux` and `argocd.from_argocd`
map them (pure) to a `result.Migration`: the config's sections, comments, and notes on what
does not carry over; `render.render_config` writes it as commented YAML.
"""
