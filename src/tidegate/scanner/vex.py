"""VEX documents (OpenVEX 0.2 and CycloneDX VEX) as flat statements: vulnerability, package,
status, justification and the statement text a person wrote.

Only what Tidegate applies is kept; a document that is not VEX, or whose statements break
the format's own rules (an unknown status, a not_affected without justification), is refused
with `VexInvalid` naming the place, so a malformed document never half-applies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tidegate.errors import InvalidParameter

OPENVEX_TYPE = "application/vnd.openvex+json"
CYCLONEDX_TYPES = ("application/vnd.cyclonedx+json", "application/vnd.cyclonedx.vex+json")
MEDIA_TYPES = (OPENVEX_TYPE, *CYCLONEDX_TYPES)
MAX_BYTES = 4 * 1024 * 1024

STATUSES = ("not_affected", "affected", "fixed", "under_investigation")
SUPPRESSING = ("not_affected", "fixed")
OPENVEX_JUSTIFICATIONS = (
    "component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist",
)  # fmt: skip
# CycloneDX analysis.state -> the OpenVEX status it means.
CYCLONEDX_STATES = {
    "resolved": "fixed", "resolved_with_pedigree": "fixed", "exploitable": "affected",
    "in_triage": "under_investigation", "false_positive": "not_affected",
    "not_affected": "not_affected",
}  # fmt: skip
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class VexInvalid(InvalidParameter):
    """The VEX document is malformed; the push that carried it is refused."""


@dataclass(frozen=True, slots=True)
class VexStatement:
    vuln_id: str
    status: str  # one of STATUSES
    package_names: tuple[str, ...]  # names a finding's package may have; () = every package
    image_digests: tuple[str, ...]  # digests the products name; () = the subject / any image
    justification: str
    statement: str  # impact, action or detail text, as written


def _fail(where: str, message: str) -> VexInvalid:
    return VexInvalid(f"VEX document invalid at {where}: {message}")


def package_names(purl: str) -> tuple[str, ...]:
    """The names a finding may give the package a purl names (`pkg:maven/g/a@v` -> `a`,
    `g:a`, `g/a`), without the version and qualifiers."""
    body = purl.split("#", 1)[-1]
    if not body.startswith("pkg:"):
        return ()
    path = body[4:].split("?", 1)[0].split("@", 1)[0]
    parts = [unquote(p) for p in path.split("/")[1:] if p]
    if not parts:
        return ()
    name, namespace = parts[-1], "/".join(parts[:-1])
    if not namespace:
        return (name,)
    return tuple(sorted({name, f"{namespace}:{name}", f"{namespace}/{name}"}))


def parse(raw: bytes) -> tuple[str, list[VexStatement]]:
    """(format, statements) of an OpenVEX or CycloneDX VEX document."""
    if len(raw) > MAX_BYTES:
        raise _fail("document", f"larger than {MAX_BYTES} bytes")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise _fail("document", "not JSON") from None
    if not isinstance(doc, dict):
        raise _fail("document", "not a JSON object")
    if str(doc.get("@context", "")).startswith("https://openvex.dev/ns"):
        return "openvex", _openvex(doc)
    if doc.get("bomFormat") == "CycloneDX":
        return "cyclonedx", _cyclonedx(doc)
    raise _fail("document", "neither OpenVEX (@context openvex.dev) nor CycloneDX (bomFormat)")


def _text(value: object, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(where, "must be a string")
    return value


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(where, "must be a list")
    return value


def _openvex(doc: Mapping[str, Any]) -> list[VexStatement]:
    statements = _list(doc.get("statements"), "statements")
    if not statements:
        raise _fail("statements", "an OpenVEX document needs at least one statement")
    return [_openvex_statement(s, f"statements[{i}]") for i, s in enumerate(statements)]


def _openvex_statement(s: object, where: str) -> VexStatement:
    if not isinstance(s, dict):
        raise _fail(where, "must be an object")
    vuln = s.get("vulnerability")
    name = vuln.get("name") if isinstance(vuln, dict) else vuln
    if not isinstance(name, str) or not name:
        raise _fail(f"{where}.vulnerability", "needs a name (CVE-..., GHSA-...)")
    status = s.get("status")
    if status not in STATUSES:
        raise _fail(f"{where}.status", f"must be one of {', '.join(STATUSES)}")
    justification = _text(s.get("justification"), f"{where}.justification")
    impact = _text(s.get("impact_statement"), f"{where}.impact_statement")
    action = _text(s.get("action_statement"), f"{where}.action_statement")
    if justification and justification not in OPENVEX_JUSTIFICATIONS:
        raise _fail(f"{where}.justification", f"must be one of {', '.join(OPENVEX_JUSTIFICATIONS)}")
    if status == "not_affected" and not (justification or impact):
        raise _fail(where, "not_affected needs a justification or an impact_statement")
    names: set[str] = set()
    digests: set[str] = set()
    for j, product in enumerate(_list(s.get("products"), f"{where}.products")):
        if not isinstance(product, dict):
            raise _fail(f"{where}.products[{j}]", "must be an object")
        ident = _text(product.get("@id"), f"{where}.products[{j}].@id")
        digests.update(_DIGEST.findall(ident))
        for k, sub in enumerate(_list(product.get("subcomponents"), f"{where}.products[{j}]")):
            sub_id = sub.get("@id") if isinstance(sub, dict) else None
            if not isinstance(sub_id, str):
                raise _fail(f"{where}.products[{j}].subcomponents[{k}]", "needs an @id purl")
            names.update(package_names(sub_id))
    return VexStatement(name, str(status), tuple(sorted(names)), tuple(sorted(digests)),
                        justification, impact or action)  # fmt: skip


def _cyclonedx(doc: Mapping[str, Any]) -> list[VexStatement]:
    purls: dict[str, str] = {}
    for component in _walk_components(_list(doc.get("components"), "components")):
        ref, purl = component.get("bom-ref"), component.get("purl")
        if isinstance(ref, str) and isinstance(purl, str):
            purls[ref] = purl
    vulns = _list(doc.get("vulnerabilities"), "vulnerabilities")
    out = []
    for i, v in enumerate(vulns):
        where = f"vulnerabilities[{i}]"
        if not isinstance(v, dict):
            raise _fail(where, "must be an object")
        analysis = v.get("analysis")
        if analysis is None:
            continue  # a plain vulnerability report, no VEX claim
        if not isinstance(analysis, dict):
            raise _fail(f"{where}.analysis", "must be an object")
        vid = v.get("id")
        if not isinstance(vid, str) or not vid:
            raise _fail(f"{where}.id", "needs the vulnerability id")
        state = analysis.get("state")
        if state not in CYCLONEDX_STATES:
            raise _fail(f"{where}.analysis.state", f"must be one of {', '.join(CYCLONEDX_STATES)}")
        names: set[str] = set()
        digests: set[str] = set()
        for j, affects in enumerate(_list(v.get("affects"), f"{where}.affects")):
            ref = affects.get("ref") if isinstance(affects, dict) else None
            if not isinstance(ref, str):
                raise _fail(f"{where}.affects[{j}]", "needs a ref")
            names.update(package_names(purls.get(ref, ref)))
            digests.update(_DIGEST.findall(ref))
        out.append(VexStatement(
            vid, CYCLONEDX_STATES[state], tuple(sorted(names)), tuple(sorted(digests)),
            _text(analysis.get("justification"), f"{where}.analysis.justification"),
            _text(analysis.get("detail"), f"{where}.analysis.detail"),
        ))  # fmt: skip
    if not out:
        raise _fail("vulnerabilities", "no vulnerability carries an analysis (not a VEX)")
    return out


def _walk_components(components: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    for c in components:
        if isinstance(c, dict):
            yield c
            nested = c.get("components")
            if isinstance(nested, list):
                yield from _walk_components(nested)
