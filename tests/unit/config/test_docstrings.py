"""Field docstrings read for the schema give the schema pydantic's own reading gives."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from image_bot.config import Config
from image_bot.config.docstrings import add_field_docstrings, field_docstrings, models_of


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = 1
    """How big.

    On two lines, indented."""


class _Base(BaseModel):
    """A base."""

    name: str
    """The name."""
    kept: int = 0
    """Inherited as it is."""
    redefined: int = 0
    """The base's word, replaced below."""


class _Model(_Base):
    """A model."""

    redefined: int = 1  # declared again without a docstring: no description
    inner: _Inner = _Inner()
    """The inner part."""
    inners: list[_Inner] | None = None
    """Several."""
    spelled: str = Field(default="", alias="spelled-out")
    """Under its alias."""
    explicit: str = Field(default="", description="explicit wins")
    """Not this."""
    plain: bool = False


class _InnerDocs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    size: int = 1
    """How big.

    On two lines, indented."""


class _BaseDocs(BaseModel):
    """A base."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    name: str
    """The name."""
    kept: int = 0
    """Inherited as it is."""
    redefined: int = 0
    """The base's word, replaced below."""


class _ModelDocs(_BaseDocs):
    """A model."""

    redefined: int = 1  # declared again without a docstring: no description
    inner: _InnerDocs = _InnerDocs()
    """The inner part."""
    inners: list[_InnerDocs] | None = None
    """Several."""
    spelled: str = Field(default="", alias="spelled-out")
    """Under its alias."""
    explicit: str = Field(default="", description="explicit wins")
    """Not this."""
    plain: bool = False


def test_field_docstrings_follow_pydantics_rule() -> None:
    assert field_docstrings(_Model) == {
        "name": "The name.",
        "kept": "Inherited as it is.",
        "inner": "The inner part.",
        "inners": "Several.",
        "spelled": "Under its alias.",
        "explicit": "Not this.",  # found, but the schema keeps the explicit description
    }
    assert field_docstrings(_Inner) == {"size": "How big.\n\nOn two lines, indented."}


def test_the_schema_is_the_one_pydantic_makes_from_docstrings() -> None:
    ours = _Model.model_json_schema(mode="validation")
    add_field_docstrings(ours, _Model)
    theirs = _ModelDocs.model_json_schema(mode="validation")
    renamed = str(theirs).replace("Docs", "")
    assert str(ours) == renamed  # same keys in the same order, same descriptions


def test_every_config_model_is_found() -> None:
    models = models_of(Config)
    assert models[0] is Config
    names = {model.__name__ for model in models}
    schema = Config.model_json_schema(mode="validation")
    assert names - {"Config"} == set(schema["$defs"])
