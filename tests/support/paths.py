"""Where the shared offline vulnerability-data mirror is: `shared/vulndata` beside the clone
(as on developer machines and in CI), or wherever TIDEGATE_TEST_VULNDATA says."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VULNDATA = Path(os.environ.get("TIDEGATE_TEST_VULNDATA", REPO_ROOT.parent / "shared" / "vulndata"))
OCI_CONFORMANCE = Path(
    os.environ.get(
        "TIDEGATE_TEST_OCI_CONFORMANCE", REPO_ROOT.parent / "shared" / "tools" / "oci-conformance"
    )
)
