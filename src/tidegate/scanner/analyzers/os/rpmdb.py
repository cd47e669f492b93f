"""Read header blobs out of the three rpmdb backends without the rpm library.

* sqlite (`rpmdb.sqlite`): table `Packages(hnum, blob)`.
* ndb (`Packages.db`): rpm's own format; slot pages point at 16-byte-aligned blobs.
* BerkeleyDB hash (`Packages`): headers live on overflow-page chains referenced from hash
  pages; both byte orders are accepted.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path

from tidegate.scanner.analyzers.base import AnalyzerError

_NDB_MAGIC = b"RpmP"
_NDB_SLOT = b"Slot"
_NDB_BLOB = b"BlbS"
_HASH_MAGIC = 0x061561
_P_HASH_UNSORTED, _P_OVERFLOW, _P_HASH = 2, 7, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
_MAX_BLOB = 64 << 20
# Shorter inline values are rpm's bookkeeping records (next instance number), not headers.
_MIN_INLINE = 16


def sqlite_blobs(path: Path) -> Iterator[bytes]:
    """Header blobs of an rpm SQLite database, opened read-only and immutable."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            rows = con.execute("SELECT blob FROM Packages ORDER BY hnum").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        msg = f"unreadable rpm sqlite database: {exc}"
        raise AnalyzerError(msg) from exc
    for (blob,) in rows:
        if isinstance(blob, bytes):
            yield blob


def ndb_blobs(data: bytes) -> Iterator[bytes]:
    """Header blobs of an ndb `Packages.db`."""
    if len(data) < 32 or data[:4] != _NDB_MAGIC:
        msg = "not an ndb Packages.db (bad magic)"
        raise AnalyzerError(msg)
    slot_pages = struct.unpack_from("<I", data, 12)[0]
    end = min(slot_pages * 4096, len(data))
    for off in range(32, end - 15, 16):
        magic, pkgidx, blkoff, blkcnt = struct.unpack_from("<4sIII", data, off)
        if magic != _NDB_SLOT:
            msg = f"corrupt ndb slot at offset {off}"
            raise AnalyzerError(msg)
        if pkgidx == 0:
            continue
        start = blkoff * 16
        if start + 16 > len(data) or blkcnt * 16 > _MAX_BLOB:
            msg = f"ndb slot {pkgidx} points outside the file"
            raise AnalyzerError(msg)
        bmagic, bidx, _cksum, blen = struct.unpack_from("<4sIII", data, start)
        if bmagic != _NDB_BLOB or bidx != pkgidx or start + 16 + blen > len(data):
            msg = f"corrupt ndb blob for package {pkgidx}"
            raise AnalyzerError(msg)
        yield data[start + 16 : start + 16 + blen]


def _bdb_order(data: bytes) -> str:
    for order in ("<", ">"):
        if struct.unpack_from(order + "I", data, 12)[0] == _HASH_MAGIC:
            return order
    msg = "not a BerkeleyDB hash database (bad magic)"
    raise AnalyzerError(msg)


def bdb_blobs(data: bytes) -> Iterator[bytes]:
    """Header blobs stored off-page in a BerkeleyDB hash `Packages` file."""
    if len(data) < 512:
        msg = "BerkeleyDB file too short"
        raise AnalyzerError(msg)
    order = _bdb_order(data)
    pagesize = struct.unpack_from(order + "I", data, 20)[0]
    if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
        msg = f"implausible BerkeleyDB page size {pagesize}"
        raise AnalyzerError(msg)
    if data[24]:
        msg = "encrypted BerkeleyDB database"
        raise AnalyzerError(msg)
    npages = len(data) // pagesize
    for pgno in range(1, npages):
        page = data[pgno * pagesize : (pgno + 1) * pagesize]
        if page[25] not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        entries = struct.unpack_from(order + "H", page, 20)[0]
        if 26 + 2 * entries > pagesize:
            msg = f"corrupt BerkeleyDB hash page {pgno}"
            raise AnalyzerError(msg)
        offsets = struct.unpack_from(f"{order}{entries}H", page, 26)
        for idx in range(1, entries, 2):  # odd slots hold values, even ones keys
            off = offsets[idx]
            if off >= pagesize:
                continue
            if page[off] == _H_KEYDATA:
                # Items fill the page from its end: an item ends where the previous begins.
                end = offsets[idx - 1]
                if end - off - 1 > _MIN_INLINE and end <= pagesize:
                    yield page[off + 1 : end]
                continue
            if off + 12 > pagesize or page[off] != _H_OFFPAGE:
                continue
            first, total = struct.unpack_from(order + "II", page, off + 4)
            yield _overflow(data, order, pagesize, first, total)


def _overflow(data: bytes, order: str, pagesize: int, pgno: int, total: int) -> bytes:
    if total > _MAX_BLOB:
        msg = f"BerkeleyDB item of {total} bytes"
        raise AnalyzerError(msg)
    out = bytearray()
    seen: set[int] = set()
    while pgno and len(out) < total:
        if pgno in seen or (pgno + 1) * pagesize > len(data):
            msg = f"broken BerkeleyDB overflow chain at page {pgno}"
            raise AnalyzerError(msg)
        seen.add(pgno)
        page = data[pgno * pagesize : (pgno + 1) * pagesize]
        if page[25] != _P_OVERFLOW:
            msg = f"page {pgno} is not an overflow page"
            raise AnalyzerError(msg)
        nxt = struct.unpack_from(order + "I", page, 16)[0]
        length = struct.unpack_from(order + "H", page, 22)[0]
        out += page[26 : 26 + length]
        pgno = nxt
    if len(out) != total:
        msg = "truncated BerkeleyDB overflow chain"
        raise AnalyzerError(msg)
    return bytes(out)
