"""GitLab through python-gitlab: merge requests and their error mapping."""
