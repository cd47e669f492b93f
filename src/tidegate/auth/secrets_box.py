"""The data directory's master key: encrypts access-key secrets at rest and signs tokens.

SigV4 verification needs each secret in clear, so secrets are encrypted (Fernet: AES-128-CBC
plus HMAC-SHA256, from `cryptography`), not hashed. The key lives in `<data-dir>/master.key`,
created once with mode 0600; replicas sharing one database must share this file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from tidegate.errors import StorageError

KEY_FILE = "master.key"


def load_or_create_master_key(data_dir: Path) -> bytes:
    """The Fernet key in `data_dir`, generated on first use (exclusive create, mode 0600)."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key


class SecretBox:
    """Encrypts and decrypts access-key secrets; derives purpose-bound signing keys."""

    def __init__(self, master_key: bytes) -> None:
        self._fernet = Fernet(master_key)
        self._master = master_key

    def seal(self, secret: str) -> bytes:
        """Ciphertext for `secret`."""
        return self._fernet.encrypt(secret.encode())

    def open(self, ciphertext: bytes) -> str:
        """The secret sealed in `ciphertext`; a foreign master key is a storage fault."""
        try:
            return self._fernet.decrypt(ciphertext).decode()
        except InvalidToken as exc:
            msg = "an access key cannot be decrypted with this data directory's master.key"
            raise StorageError(msg) from exc

    def opens(self, ciphertext: bytes) -> bool:
        """Whether `ciphertext` was sealed with this master key."""
        try:
            self._fernet.decrypt(ciphertext)
        except InvalidToken:
            return False
        return True

    def derive(self, purpose: str) -> bytes:
        """A key for `purpose` alone, so a token key never doubles as the encryption key."""
        return hmac.new(self._master, purpose.encode(), hashlib.sha256).digest()
