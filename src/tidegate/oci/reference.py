"""Repository-name and tag grammar from the OCI distribution spec."""

from __future__ import annotations

import re
from typing import NewType

from tidegate.errors import NameInvalid, TagInvalid

RepoName = NewType("RepoName", str)
Tag = NewType("Tag", str)

_NAME_RE = re.compile(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$")
_TAG_RE = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
# Distribution's practical limit; longer names cannot round-trip through all clients.
MAX_NAME_LENGTH = 255


def parse_name(text: str) -> RepoName:
    if len(text) > MAX_NAME_LENGTH or not _NAME_RE.match(text):
        msg = f"invalid repository name {text!r}"
        raise NameInvalid(msg, detail={"name": text})
    return RepoName(text)


def parse_tag(text: str) -> Tag:
    if not _TAG_RE.match(text):
        msg = f"invalid tag {text!r}"
        raise TagInvalid(msg, detail={"tag": text})
    return Tag(text)
