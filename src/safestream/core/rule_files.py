"""YAML rule files (triage, routing, notify, ...): read one way, validated by a typed model.

Every rule file is parsed with `yaml.safe_load` and checked against a pydantic model of its
document; any problem raises `InvalidInput` naming the file and the field, for example
`triage.yaml: rules.2.points: Input should be a valid integer`. What a model cannot say (a fact
name the rules engine does not know, an authority code used before it is defined) the part
checks after validation, with the same kind of message.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from safestream.core.errors import InvalidInput

Document = TypeVar("Document", bound=BaseModel)


class RuleDocument(BaseModel):
    """Base of rule-file models: unknown keys are errors (a typo must not be ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1


def validate_document(model: type[Document], data: Any, where: str) -> Document:
    """Validate an already parsed document, or raise `InvalidInput` naming the first problem."""
    try:
        return model.model_validate({} if data is None else data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "document"
        raise InvalidInput(f"{where}: {field}: {error['msg']}") from exc


def parse_document(model: type[Document], text: str, where: str) -> Document:
    """Parse YAML text and validate it against `model`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{where}: not valid YAML: {exc}") from exc
    return validate_document(model, data, where)


def load_document(
    model: type[Document], path: Path | None, packaged: tuple[str, str] | None = None
) -> Document:
    """Load a rule file; without `path`, the packaged default (`package`, `file name`)."""
    if path is None:
        if packaged is None:
            return validate_document(model, None, "defaults")
        package, name = packaged
        return parse_document(
            model, (resources.files(package) / name).read_text(), f"packaged {name}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_document(model, text, str(path))
