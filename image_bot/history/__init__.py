"""Which version ran where, since when: a timeline from the git history of a manifests repository.

One `git log` walk over the base branch's first-parent history (the commits that put changes
on it: merges, squashes, direct pushes), parsing only the files each commit touched with the
same finders `refs` uses. Works on any repository, whoever wrote its history.
"""
