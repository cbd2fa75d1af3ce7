"""Promotion between stages: the stage graph, the gates and what each stage is offered (pure).

A later stage takes the exact version (tag and digest) its upstream stage runs, read from
the upstream's manifests on the base branch (the `history` timeline), once the gates pass:
soak, checks, window and freeze, hold. Nothing here does I/O; the pipeline passes the
timeline, the checks the forge reported and the time in.
"""
