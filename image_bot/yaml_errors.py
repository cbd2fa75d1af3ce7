"""Where a YAML syntax error really is: an unclosed quote or bracket is reported where it
opens, not at the end of the file where the parser gave up."""

from __future__ import annotations

from dataclasses import dataclass

from ruamel.yaml.error import MarkedYAMLError, YAMLError

__all__ = ["YamlSyntaxProblem", "describe_yaml_error"]

_AT_END = ("end of stream", "<stream end>")
# ruamel's context ("while scanning a quoted scalar") -> what the user opened and never closed
_OPENERS = {
    "quoted scalar": "quoted string",
    "flow mapping": "'{' mapping",
    "flow sequence": "'[' list",
    "block scalar": "block scalar",
}


@dataclass(frozen=True, slots=True)
class YamlSyntaxProblem:
    """A YAML syntax error in words: the 1-based line it belongs to (if known) and why."""

    line: int | None
    reason: str


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def describe_yaml_error(error: YAMLError) -> YamlSyntaxProblem:
    """The line and reason of a ruamel error; unclosed things point at where they open."""
    if not isinstance(error, MarkedYAMLError):
        return YamlSyntaxProblem(None, _one_line(error)[:200])
    problem = _one_line(error.problem or error.context or "syntax error")
    context = _one_line(error.context or "")
    opened = error.context_mark
    thing = context.removeprefix("while scanning a ").removeprefix("while parsing a ")
    what = _OPENERS.get(thing)
    if what is not None and opened is not None and any(end in problem for end in _AT_END):
        return YamlSyntaxProblem(opened.line + 1, f"the {what} that starts here is never closed")
    mark = error.problem_mark or opened
    line = mark.line + 1 if mark is not None else None
    if what is not None and opened is not None and line != opened.line + 1:
        problem += f" (in the {what} opened on line {opened.line + 1}: is it closed?)"
    return YamlSyntaxProblem(line, problem)
