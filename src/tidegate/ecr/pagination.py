"""Opaque nextToken/maxResults paging: the token is base64 of (operation, offset).

A token is never the empty string; a missing token in the response ends the client's loop.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tidegate.ecr.errors import EcrError
from tidegate.inputs import load_json

DEFAULT_PAGE_SIZE = 100
MAX_OFFSET = 2**62
"""Past any real listing, and far inside the database's 64-bit OFFSET."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    """Where a page starts and how many items it holds."""

    offset: int
    size: int


def page_of(operation: str, params: dict[str, Any]) -> Page:
    """The page requested by `nextToken`/`maxResults` (already range-checked by the model)."""
    size = int(params.get("maxResults") or DEFAULT_PAGE_SIZE)
    token = params.get("nextToken")
    if token is None:
        return Page(0, size)
    try:
        # A client can craft a token: parse it like any other input (bounded depth).
        doc = load_json(base64.urlsafe_b64decode(str(token).encode()))
        offset = doc["offset"]
        if (
            doc["op"] != operation
            or not isinstance(offset, int)
            or isinstance(offset, bool)
            or not 0 <= offset <= MAX_OFFSET
        ):
            raise ValueError(doc)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        msg = "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'"
        raise EcrError("InvalidParameterException", msg) from None
    return Page(doc["offset"], size)


def finish(operation: str, page: Page, items: Sequence[T]) -> tuple[list[T], str | None]:
    """Trim the one-extra lookahead item and return the next token when more remain."""
    if len(items) <= page.size:
        return list(items), None
    return list(items[: page.size]), token_for(operation, page)


def response(operation: str, page: Page, key: str, items: Sequence[Any]) -> dict[str, Any]:
    """`{key: the page's items}` plus `nextToken` when more remain (`items` has lookahead)."""
    rows, token = finish(operation, page, items)
    out: dict[str, Any] = {key: rows}
    if token:
        out["nextToken"] = token
    return out


def token_for(operation: str, page: Page) -> str:
    """The token for the page after `page` (for callers that fetch their own lookahead)."""
    doc = json.dumps({"op": operation, "offset": page.offset + page.size})
    return base64.urlsafe_b64encode(doc.encode()).decode()
