"""First start: create the admin access key and hand it over once, like an initial password."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from tidegate.auth.keys import NewKey
from tidegate.auth.service import AuthService

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials"
ADMIN_USER = "admin"


def credentials_text(new: NewKey, profile: str = "default") -> str:
    """The AWS shared-credentials file body for `new`."""
    return (
        f"[{profile}]\n"
        f"aws_access_key_id = {new.key.access_key_id}\n"
        f"aws_secret_access_key = {new.secret}\n"
    )


def ensure_admin_key(
    auth: AuthService, data_dir: Path, terminal: TextIO | None = None
) -> NewKey | None:
    """Create the admin key when no key was ever created; hand it over exactly once.

    The file is created exclusively with mode 0600 so no other user can read it; if it
    already exists (a restored data directory) it is left alone. The secret is printed
    straight to the terminal, never through `logging`: log records are shipped and kept
    (journald, JSON collectors), a terminal is not. When stderr is not a terminal (a service
    manager, a test harness) only the key ID and the file's path are printed.
    """
    if auth.keys.count() > 0:
        return None
    # The first key keeps full access: its user gets AdministratorAccess.
    auth.users.ensure(ADMIN_USER, "AdministratorAccess")
    new = auth.keys.create(ADMIN_USER, "initial admin key created on first start")
    path = data_dir / CREDENTIALS_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        log.warning("not overwriting existing credentials file %s", path)
        written = False
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(credentials_text(new))
        written = True
    out = terminal if terminal is not None else sys.stderr
    # Without the file the terminal is the operator's only copy, so it gets the secret.
    show_secret = out.isatty() or not written
    secret = f" aws_secret_access_key={new.secret}" if show_secret else ""
    print(
        f"tidegate: created the initial admin access key (shown once; also in {path}): "
        f"aws_access_key_id={new.key.access_key_id}{secret}",
        file=out,
        flush=True,
    )
    return new
