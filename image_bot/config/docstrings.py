"""The docstring under each field of the config models, for the JSON schema only.

pydantic's `use_attribute_docstrings` would read every model's source file when its class
is created, a cost every command paid at start-up (about 0.04 s) for descriptions that only
the JSON schema and the option reference show. They are read here instead, when those are
made, with the same rule: the string literal right below a field's annotation in the class
that declares the field, cleaned like any docstring; an explicit `Field(description=...)`
wins.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
import typing
from collections.abc import Iterator, Mapping

from pydantic import BaseModel

__all__ = ["add_field_docstrings", "field_docstrings", "models_of"]


def _declared(cls: type) -> dict[str, str]:
    """The docstrings of the fields `cls` itself declares (not its bases')."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


def field_docstrings(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> its docstring, for the fields of `model` that have one."""
    owners: dict[str, type] = {}
    for cls in reversed(model.__mro__):
        for name in inspect.get_annotations(cls):
            owners[name] = cls
    declared: dict[type, dict[str, str]] = {}
    docs: dict[str, str] = {}
    for name in model.model_fields:
        owner = owners.get(name)
        if owner is None:
            continue
        if owner not in declared:
            declared[owner] = _declared(owner)
        if name in declared[owner]:
            docs[name] = declared[owner][name]
    return docs


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


def models_of(root: type[BaseModel]) -> list[type[BaseModel]]:
    """`root` and every model its fields hold, however deep, each once."""
    found: list[type[BaseModel]] = [root]
    for model in found:  # grows while it is walked
        for info in model.model_fields.values():
            found.extend(m for m in _models_in(info.annotation) if m not in found)
    return found


def add_field_docstrings(schema: dict[str, object], root: type[BaseModel]) -> None:
    """Give each property of `root`'s JSON schema (`root.model_json_schema()`, changed in
    place) its field's docstring as description, keys sorted as pydantic sorts them."""
    definitions = schema.get("$defs")
    for model in models_of(root):
        node: object = schema
        if model is not root:
            node = definitions.get(model.__name__) if isinstance(definitions, Mapping) else None
        if node is None:
            msg = f"no schema definition for {model.__name__}"
            raise LookupError(msg)
        properties = node.get("properties") if isinstance(node, Mapping) else None
        if not isinstance(properties, dict):
            continue
        for name, doc in field_docstrings(model).items():
            info = model.model_fields[name]
            key = info.validation_alias if isinstance(info.validation_alias, str) else None
            key = key or info.alias or name
            if info.description is None and key in properties:
                properties[key] = dict(sorted({**properties[key], "description": doc}.items()))
