"""The body of a post to the choice endpoint, form or JSON, read into its few fields.

Anything malformed is a `BadRequest` (a 400), never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

_MAX_FIELDS = 64


class BadRequest(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def parse_form(body: bytes) -> Mapping[str, Any]:
    """A form post's fields: `choice` and `next` once each, every `category`."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=_MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(400, "malformed form body") from error
    fields: dict[str, Any] = {"categories": []}
    for key, value in pairs:
        if key == "category":
            fields["categories"].append(value)
        elif key in ("choice", "next"):
            if key in fields:
                raise BadRequest(400, f"{key} given twice")
            fields[key] = value
    return fields


def parse_json(body: bytes) -> Mapping[str, Any]:
    """The same fields from our script's JSON post."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise BadRequest(400, "malformed JSON body") from error
    if not isinstance(data, dict):
        raise BadRequest(400, "the JSON body must be an object")
    fields: dict[str, Any] = {"categories": data.get("categories", [])}
    for key in ("choice", "next"):
        if key in data:
            fields[key] = data[key]
    return fields
