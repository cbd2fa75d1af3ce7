"""Title, body and commit templates: `{field}` (str.format) or Jinja2 in a sandbox.

The rule: a template containing `{{` or `{%` is Jinja2; any other is the original
`{summary}` style, filled with `str.format` (unknown fields left as written). Both see only
plain values (strings, numbers, lists and mappings of them): nothing with methods.

In App mode a repository's own settings file writes these templates, so Jinja runs in
`jinja2.sandbox.SandboxedEnvironment` and is bounded besides:

- no macros and no `call` blocks (no recursion); loops nest at most two deep, and each
  loop runs over a list (never a string) of at most 1,000 items;
- no `range`, `lipsum`, `cycler`, `joiner` or `namespace`; `*` and `**` refuse results
  that would be large; the output is cut at `max_chars`.

So a hostile template costs at most about a million loop steps, and reaches nothing but
the fields. Unknown names are an error when the config is loaded (`check_template`).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = [
    "FORMAT_FIELDS",
    "JINJA_FIELDS",
    "TemplateError",
    "check_template",
    "is_jinja",
    "render",
]

FORMAT_FIELDS = frozenset({"summary", "changes", "count", "group", "branch", "base", "repository"})
"""Names a `{field}` template may use."""

JINJA_FIELDS = frozenset(
    {
        "summary", "changes", "changes_text", "count", "group", "branch", "base", "repository",
        "update_types", "labels", "table", "details",
    }
)  # fmt: skip
"""Names a Jinja template may use: `changes` is a list of mappings there (see docs)."""

_MAX_LOOP = 1000
_MAX_DEPTH = 2
_MAX_REPEAT = 10_000


class TemplateError(ValueError):
    """A template that cannot be used (syntax, unknown field, a forbidden construct)."""


def is_jinja(template: str) -> bool:
    """Whether `template` is Jinja2 (it has `{{` or `{%`)."""
    return "{{" in template or "{%" in template


class _Lenient(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _bounded(value: object) -> Iterable[object]:
    """What a loop may run over: a list, tuple or mapping of at most `_MAX_LOOP` items."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | Mapping):
        raise TemplateError("a loop runs over a list of the fields, not over text or numbers")
    if len(value) > _MAX_LOOP:
        raise TemplateError(f"a loop over more than {_MAX_LOOP} items")
    return value


def _environment() -> Environment:
    from jinja2.sandbox import SandboxedEnvironment  # noqa: PLC0415

    class Sandbox(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: object, operator: str, left: object, right: object) -> object:
            if operator == "**":
                if not isinstance(right, int) or abs(right) > 64:
                    raise TemplateError("`**` with a large exponent")
                return left**right  # type: ignore[operator]
            for sized, count in ((left, right), (right, left)):
                sized_text = isinstance(sized, str | list | tuple) and isinstance(count, int)
                if sized_text and len(sized) * count > _MAX_REPEAT:  # type: ignore[arg-type,operator]
                    raise TemplateError("`*` that repeats too much")
            return left * right  # type: ignore[operator]

    env = Sandbox(autoescape=False, keep_trailing_newline=True)
    for name in ("range", "lipsum", "cycler", "joiner", "namespace"):
        env.globals.pop(name, None)
    env.filters["_bounded"] = _bounded
    return env


def _compile(env: Environment, source: str) -> object:
    """Parse, check the shape (no macros, shallow loops), bound every loop, compile."""
    from jinja2 import TemplateSyntaxError, nodes  # noqa: PLC0415

    try:
        tree = env.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateError(f"line {error.lineno}: {error.message}") from None
    if any(True for _ in tree.find_all((nodes.Macro, nodes.CallBlock, nodes.Extends))):
        raise TemplateError("macros, call blocks and extends are not allowed")

    def depth(node: nodes.Node, level: int) -> None:
        for child in node.iter_child_nodes():
            inner = level + 1 if isinstance(child, nodes.For) else level
            if inner > _MAX_DEPTH:
                raise TemplateError(f"loops nest at most {_MAX_DEPTH} deep")
            depth(child, inner)

    depth(tree, 0)
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Filter(loop.iter, "_bounded", [], [], None, None, lineno=loop.lineno)
    return env.compile(tree)


def check_template(text: str) -> None:
    """Raise TemplateError when `text` cannot be rendered: bad syntax, an unknown field,
    a forbidden construct (Jinja), or a malformed `{field}` (format style)."""
    if not is_jinja(text):
        try:
            names = {field for _, field, _, _ in string.Formatter().parse(text) if field}
        except ValueError as error:
            raise TemplateError(f"not a valid template: {error}") from None
        known, allowed = {name.split(".")[0].split("[")[0] for name in names}, FORMAT_FIELDS
    else:
        from jinja2 import meta  # noqa: PLC0415

        env = _environment()
        _compile(env, text)
        known, allowed = meta.find_undeclared_variables(env.parse(text)), JINJA_FIELDS
    unknown = sorted(known - allowed)
    if unknown:
        fields = ", ".join(sorted(allowed))
        raise TemplateError(f"unknown template field {unknown[0]!r}; use one of {fields}")


def render(
    template: str,
    format_fields: Mapping[str, str],
    jinja_fields: Mapping[str, object],
    *,
    max_chars: int = 60_000,
) -> str:
    """`template` filled in: `format_fields` for the `{field}` style, `jinja_fields` for
    Jinja (sandboxed, bounded, cut at `max_chars`). Raises TemplateError when it fails."""
    if not is_jinja(template):
        return string.Formatter().vformat(template, (), _Lenient(format_fields))
    from jinja2 import TemplateError as JinjaError  # noqa: PLC0415
    from jinja2.exceptions import SecurityError  # noqa: PLC0415

    env = _environment()
    code = _compile(env, template)
    compiled = env.template_class.from_code(env, code, env.make_globals(None), None)  # type: ignore[arg-type]
    out: list[str] = []
    size = 0
    try:
        for chunk in compiled.generate(dict(jinja_fields)):
            out.append(chunk)
            size += len(chunk)
            if size > max_chars:
                break
    except (JinjaError, SecurityError, RecursionError, ArithmeticError, TypeError) as error:
        raise TemplateError(f"template failed: {type(error).__name__}: {error}"[:300]) from None
    return "".join(out)[:max_chars]
