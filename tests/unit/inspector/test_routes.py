"""`model.route_of` and `uri_params`: the matcher the dispatcher and the audit trail share."""

from __future__ import annotations

from tidegate.inspector.model import route_of, uri_params

FILTER = "arn:aws:inspector2:us-east-1:000000000000:owner/000000000000/filter/abc"


def test_exact_uris_and_labelled_ones() -> None:
    assert route_of("POST", "/filters/create") == ("CreateFilter", {})
    assert route_of("GET", f"/tags/{FILTER}") == ("ListTagsForResource", {"resourceArn": FILTER})
    assert route_of("POST", f"/tags/{FILTER}") == ("TagResource", {"resourceArn": FILTER})
    assert route_of("DELETE", f"/tags/{FILTER}") == ("UntagResource", {"resourceArn": FILTER})


def test_unmodeled_requests_are_no_operation() -> None:
    assert route_of("GET", "/filters/create") is None
    assert route_of("GET", "/tags/") is None  # a label is never empty
    assert route_of("PUT", f"/tags/{FILTER}") is None
    assert route_of("GET", "/v2/") is None


def test_labels_and_query_become_members() -> None:
    got = uri_params("UntagResource", {"resourceArn": FILTER}, {"tagKeys": ["a", "b"]})
    assert got == {"resourceArn": FILTER, "tagKeys": ["a", "b"]}
    assert uri_params("ListTagsForResource", {"resourceArn": FILTER}, {"other": ["x"]}) == {
        "resourceArn": FILTER
    }
