"""Lifecycle policy documents: what ECR accepts, and which images each rule expires."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tidegate.registry.lifecycle_policy import (
    DAY,
    Candidate,
    InvalidLifecyclePolicy,
    expired,
    parse,
)

NOW = 100 * DAY


def rule(priority: int, status: str, count_type: str, count: int, **extra: Any) -> dict[str, Any]:
    selection: dict[str, Any] = {"tagStatus": status, "countType": count_type,
                                 "countNumber": count, **extra}  # fmt: skip
    if count_type == "sinceImagePushed":
        selection.setdefault("countUnit", "days")
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


def policy(*rules: dict[str, Any]) -> str:
    return json.dumps({"rules": list(rules)})


def image(name: str, age_days: float, *tags: str) -> Candidate:
    return Candidate(f"sha256:{name}", tuple(tags), NOW - age_days * DAY)


def names(text: str, images: list[Candidate]) -> dict[str, int]:
    return {i.digest.removeprefix("sha256:"): p for i, p in expired(parse(text), images, NOW)}


def test_untagged_older_than_n_days_expire() -> None:
    images = [image("old", 15), image("new", 13), image("tagged-old", 30, "v1")]
    assert names(policy(rule(1, "untagged", "sinceImagePushed", 14)), images) == {"old": 1}


def test_count_keeps_the_newest() -> None:
    images = [image("a", 3, "prod-1"), image("b", 2, "prod-2"), image("c", 1, "prod-3"),
              image("d", 5, "dev-1")]  # fmt: skip
    text = policy(rule(1, "tagged", "imageCountMoreThan", 2, tagPrefixList=["prod"]))
    assert names(text, images) == {"a": 1}


def test_every_listed_prefix_or_pattern_must_be_matched() -> None:
    images = [image("both", 9, "prod-1", "beta-1"), image("prod", 8, "prod-2"),
              image("beta", 7, "beta-3")]  # fmt: skip
    text = policy(rule(1, "tagged", "sinceImagePushed", 1, tagPrefixList=["prod", "beta"]))
    assert names(text, images) == {"both": 1}
    text = policy(rule(1, "tagged", "sinceImagePushed", 1, tagPatternList=["prod*", "*-3"]))
    assert names(text, images) == {}
    text = policy(rule(1, "tagged", "sinceImagePushed", 1, tagPatternList=["*-?"]))
    assert names(text, images) == {}  # "?" is literal: only "*" is a wildcard
    text = policy(rule(1, "tagged", "sinceImagePushed", 1, tagPatternList=["*ta-*"]))
    assert names(text, images) == {"both": 1, "beta": 1}


def test_an_image_kept_by_a_rule_is_safe_from_later_rules() -> None:
    # A and B carry prod tags: rule 1 keeps the newest (B) and expires A. Rule 2 selects
    # beta images, but B already belongs to rule 1, so rule 2 sees only C and keeps it.
    images = [image("a", 3, "beta-1", "prod-1"), image("b", 2, "beta-2", "prod-2"),
              image("c", 1, "beta-3")]  # fmt: skip
    text = policy(
        rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["prod"]),
        rule(2, "tagged", "imageCountMoreThan", 1, tagPrefixList=["beta"]),
    )
    assert names(text, images) == {"a": 1}


def test_any_rule_catches_the_rest_and_priorities_apply_in_order() -> None:
    images = [image(f"i{n}", n, f"v{n}") for n in range(1, 6)] + [image("u", 50)]
    text = policy(
        rule(9, "any", "imageCountMoreThan", 2),
        rule(3, "untagged", "sinceImagePushed", 100),  # keeps the untagged image
    )
    assert names(text, images) == {"i3": 9, "i4": 9, "i5": 9}


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("not json", "not valid JSON"),
        ('{"rules": []}', "non-empty 'rules'"),
        (policy(rule(1, "tagged", "imageCountMoreThan", 1)), "needs tagPrefixList"),
        (
            policy(
                rule(
                    1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["a"], tagPatternList=["a*"]
                )
            ),
            "needs tagPrefixList",
        ),
        (
            policy(rule(1, "untagged", "imageCountMoreThan", 1, tagPrefixList=["a"])),
            "takes no tag lists",
        ),
        (policy(rule(1, "sometimes", "imageCountMoreThan", 1)), "tagStatus must be"),
        (policy(rule(1, "any", "imageCountMoreThan", 0)), "countNumber"),
        (policy(rule(1, "any", "imageCountMoreThan", 1, countUnit="days")), "no countUnit"),
        (policy(rule(1, "any", "sinceImagePushed", 1, countUnit="hours")), "'days'"),
        (policy(rule(1, "any", "everySecondTuesday", 1)), "countType"),
        (
            policy(
                rule(1, "any", "imageCountMoreThan", 1),
                rule(1, "untagged", "imageCountMoreThan", 2),
            ),
            "unique",
        ),
        (
            policy(
                rule(1, "any", "imageCountMoreThan", 1),
                rule(2, "untagged", "imageCountMoreThan", 2),
            ),
            "highest rulePriority",
        ),
        (
            policy(rule(1, "tagged", "imageCountMoreThan", 1, tagPatternList=["*a*b*c*d*"])),
            "more than 4 wildcards",
        ),
        (
            json.dumps(
                {
                    "rules": [
                        {
                            **rule(1, "any", "imageCountMoreThan", 1),
                            "action": {"type": "transition"},
                        }
                    ]
                }
            ),
            "'expire'",
        ),
    ],
)
def test_invalid_policies_say_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(InvalidLifecyclePolicy, match=complaint):
        parse(text)
