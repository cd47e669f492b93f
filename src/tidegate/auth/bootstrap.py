"""First start: create the admin access key and hand it over once, like an initial password."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from tidegate.auth.keys import NewKey
from tidegate.auth.service import AuthService

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials"


def credentials_text(new: NewKey, profile: str = "default") -> str:
    """The AWS shared-credentials file body for `new`."""
    return (
        f"[{profile}]\n"
        f"aws_access_key_id = {new.key.access_key_id}\n"
        f"aws_secret_access_key = {new.secret}\n"
    )


def ensure_admin_key(auth: AuthService, data_dir: Path) -> NewKey | None:
    """Create the admin key when no key was ever created; write and log it exactly once.

    The file is created exclusively with mode 0600 so no other user can read it; if it
    already exists (a restored data directory) it is left alone and only the log line shows
    the new key.
    """
    if auth.keys.count() > 0:
        return None
    new = auth.keys.create("admin", "initial admin key created on first start")
    path = data_dir / CREDENTIALS_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        log.warning("not overwriting existing credentials file %s", path)
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(credentials_text(new))
    # Printed once on purpose: the operator's only other copy is the 0600 file.
    log.warning(
        "created the initial admin access key (shown once; also in %s): "
        "aws_access_key_id=%s aws_secret_access_key=%s",
        path,
        new.key.access_key_id,
        new.secret,
    )
    return new
