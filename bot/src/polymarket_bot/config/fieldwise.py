"""Validate a model's fields one by one, so every bad field is known and every good one usable.

A model validation stops before its cross-field checks as soon as one field fails, so a bad key
would hide "MIN_PRICE must be below MAX_PRICE". Validating each field on its own gives the values
of all good fields, on which the cross-field checks still run: one pass reports everything.
Field validators must therefore live in the field's `Annotated` metadata, not in
`@field_validator` methods (which only the whole model runs).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, PydanticUndefined

_CONFIG = ConfigDict(hide_input_in_errors=True, str_strip_whitespace=True)


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    field = model.model_fields[name]
    if not field.metadata:
        return TypeAdapter(field.annotation, config=_CONFIG)
    return TypeAdapter(Annotated[(field.annotation, *field.metadata)], config=_CONFIG)


def _key(model: type[BaseModel], name: str) -> str:
    alias = model.model_fields[name].alias
    return alias if isinstance(alias, str) else name


def validate_fields(
    model: type[BaseModel], data: Mapping[str, Any], skip: Collection[str] = ()
) -> tuple[dict[str, Any], list[ErrorDetails]]:
    """Validated values by field name, and pydantic errors located by the input key.

    Unknown keys are the caller's business (it knows how to name and fix them), and so are the
    fields in `skip`. Absent fields take their default, exactly as the model would; absent
    required fields are `missing` errors.
    """
    values: dict[str, Any] = {}
    errors: list[ErrorDetails] = []
    for name, field in model.model_fields.items():
        key = _key(model, name)
        if key in skip:
            continue
        if key not in data:
            if field.is_required():
                errors.append(ErrorDetails(type="missing", loc=(key,), msg="Field required",
                                           input=PydanticUndefined))
            else:
                values[name] = field.get_default(call_default_factory=True)
            continue
        try:
            values[name] = _adapter(model, name).validate_python(data[key])
        except ValidationError as exc:
            for error in exc.errors():
                error["loc"] = (key, *error["loc"])
                errors.append(error)
    return values, errors


def known_keys(model: type[BaseModel]) -> set[str]:
    return {_key(model, name) for name in model.model_fields}
