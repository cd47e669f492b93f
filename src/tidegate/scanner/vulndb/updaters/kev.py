"""CISA Known Exploited Vulnerabilities: flags CVEs as known exploited (no packages)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from tidegate.scanner.vulndb.model import Advisory
from tidegate.scanner.vulndb.updaters.base import Member
from tidegate.scanner.vulndb.updaters.common import load_json, obj, opt_str, req_str
from tidegate.scanner.vulndb.updaters.jsonfiles import JsonFilesUpdater


def parse_entry(raw: object, source: str) -> Advisory:
    """One catalogue entry (`cveID`, `vulnerabilityName`, `dateAdded`, ...)."""
    entry = obj(raw, "KEV entry")
    return Advisory(
        id=req_str(entry, "cveID"),
        source=source,
        summary=opt_str(entry, "vulnerabilityName"),
        published=opt_str(entry, "dateAdded"),
        known_exploited=True,
    )


class KevUpdater(JsonFilesUpdater):
    """KEV as one JSON file per CVE (mirror) or CISA's single catalogue JSON (upstream)."""

    def records(self, member: Member) -> Iterator[Advisory]:
        doc = load_json(member)
        if isinstance(doc, Mapping) and isinstance(doc.get("vulnerabilities"), list):
            for raw in doc["vulnerabilities"]:
                yield parse_entry(raw, self.name)
        else:
            yield parse_entry(doc, self.name)
