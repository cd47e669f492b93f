"""Fetching a source location: a local path or an HTTP(S) URL, with conditional GET.

A fingerprint is a small JSON object: `sha256` of the bytes for local files, the directory
listing's digest for directories, and `etag`/`last_modified`/`sha256` for downloads, so an
unchanged feed raises `Unchanged` without being downloaded again (HTTP 304).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import httpx

from tidegate.scanner.vulndb.payloads import FilesPayload, open_payload
from tidegate.scanner.vulndb.updaters.base import Fingerprint, Payload, Unchanged, UpdaterError

_CHUNK = 1 << 20


def is_url(location: str) -> bool:
    """True when `location` is an HTTP(S) URL rather than a local path."""
    return location.startswith(("http://", "https://"))


def join(base: str, rel: str) -> str:
    """Join a mirror root and a relative path, for URLs and paths alike."""
    if not rel:
        return base
    if is_url(base):
        return base.rstrip("/") + "/" + rel.lstrip("/")
    return str(Path(base) / rel)


def _load(fp: Fingerprint | None) -> dict[str, str]:
    if not fp:
        return {}
    try:
        data = json.loads(fp)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _dump(data: dict[str, str]) -> Fingerprint:
    return Fingerprint(json.dumps(data, sort_keys=True, separators=(",", ":")))


def local_fingerprint(path: Path) -> Fingerprint:
    """Digest of a file's bytes, or of a directory's (path, size, mtime) listing."""
    if path.is_dir():
        digest = hashlib.sha256()
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for fname in sorted(filenames):
                full = Path(dirpath) / fname
                st = full.stat()
                rel = full.relative_to(path).as_posix()
                digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return _dump({"dir": digest.hexdigest()})
    with path.open("rb") as fh:
        return _dump({"sha256": hashlib.file_digest(fh, "sha256").hexdigest()})


def fetch_location(
    location: str, prior: Fingerprint | None, http: httpx.Client, download_dir: Path
) -> tuple[Payload, Fingerprint]:
    """Open `location` as a payload; raise Unchanged if its fingerprint equals `prior`."""
    if is_url(location):
        path, fp = download(location, prior, http, download_dir)
        return open_payload(path, location.rsplit("/", 1)[-1], owned=True), fp
    path = Path(location)
    if not path.exists():
        msg = f"source not found: {location}"
        raise UpdaterError(msg)
    fp = local_fingerprint(path)
    if prior is not None and _load(fp) == _load(prior):
        raise Unchanged(location)
    return open_payload(path, path.name), fp


def download(
    url: str, prior: Fingerprint | None, http: httpx.Client, download_dir: Path
) -> tuple[Path, Fingerprint]:
    """GET `url` into a temporary file, conditionally on `prior`'s ETag/Last-Modified."""
    old = _load(prior)
    headers = {"Accept-Encoding": "identity"}
    if old.get("etag"):
        headers["If-None-Match"] = old["etag"]
    if old.get("last_modified"):
        headers["If-Modified-Since"] = old["last_modified"]
    download_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="download-", dir=download_dir)
    path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as out, http.stream("GET", url, headers=headers) as resp:
            if resp.status_code == 304:
                raise Unchanged(url)
            if resp.status_code != 200:
                msg = f"GET {url}: HTTP {resp.status_code}"
                raise UpdaterError(msg)
            digest, size = _copy(resp, out)
            _check_length(url, resp, size)
        new = {"sha256": digest}
        for key, header in (("etag", "ETag"), ("last_modified", "Last-Modified")):
            if resp.headers.get(header):
                new[key] = resp.headers[header]
    except httpx.HTTPError as exc:
        path.unlink(missing_ok=True)
        msg = f"GET {url}: {exc}"
        raise UpdaterError(msg) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if old.get("sha256") == digest:
        # A server without validators sent the same bytes again: still unchanged.
        path.unlink(missing_ok=True)
        raise Unchanged(url)
    return path, _dump(new)


def _copy(resp: httpx.Response, out: object) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    write = out.write  # type: ignore[attr-defined]
    for chunk in resp.iter_raw(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        write(chunk)
    return digest.hexdigest(), size


def _check_length(url: str, resp: httpx.Response, size: int) -> None:
    expected = resp.headers.get("Content-Length")
    if expected is not None and expected.isdigit() and int(expected) != size:
        msg = f"GET {url}: truncated download ({size} of {expected} bytes)"
        raise UpdaterError(msg)


def fetch_many(
    urls: list[tuple[str, str]], prior: Fingerprint | None, http: httpx.Client, download_dir: Path
) -> tuple[Payload, Fingerprint]:
    """Download several (name, url) files as one payload; 404s are left out.

    Raises Unchanged only when every file is unchanged; otherwise all are fetched anew so the
    payload is complete.
    """
    old = _load(prior)
    fetched: list[tuple[str, Path]] = []
    prints: dict[str, str] = {}
    changed = False
    try:
        for name, url in urls:
            one_prior = Fingerprint(old[url]) if url in old else None
            try:
                path, fp = download(url, one_prior, http, download_dir)
            except Unchanged:
                prints[url] = old[url]
                continue
            except UpdaterError as exc:
                if "HTTP 404" in str(exc):
                    continue
                raise
            changed = True
            prints[url] = fp
            fetched.append((name, path))
        if not changed:
            raise Unchanged(",".join(u for _, u in urls))
        have = {n for n, _ in fetched}
        for name, url in urls:
            if url in prints and name not in have:
                path, prints[url] = download(url, None, http, download_dir)
                fetched.append((name, path))
    except BaseException:
        for _, path in fetched:
            path.unlink(missing_ok=True)
        raise
    fetched.sort()
    return FilesPayload(fetched, owned=True), _dump(prints)
