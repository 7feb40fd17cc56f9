"""The one JSON error body of the API: every `/v1` route (and the panic button) answers errors so.

    {"error": "<one sentence a person can act on>",
     "errors": [{"field": "<dotted path>", "message": "<what is wrong with it>"}, ...]}

`error` is always there; `errors` is always a list, naming each bad field of a 422 answer and
empty otherwise. Clients branch on the HTTP status, show `error`, and mark `errors` on a form.
The fast intake path, the framework's own errors (validation, unknown route, wrong method), the
domain errors and the panic button all build their body here, so the shape cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

# Routes that answer as another service does (HMA's `{"message"}`), documented as such.
OWN_SHAPE_TAGS = frozenset({"HMA-compatible"})
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


class FieldError(BaseModel):
    """One bad field of a refused request."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """Every refusal of the API: a sentence, and the bad fields (empty unless a 422)."""

    error: str
    errors: list[FieldError]


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """A validation error location as a dotted field path, without the leading 'body'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def error_body(message: str, fields: Sequence[Mapping[str, str]] = ()) -> dict[str, Any]:
    """The error body: the sentence, and the bad fields (if any) as `{field, message}`."""
    return {"error": message, "errors": [dict(f) for f in fields]}


def invalid_fields_body(errors: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A 422 body naming each bad field, from pydantic-style errors (`loc`, `msg`)."""
    fields = [
        {"field": field_path(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in errors
    ]
    names = ", ".join(dict.fromkeys(f["field"] for f in fields))
    return error_body(f"invalid fields: {names}", fields)


def error_response(
    status: int,
    message: str,
    fields: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error answer in the one shape."""
    return JSONResponse(error_body(message, fields), status_code=status, headers=headers)


def http_error(_: Request, exc: Exception) -> Response:
    """The framework's own errors (404 unknown route, 405 wrong method, ...) in the one shape.

    Headers such as `Location` (the console's login redirect) or `Allow` are kept."""
    assert isinstance(exc, HTTPException)
    if exc.status_code < 400:
        return Response(status_code=exc.status_code, headers=exc.headers)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return error_response(exc.status_code, message, headers=exc.headers)


def publish_error_schema(spec: dict[str, Any]) -> None:
    """Describe every error answer of the OpenAPI document as `ErrorBody` (FastAPI's own 422
    schema, `{"detail"}`, is not what this API answers)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["FieldError"] = FieldError.model_json_schema()
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    body.pop("$defs", None)
    schemas["ErrorBody"] = body
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or OWN_SHAPE_TAGS & set(operation.get("tags", [])):
                continue
            for status, answer in operation.get("responses", {}).items():
                if status[:1] in {"4", "5"}:
                    answer["content"] = {"application/json": {"schema": ERROR_REF}}
    referenced = json.dumps(spec.get("paths", {})) + json.dumps(schemas)
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in referenced:
            schemas.pop(unused, None)
