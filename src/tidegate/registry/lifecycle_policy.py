"""ECR lifecycle policies: the policy document, its validation, and which images it expires.

Rules apply in rulePriority order, lowest first. Each image belongs to the first rule whose
tag selection it matches, and only that rule may expire it (an image a rule keeps is safe
from every later rule). A rule then expires the images it selected that are older than
`countNumber` days (`sinceImagePushed`) or beyond the `countNumber` most recently pushed
(`imageCountMoreThan`). A `tagged` rule selects images that carry, for every prefix or
pattern it lists, at least one tag that starts with the prefix or matches the pattern.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tidegate.errors import ErrorCode, TidegateError
from tidegate.inputs import load_json
from tidegate.registry.wildcards import wildcard

DAY = 86400.0
MAX_WILDCARDS = 4  # per tagPatternList entry, as ECR allows


class InvalidLifecyclePolicy(TidegateError):
    """The lifecycle policy text is not a policy ECR would accept."""

    code = ErrorCode.INVALID_PARAMETER


@dataclass(frozen=True, slots=True)
class Rule:
    priority: int
    tag_status: str  # tagged | untagged | any
    prefixes: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    count_type: str  # imageCountMoreThan | sinceImagePushed
    count: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a policy needs to know of one image."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: float


def _fail(message: str) -> InvalidLifecyclePolicy:
    return InvalidLifecyclePolicy(f"Invalid parameter at 'LifecyclePolicyText' failed to "
                                  f"satisfy constraint: '{message}'")  # fmt: skip


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(f"{name} must be a non-empty list of strings")
    if not all(isinstance(v, str) and v for v in value):
        raise _fail(f"{name} must contain only non-empty strings")
    return tuple(value)


def _pattern(text: str) -> re.Pattern[str]:
    if text.count("*") > MAX_WILDCARDS:
        raise _fail(f"tagPatternList entry '{text}' has more than {MAX_WILDCARDS} wildcards")
    return wildcard(text)


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(f"{name} must be an integer of at least 1")
    return value


def _rule(doc: Any) -> Rule:
    if not isinstance(doc, dict):
        raise _fail("each rule must be an object")
    priority = _positive_int(doc.get("rulePriority"), "rulePriority")
    action = doc.get("action")
    if not isinstance(action, dict) or str(action.get("type", "")).lower() != "expire":
        raise _fail(f"rule {priority}: action.type must be 'expire'")
    sel = doc.get("selection")
    if not isinstance(sel, dict):
        raise _fail(f"rule {priority}: selection is required")
    status = sel.get("tagStatus")
    prefixes: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    has_prefixes, has_patterns = "tagPrefixList" in sel, "tagPatternList" in sel
    if status == "tagged":
        if has_prefixes == has_patterns:
            raise _fail(f"rule {priority}: a tagged rule needs tagPrefixList or tagPatternList")
        if has_prefixes:
            prefixes = _strings(sel["tagPrefixList"], "tagPrefixList")
        else:
            patterns = tuple(_pattern(p) for p in _strings(sel["tagPatternList"], "tagPatternList"))
    elif status in ("untagged", "any"):
        if has_prefixes or has_patterns:
            raise _fail(f"rule {priority}: tagStatus {status} takes no tag lists")
    else:
        raise _fail(f"rule {priority}: tagStatus must be tagged, untagged or any")
    count_type = sel.get("countType")
    count = _positive_int(sel.get("countNumber"), "countNumber")
    if count_type == "sinceImagePushed":
        if sel.get("countUnit") != "days":
            raise _fail(f"rule {priority}: sinceImagePushed needs countUnit 'days'")
    elif count_type == "imageCountMoreThan":
        if "countUnit" in sel:
            raise _fail(f"rule {priority}: imageCountMoreThan takes no countUnit")
    else:
        raise _fail(f"rule {priority}: countType must be imageCountMoreThan or sinceImagePushed")
    return Rule(priority, str(status), prefixes, patterns, str(count_type), count)


def parse(text: str) -> tuple[Rule, ...]:
    """The policy's rules in priority order; InvalidLifecyclePolicy says what is wrong."""
    try:
        doc = load_json(text)
    except ValueError:
        raise _fail("the policy is not valid JSON") from None
    rules_doc = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rules_doc, list) or not rules_doc:
        raise _fail("the policy needs a non-empty 'rules' list")
    rules = sorted((_rule(r) for r in rules_doc), key=lambda r: r.priority)
    priorities = [r.priority for r in rules]
    if len(set(priorities)) != len(priorities):
        raise _fail("rulePriority values must be unique")
    if any(r.tag_status == "any" for r in rules[:-1]):
        raise _fail("a rule with tagStatus any must have the highest rulePriority")
    return tuple(rules)


def _selects(rule: Rule, image: Candidate) -> bool:
    if rule.tag_status == "any":
        return True
    if rule.tag_status == "untagged":
        return not image.tags
    if rule.prefixes:
        return all(any(t.startswith(p) for t in image.tags) for p in rule.prefixes)
    return all(any(p.fullmatch(t) for t in image.tags) for p in rule.patterns)


def expired(
    rules: Sequence[Rule], images: Sequence[Candidate], now: float
) -> list[tuple[Candidate, int]]:
    """The images the policy expires, each with the priority of the rule that expires it."""
    claimed: dict[int, list[Candidate]] = {r.priority: [] for r in rules}
    for image in images:
        rule = next((r for r in rules if _selects(r, image)), None)
        if rule is not None:
            claimed[rule.priority].append(image)
    out: list[tuple[Candidate, int]] = []
    for rule in rules:
        mine = claimed[rule.priority]
        if rule.count_type == "sinceImagePushed":
            cutoff = now - rule.count * DAY
            out += [(i, rule.priority) for i in mine if i.pushed_at < cutoff]
        else:
            newest_first = sorted(mine, key=lambda i: (-i.pushed_at, i.digest))
            out += [(i, rule.priority) for i in newest_first[rule.count :]]
    return out
